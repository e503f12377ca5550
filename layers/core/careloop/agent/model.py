"""Run-time scorer for the agent's two models, multinomial logistic regressions over sparse
binary features: the intent model (careloop/data/intent_model.json, 18 labels) and the safety
layer's urgent model (urgent_model.json: none / self_harm / medical, with the threshold on
P(urgent) chosen for recall). Weights ship as compact JSON, load on first use (never at
import) and score in pure Python with a fitted softmax temperature."""

from __future__ import annotations

import json
import math
import os

from careloop.agent.features import norm

MODEL_FILE = "intent_model.json"
URGENT_MODEL_FILE = "urgent_model.json"

_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
_cache: dict[str, object] = {}  # filled on first `load()`; empty right after import


class IntentModel:
    def __init__(self, data: dict) -> None:
        self.labels: tuple[str, ...] = tuple(data["labels"])
        self.bias: list[float] = [float(b) for b in data["bias"]]
        self.temperature: float = float(data.get("temperature", 1.0))
        self.scale: float = float(data.get("scale", 1.0))
        # feature -> flat [class index, weight (scaled int), class index, weight, ...]
        self.weights: dict[str, list[int]] = data["weights"]
        self.meta: dict = data.get("meta", {})
        # for a safety model: P(not "none") at or above this is urgent (chosen for recall)
        self.threshold: float = float(data.get("threshold", 0.5))

    def logits(self, feats: list[str]) -> list[float]:
        k = len(self.labels)
        acc = [0] * k
        for f in feats:
            row = self.weights.get(f)
            if row is None:
                continue
            for i in range(0, len(row), 2):
                acc[row[i]] += row[i + 1]
        # weights already include each feature's group value; normalise the vector's length
        s = self.scale * norm(feats)
        return [self.bias[j] + acc[j] * s for j in range(k)]

    def known_words(self, feats: list[str]) -> tuple[int, int]:
        """(words the model has weights for, words in the text): unknown text is not trusted."""
        words = [f for f in feats if f.startswith("w:")]
        return sum(1 for f in words if f in self.weights), len(words)

    def probabilities(self, feats: list[str]) -> dict[str, float]:
        z = self.logits(feats)
        t = self.temperature
        m = max(z)
        e = [math.exp((v - m) / t) for v in z]
        total = sum(e)
        return {label: e[i] / total for i, label in enumerate(self.labels)}


def load(path: str | os.PathLike | None = None) -> IntentModel:
    """A shipped model by file name (cached after the first call; default the intent model),
    or the model at a path."""
    name = MODEL_FILE if path is None else path
    if isinstance(name, str) and "/" not in name:
        model = _cache.get(name)
        if model is None:
            # os.path, not pathlib: pathlib (and urllib.parse behind it) cost ~10 ms of import
            with open(os.path.join(_DATA, name), encoding="utf-8") as f:
                text = f.read()
            model = _cache[name] = IntentModel(json.loads(text))
        return model  # type: ignore[return-value]
    with open(name, encoding="utf-8") as f:
        return IntentModel(json.loads(f.read()))


def is_loaded() -> bool:
    return MODEL_FILE in _cache
