"""Build-time trainer for the intent model (pure Python, no extra dependency).

Reads the train split of tests/corpus/texts.jsonl (never the test split), augments it (typos,
casing, emoji, SMS abbreviations, accents), trains a multinomial logistic regression with
AdaGrad over the features of careloop.agent.features, fits a softmax temperature on 5-fold
out-of-fold predictions, prunes and quantises the weights, and writes
layers/core/careloop/data/intent_model.json.

    .venv/bin/python tests/corpus/train.py            # train + write the model
    .venv/bin/python tests/corpus/train.py --cv-only  # just the cross-validation report
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import math
import multiprocessing
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "layers" / "core"))

from careloop.agent import classifier, cues, features, safety  # noqa: E402
from careloop.agent.model import IntentModel  # noqa: E402
from careloop.sms import keywords  # noqa: E402

CORPUS = ROOT / "tests" / "corpus" / "texts.jsonl"
OUT = ROOT / "layers" / "core" / "careloop" / "data" / "intent_model.json"
LABELS = list(classifier.LABELS)
QUANT = 30  # weights are stored as round(w * QUANT)
PRUNE = 2  # ... and dropped when |round(w * QUANT)| < PRUNE (keeps the file well under 2 MB)
SEED = 7

# --- augmentation ------------------------------------------------------------------------
_KEYS = "qwertyuiopasdfghjklzxcvbnm"
_NEAR = {c: _KEYS[max(0, i - 1)] + _KEYS[min(len(_KEYS) - 1, i + 1)] for i, c in enumerate(_KEYS)}
_ABBREV = [("you", "u"), ("your", "ur"), ("please", "pls"), ("appointment", "appt"), ("tomorrow", "tmrw"),
           ("thanks", "thx"), ("are", "r"), ("minutes", "min"), ("because", "bc"), ("que", "q"),
           ("por favor", "porfa"), ("be", "b"), ("okay", "ok"), ("prescription", "rx"), ("see you", "c u"),
           ("gracias", "grax"), ("para", "pa"), ("I'm", "im"), ("don't", "dont"), ("can't", "cant")]
_EMOJI = ["👍", "🙏", "😊", "😭", "🙄", "😅", "❤️", "🤷‍♀️", "😩", "!!", "??", "..."]


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(4)
    if op == 0:
        return word[:i] + word[i + 1:]
    if op == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == 2:
        return word[:i] + word[i] + word[i:]
    c = word[i].lower()
    return word[:i] + rng.choice(_NEAR.get(c, c)) + word[i + 1:]


def augment(text: str, rng: random.Random) -> str:
    t = text
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(7)
        if op == 0:
            words = t.split()
            if words:
                j = rng.randrange(len(words))
                words[j] = _typo(words[j], rng)
                t = " ".join(words)
        elif op == 1:
            t = rng.choice([t.lower(), t.upper(), t.capitalize()])
        elif op == 2:
            t = "".join(c for c in t if c.isalnum() or c.isspace() or ord(c) > 127)
        elif op == 3:
            t = t + " " + rng.choice(_EMOJI)
        elif op == 4:
            t = features.strip_accents(t)
        elif op == 5:
            long, short = rng.choice(_ABBREV)
            t = t.replace(long, short).replace(long.capitalize(), short)
        else:
            words = t.split()
            if len(words) > 3:
                j = rng.randrange(len(words))
                words[j] = _typo(words[j], rng)
                t = " ".join(words)
    return t


# --- data --------------------------------------------------------------------------------
def load_corpus(split: str | None = None) -> list[dict]:
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if split is None or r["split"] == split]


def featurize(text: str) -> list[str]:
    canon = safety.canonical(text)
    return features.features(text, cues.cue_labels(canon), cues.weak_labels(canon))


def expand(rows: list[dict], copies: int, rng: random.Random) -> list[tuple[str, int]]:
    out = []
    for r in rows:
        y = LABELS.index(r["intent"])
        out.append((r["text"], y))
        if keywords.keyword_kind(r["text"]):
            continue  # a misspelt carrier keyword is not a keyword
        for _ in range(copies):
            out.append((augment(r["text"], rng), y))
    return out


# --- logistic regression -----------------------------------------------------------------
def train_lr(data: list[tuple[list[str], int]], epochs: int = 8, lr: float = 0.3, l2: float = 1e-4,
             min_count: int = 3, seed: int = SEED) -> dict:
    counts = collections.Counter(f for feats, _ in data for f in feats)
    vocab = {f: i for i, f in enumerate(sorted(f for f, c in counts.items() if c >= min_count))}
    k = len(LABELS)
    W = [[0.0] * k for _ in vocab]
    G = [[1e-6] * k for _ in vocab]
    b = [0.0] * k
    gb = [1e-6] * k
    rows = []
    for feats, y in data:
        n = features.norm(feats)
        rows.append(([(vocab[f], features.value(f) * n) for f in feats if f in vocab], y))
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(rows)
        for idx, y in rows:
            z = b[:]
            for i, x in idx:
                wi = W[i]
                for j in range(k):
                    z[j] += wi[j] * x
            m = max(z)
            e = [math.exp(v - m) for v in z]
            s = sum(e)
            g = [e[j] / s for j in range(k)]
            g[y] -= 1.0
            for j in range(k):
                gj = g[j]
                gb[j] += gj * gj
                b[j] -= lr * gj / math.sqrt(gb[j])
            active = [j for j in range(k) if abs(g[j]) > 1e-4]
            for i, x in idx:
                wi, gi = W[i], G[i]
                for j in active:
                    grad = g[j] * x + l2 * wi[j]
                    gi[j] += grad * grad
                    wi[j] -= lr * grad / math.sqrt(gi[j])
    weights = {}
    for f, i in vocab.items():
        row = []
        v = features.value(f)
        # softmax is unchanged when one feature's weights all shift by the same amount: centre
        # each row on its median so most classes sit near zero, then keep the sparse rest
        centre = statistics.median(W[i])
        for j, w in enumerate(W[i]):
            q = round((w - centre) * v * QUANT)
            if abs(q) >= PRUNE:
                row += [j, q]
        if row:
            weights[f] = row
    return {"labels": LABELS, "bias": [round(v, 4) for v in b], "scale": 1.0 / QUANT, "temperature": 1.0, "weights": weights}


def fit_temperature(logits: list[list[float]], ys: list[int]) -> float:
    def nll(t: float) -> float:
        total = 0.0
        for z, y in zip(logits, ys, strict=True):
            m = max(z)
            s = sum(math.exp((v - m) / t) for v in z)
            total -= (z[y] - m) / t - math.log(s)
        return total / len(ys)
    best = min((nll(t / 20), t / 20) for t in range(6, 81))
    return best[1]


def ece(confs: list[float], correct: list[bool], bins: int = 10) -> float:
    total = len(confs)
    err = 0.0
    for bidx in range(bins):
        lo, hi = bidx / bins, (bidx + 1) / bins
        sel = [i for i, c in enumerate(confs) if (lo < c <= hi) or (bidx == 0 and c == 0)]
        if sel:
            acc = sum(correct[i] for i in sel) / len(sel)
            conf = sum(confs[i] for i in sel) / len(sel)
            err += len(sel) / total * abs(acc - conf)
    return err


def fold_of(text: str, folds: int) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % folds


def _fold(args: tuple[list[dict], int, int, int]) -> tuple[dict, list[dict]]:
    rows, folds, fold, copies = args
    tr = [r for r in rows if fold_of(r["text"], folds) != fold]
    te = [r for r in rows if fold_of(r["text"], folds) == fold]
    data = [(featurize(t), y) for t, y in expand(tr, copies, random.Random(SEED + fold))]
    return train_lr(data), te


def cross_validate(rows: list[dict], folds: int, copies: int, verbose: bool) -> tuple[float, list[dict]]:
    """Out-of-fold predictions of the full classifier (train split only): fits the softmax
    temperature, measures the accuracy of priority decisions, reports accuracy and ECE."""
    t0 = time.time()
    with multiprocessing.Pool(min(folds, os.cpu_count() or 1)) as pool:
        trained = pool.map(_fold, [(rows, folds, f, copies) for f in range(folds)])
    if verbose:
        print(f"  {folds} folds trained in {time.time() - t0:.0f}s", file=sys.stderr)
    logits, ys = [], []
    results = [(IntentModel(m), te) for m, te in trained]
    for m, te in results:
        for r in te:
            logits.append(m.logits(featurize(r["text"])))
            ys.append(LABELS.index(r["intent"]))
    temperature = fit_temperature(logits, ys)
    errors, confs, correct, by_reason = [], [], [], collections.defaultdict(list)
    for m, te in results:
        m.temperature = temperature
        for r in te:
            p = classifier.classify(r["text"], model=m)
            ok = p.intent == r["intent"]
            confs.append(p.confidence)
            correct.append(ok)
            by_reason[p.reason.split(":")[0]].append(ok)
            if not ok:
                errors.append({"text": r["text"], "gold": r["intent"], "pred": p.intent, "conf": p.confidence, "reason": p.reason})
    n = len(correct)
    print(f"CV ({folds}-fold, train split only): accuracy {sum(correct) / n:.3f} on {n}; temperature {temperature:.2f}; ECE {ece(confs, correct):.3f}")
    for reason, oks in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
        print(f"  decided by {reason[:34]:<34} {len(oks):5d} texts, accuracy {sum(oks) / len(oks):.3f}")
    return temperature, errors


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cv-only", action="store_true")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--copies", type=int, default=2, help="augmented copies per training text")
    ap.add_argument("--errors", action="store_true", help="print the cross-validation errors")
    ap.add_argument("--no-resolve", action="store_true", help="(diagnostic) model argmax without the priority rules")
    args = ap.parse_args(argv)
    if args.no_resolve:
        classifier.resolve = lambda probs, found: (max(probs, key=probs.get), "model")
    rows = load_corpus("train")
    temperature, errors = cross_validate(rows, args.folds, args.copies, verbose=True)
    if args.errors or args.cv_only:
        for e in sorted(errors, key=lambda e: (e["gold"], e["pred"])):
            print(f"  {e['gold']:>12} -> {e['pred']:<12} {e['conf']:.2f}  {e['text'][:90]!r}  [{e['reason'][:40]}]")
    if args.cv_only:
        return 0
    data = [(featurize(t), y) for t, y in expand(rows, args.copies, random.Random(SEED))]
    model = train_lr(data)
    model["temperature"] = temperature
    model["meta"] = {"trained_on": "tests/corpus/texts.jsonl split=train", "texts": len(rows),
                     "augmented_copies": args.copies, "features": len(model["weights"])}
    OUT.write_text(json.dumps(model, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(model['weights'])} features, {OUT.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
