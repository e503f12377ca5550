"""Run-time scorer for the intent model: multinomial logistic regression over sparse binary
features, weights shipped as compact JSON (careloop/data/intent_model.json), loaded on first
use (never at import) and scored in pure Python with a fitted softmax temperature."""

from __future__ import annotations

import json
import math
from pathlib import Path

from careloop.agent.features import norm

MODEL_FILE = "intent_model.json"

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


def load(path: str | Path | None = None) -> IntentModel:
    """The shipped model (cached after the first call), or the one at `path`."""
    if path is not None:
        return IntentModel(json.loads(Path(path).read_text(encoding="utf-8")))
    model = _cache.get("model")
    if model is None:
        text = (Path(__file__).resolve().parents[1] / "data" / MODEL_FILE).read_text(encoding="utf-8")
        model = _cache["model"] = IntentModel(json.loads(text))
    return model  # type: ignore[return-value]


def is_loaded() -> bool:
    return "model" in _cache
