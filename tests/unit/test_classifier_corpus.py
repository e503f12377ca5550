"""The shipped classifier on the held-out corpus split (a floor, so regressions fail CI), the
corpus's own shape, and the lazy loading of the weights."""

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
