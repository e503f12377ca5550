"""`careloop classify` per spec/intents.md: JSON Lines in, one labelled line out per input line,
input fields passed through, a malformed line answered with {"error": ...} and the run going on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from careloop.agent.classifier import classify

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "careloop_local.cli", "classify"]


def run(stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run(CLI, input=stdin.encode("utf-8"), capture_output=True, cwd=ROOT, timeout=60)


def test_labels_each_line_in_order_and_passes_other_fields_through():
    # Given three messages with extra fields
    lines = [{"text": "STOP", "id": 1}, {"text": "¿A qué hora abren?", "id": 2, "from": "+15550001"},
             {"text": "I'm having chest pain", "id": 3}]
    # When they go through the command
    res = run("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    # Then one line each, in order, with the input's fields and the four contract fields
    assert res.returncode == 0, res.stderr
    out = [json.loads(x) for x in res.stdout.decode("utf-8").splitlines()]
    assert [o["id"] for o in out] == [1, 2, 3]
    assert out[1]["from"] == "+15550001" and out[1]["text"] == "¿A qué hora abren?"
    assert [o["intent"] for o in out] == ["opt_out", "hours", "urgent"]
    assert [o["language"] for o in out] == ["en", "es", "en"]
    assert [o["escalate"] for o in out] == [False, False, True]
    for o in out:
        assert 0.0 <= o["confidence"] <= 1.0 and isinstance(o["escalate"], bool)


def test_a_malformed_line_gets_an_error_and_the_run_goes_on():
    # Given a valid line, a broken one, a non-object, an object without text, and a valid line
    stdin = '{"text": "Yes"}\n{"text": "unterminated\n[1, 2]\n{"id": 9}\n{"text": "cancel it"}\n'
    # When classified
    res = run(stdin)
    # Then every input line has its output line, errors in place, and the exit status is 0
    assert res.returncode == 0, res.stderr
    out = [json.loads(x) for x in res.stdout.decode("utf-8").splitlines()]
    assert len(out) == 5
    assert out[0]["intent"] == "confirm" and out[4]["intent"] == "cancel"
    assert set(out[1]) == {"error"} and set(out[2]) == {"error"}
    assert "error" in out[3] and out[3]["id"] == 9 and "intent" not in out[3]


def test_same_classifier_as_the_agent():
    # Given texts of several kinds
    texts = ["Running late!", "Do you take Cigna?", "no quiero vivir", "ok see you thursday"]
    # When labelled by the command and by the agent's classifier
    res = run("".join(json.dumps({"text": t}) + "\n" for t in texts))
    out = [json.loads(x) for x in res.stdout.decode("utf-8").splitlines()]
    # Then both agree on every field
    for o, t in zip(out, texts, strict=True):
        p = classify(t)
        assert (o["intent"], o["confidence"], o["language"], o["escalate"]) == (p.intent, p.confidence, p.language, p.escalate)


def test_empty_input_gives_empty_output():
    res = run("")
    assert res.returncode == 0 and res.stdout == b""
