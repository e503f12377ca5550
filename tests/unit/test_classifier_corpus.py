"""The shipped classifier on the held-out corpus split and on the blind set (floors, so regressions
fail CI), the corpus's own shape, the blind set kept out of training, and the lazy loading of
the weights."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path

import pytest

from careloop.agent.classifier import LABELS, classify

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus" / "texts.jsonl"
WEIGHTS = ROOT / "layers" / "core" / "careloop" / "data" / "intent_model.json"


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def held_out(corpus) -> list[tuple[dict, str]]:
    return [(r, classify(r["text"]).intent) for r in corpus if r["split"] == "test"]


def test_corpus_is_big_varied_and_labelled_with_the_contract(corpus):
    # Given the corpus / Then it has the size, labels, language mix, hard share and split of issue #5
    assert len(corpus) >= 2000
    assert {r["intent"] for r in corpus} == set(LABELS)
    assert all(set(r) >= {"text", "intent", "language", "hard", "split"} for r in corpus)
    assert len({r["text"] for r in corpus}) == len(corpus), "duplicate texts"
    share = collections.Counter(r["language"] for r in corpus)["es"] / len(corpus)
    assert 0.18 <= share <= 0.35
    assert sum(r["hard"] for r in corpus) / len(corpus) >= 0.30
    test_share = sum(r["split"] == "test" for r in corpus) / len(corpus)
    assert 0.17 <= test_share <= 0.30


def test_held_out_accuracy_floor(held_out):
    # When the shipped classifier labels the held-out split
    correct = sum(r["intent"] == pred for r, pred in held_out)
    # Then at least 95% are right
    assert correct / len(held_out) >= 0.95


def test_held_out_spanish_floor(held_out):
    es = [(r, p) for r, p in held_out if r["language"] == "es"]
    assert sum(r["intent"] == p for r, p in es) / len(es) >= 0.90


@pytest.mark.parametrize("intent", ["urgent", "opt_out"])
def test_held_out_recall_of_urgent_and_opt_out_is_total(held_out, intent):
    # Given every held-out text labelled urgent / opt_out / Then none is missed
    missed = [r["text"] for r, p in held_out if r["intent"] == intent and p != intent]
    assert missed == []


def test_weights_are_compact():
    assert WEIGHTS.stat().st_size < 2 * 1024 * 1024


def test_importing_the_classifier_does_not_load_the_weights():
    # Given a fresh interpreter
    probe = (
        "import sys, careloop.agent.classifier as c, careloop.agent.model as m; "
        "assert m._cache == {} and not m.is_loaded(), 'weights loaded at import'; "
        "heavy = {'numpy', 'sklearn', 'torch', 'boto3'} & set(sys.modules); assert not heavy, heavy; "
        "c.classify('what time do you open?'); assert m.is_loaded(); print('ok')"
    )
    # When the classifier module is imported, then used once
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    # Then the weights were loaded by the first classification, not by the import
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


# --- the blind set (tests/corpus/blind): never trained or tuned on ------------------------------
BLIND = ROOT / "tests" / "corpus" / "blind"
# Regression floors at what the shipped model measured on the blind set (make eval: accuracy
# 95.8%, Spanish 96.8%, urgent recall 100%, opt-out recall 100% / precision 98.1%), a hair below
# where a figure can move by one text; urgent and opt-out recall are held at issue #9's 100%.
BLIND_FLOORS = {"accuracy": 0.95, "spanish": 0.96, "urgent_recall": 1.0, "opt_out_recall": 1.0, "opt_out_precision": 0.98}


@pytest.fixture(scope="module")
def blind() -> list[tuple[dict, str]]:
    rows = [json.loads(line) for path in sorted(BLIND.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r, classify(r["text"]).intent) for r in rows]


def test_blind_set_is_the_size_issue_9_asks_for(blind):
    rows = [r for r, _ in blind]
    assert len(rows) >= 600
    urgent = [r for r in rows if r["intent"] == "urgent"]
    assert len(urgent) >= 80
    assert sum("self_harm" in (r["kind"] or "") for r in urgent) >= 40
    assert sum("mixed" in (r["kind"] or "") for r in urgent) >= len(urgent) / 3
    assert sum((r["kind"] or "").startswith(("opt_out", "trap")) for r in rows) >= 60


def test_blind_set_floors(blind):
    def rate(pairs):
        return sum(r["intent"] == p for r, p in pairs) / len(pairs)

    assert rate(blind) >= BLIND_FLOORS["accuracy"]
    assert rate([(r, p) for r, p in blind if r["language"] == "es"]) >= BLIND_FLOORS["spanish"]
    assert rate([(r, p) for r, p in blind if r["intent"] == "urgent"]) >= BLIND_FLOORS["urgent_recall"]
    assert rate([(r, p) for r, p in blind if r["intent"] == "opt_out"]) >= BLIND_FLOORS["opt_out_recall"]
    predicted_opt_out = [(r, p) for r, p in blind if p == "opt_out"]
    assert rate(predicted_opt_out) >= BLIND_FLOORS["opt_out_precision"]


def test_the_trainer_never_reads_the_blind_set():
    # Given the trainer's corpus / Then no blind text longer than a common reply is in it
    sys.path.insert(0, str(ROOT / "tests" / "corpus"))
    import train

    trained = {r["text"] for r in train.corpus_rows()}
    for folder in ("blind",):
        for path in (ROOT / "tests" / "corpus" / folder).glob("*.jsonl"):
            texts = {json.loads(x)["text"] for x in path.read_text(encoding="utf-8").splitlines() if x.strip()}
            # short common replies ("C", "STOP", "ok see you then") are written alike by anyone: 11
            # blind texts of three to seven words also occur, verbatim, among the training texts
            short = {t for t in texts if len(t.split()) <= 7}
            assert not (texts - short) & trained, f"{path.name} overlaps the training corpus"
    # and no file it reads lies in the blind (or dev) folder
    for path in train.corpus_files():
        assert not {"blind", "dev"} & set(path.relative_to(ROOT / "tests" / "corpus").parts[:-1])
