"""`make eval`: the shipped classifier on three sets, each reported on its own:

- `held-out`: the corpus's test split (tests/corpus/texts.jsonl split=test and the held-out fifth
  of tests/corpus/train/*.jsonl), never trained on, but written by the same hands as the training
  texts and partly seen while writing rules;
- `dev`: tests/corpus/dev/ (outside writers not yet trained on), used to tune thresholds and rules;
- `blind`: tests/corpus/blind/ (two more outside writers), never trained or tuned on: the honest
  figure. Its per-text errors are never printed (`--errors` refuses it).

For each: accuracy overall / per language / hard, per-label precision and recall, urgent recall,
opt-out precision and recall, the confusion table, calibration (ECE), latency. Exits 1 when the
blind set misses a floor of issue #9 (accuracy >= 93%, Spanish >= 90%, urgent recall 100%,
opt-out precision >= 98% and recall 100%).

    .venv/bin/python tests/corpus/eval.py [--set held-out|dev|blind|all] [--errors] [--corpus FILE]
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "layers" / "core"))

CORPUS = ROOT / "tests" / "corpus" / "texts.jsonl"
DEV = ROOT / "tests" / "corpus" / "dev"
BLIND = ROOT / "tests" / "corpus" / "blind"
FLOORS = {"accuracy": 0.93, "spanish": 0.90, "urgent_recall": 1.0, "opt_out_precision": 0.98, "opt_out_recall": 1.0}
IMPORT_PROBE = (
    "import time; t0 = time.perf_counter(); import careloop.agent.classifier; "
    "print((time.perf_counter() - t0) * 1000)"
)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_set(name: str) -> list[dict]:
    if name == "held-out":
        sys.path.insert(0, str(ROOT / "tests" / "corpus"))
        import train

        return train.load_corpus("test")
    folder = DEV if name == "dev" else BLIND
    return [r for path in sorted(folder.glob("*.jsonl")) for r in read_jsonl(path)]


def load(split: str, corpus: Path = CORPUS) -> list[dict]:
    rows = read_jsonl(corpus)
    return [r for r in rows if split == "all" or r.get("split", "test") == split]


def ece(confs: list[float], correct: list[bool], bins: int = 10) -> float:
    """Expected calibration error over equal-width confidence bins."""
    err = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = [i for i, c in enumerate(confs) if lo < c <= hi or (b == 0 and c == 0.0)]
        if sel:
            acc = sum(correct[i] for i in sel) / len(sel)
            conf = sum(confs[i] for i in sel) / len(sel)
            err += len(sel) / len(confs) * abs(acc - conf)
    return err


def evaluate(rows: list[dict]) -> dict:
    from careloop.agent import classifier

    classifier.classify("warm up")  # loads the weights once, outside the timings
    preds, times = [], []
    for r in rows:
        t0 = time.perf_counter()
        p = classifier.classify(r["text"])
        times.append((time.perf_counter() - t0) * 1000)
        preds.append(p)
    correct = [p.intent == r["intent"] for p, r in zip(preds, rows, strict=True)]

    def acc_of(flags: list[bool]) -> float:
        return sum(flags) / len(flags) if flags else float("nan")

    def acc(sel: list[int]) -> float:
        return sum(correct[i] for i in sel) / len(sel) if sel else float("nan")

    by_lang = collections.defaultdict(list)
    by_label = collections.defaultdict(list)
    by_hard = collections.defaultdict(list)
    for i, r in enumerate(rows):
        by_lang[r["language"]].append(i)
        by_label[r["intent"]].append(i)
        by_hard["hard" if r.get("hard") else "plain"].append(i)
        by_hard["batch " + r["batch"]].append(i) if r.get("batch") else None
    predicted = collections.Counter(p.intent for p in preds)
    per_label = {}
    for label in classifier.LABELS:
        sel = by_label.get(label, [])
        tp = sum(correct[i] for i in sel)
        per_label[label] = {
            "support": len(sel), "recall": acc(sel),
            "precision": tp / predicted[label] if predicted[label] else float("nan"),
        }
    confusions = collections.Counter((r["intent"], p.intent) for r, p in zip(rows, preds, strict=True) if r["intent"] != p.intent)
    confs = [p.confidence for p in preds]
    times_sorted = sorted(times)
    return {
        "n": len(rows), "accuracy": acc(list(range(len(rows)))),
        "by_language": {k: (acc(v), len(v)) for k, v in sorted(by_lang.items())},
        "by_hardness": {k: (acc(v), len(v)) for k, v in sorted(by_hard.items())},
        "per_label": per_label, "confusions": confusions.most_common(12),
        "urgent_recall": per_label["urgent"]["recall"], "opt_out_recall": per_label["opt_out"]["recall"],
        "opt_out_precision": per_label["opt_out"]["precision"], "urgent_precision": per_label["urgent"]["precision"],
        # what the agent does, not the label: an opt-out beside an emergency is labelled urgent and
        # recorded as well (classifier.understand's also_opt_out)
        "opt_out_honoured": acc_of([p.intent == "opt_out" or bool(p.details.get("also_opt_out"))
                                    for p, r in zip(preds, rows, strict=True) if r["intent"] == "opt_out"]),
        "confusion": collections.Counter((r["intent"], p.intent) for r, p in zip(rows, preds, strict=True)),
        "ece": ece(confs, correct),
        "language_detection": sum(p.language == r["language"] for p, r in zip(preds, rows, strict=True)) / len(rows),
        "escalated": sum(p.escalate for p in preds) / len(rows),
        "below_threshold": sum(p.confidence < classifier.CONFIDENCE_THRESHOLD for p in preds) / len(rows),
        "accuracy_above_threshold": acc([i for i, p in enumerate(preds) if p.confidence >= classifier.CONFIDENCE_THRESHOLD]),
        "p50_ms": statistics.median(times), "p99_ms": times_sorted[min(len(times) - 1, int(0.99 * len(times)))],
        "max_ms": times_sorted[-1],
        "errors": [(r, p) for r, p, ok in zip(rows, preds, correct, strict=True) if not ok],
    }


def import_ms(runs: int = 5) -> float:
    out = []
    for _ in range(runs):
        res = subprocess.run([sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, check=True,
                             cwd=ROOT)
        out.append(float(res.stdout.strip().splitlines()[-1]))
    return statistics.median(out)


def report(name: str, m: dict, errors: bool) -> None:
    print(f"Intent classifier on the {name} set ({m['n']} texts)")
    print(f"  accuracy            {m['accuracy']:.1%}")
    for lang, (a, n) in m["by_language"].items():
        print(f"  language {lang:<10} {a:.1%}  ({n})")
    for kind, (a, n) in m["by_hardness"].items():
        print(f"  {kind:<19} {a:.1%}  ({n})")
    print(f"  urgent recall       {m['urgent_recall']:.1%}   precision {m['urgent_precision']:.1%}")
    print(f"  opt_out recall      {m['opt_out_recall']:.1%}   precision {m['opt_out_precision']:.1%}   "
          f"honoured {m['opt_out_honoured']:.1%} (labelled opt_out, or urgent with the opt-out recorded too)")
    print(f"  calibration ECE     {m['ece']:.3f}   (10 bins; accuracy when confidence >= threshold: "
          f"{m['accuracy_above_threshold']:.1%}, below threshold: {m['below_threshold']:.1%} of texts)")
    print(f"  language detection  {m['language_detection']:.1%}   escalated to staff: {m['escalated']:.1%}")
    print("  per label              recall  precision  support")
    for label, st in m["per_label"].items():
        print(f"    {label:<20} {st['recall']:7.1%}  {st['precision']:8.1%}  {st['support']:6d}")
    from careloop.agent.classifier import LABELS

    short = {label: label[:5] for label in LABELS}
    print("  confusion (rows gold, columns predicted)")
    print("    " + " " * 13 + " ".join(f"{short[c]:>5}" for c in LABELS))
    for g in LABELS:
        print(f"    {g:<13}" + " ".join(f"{m['confusion'].get((g, c), 0) or '.':>5}" for c in LABELS))
    print(f"  latency per message p50 {m['p50_ms']:.3f} ms, p99 {m['p99_ms']:.3f} ms, max {m['max_ms']:.3f} ms")
    if errors:
        print("  errors:")
        for r, p in m["errors"]:
            print(f"    {r['intent']:>12} -> {p.intent:<12} {p.confidence:.2f}  {r['text']!r}  [{p.reason}]")


def floors_missed(m: dict) -> list[str]:
    missed = []
    if m["accuracy"] < FLOORS["accuracy"]:
        missed.append(f"accuracy {m['accuracy']:.1%} < {FLOORS['accuracy']:.0%}")
    es = m["by_language"].get("es")
    if es and es[0] < FLOORS["spanish"]:
        missed.append(f"Spanish {es[0]:.1%} < {FLOORS['spanish']:.0%}")
    for key in ("urgent_recall", "opt_out_precision", "opt_out_recall"):
        if m[key] == m[key] and m[key] < FLOORS[key]:  # NaN (no such texts) is not a miss
            missed.append(f"{key.replace('_', ' ')} {m[key]:.1%} < {FLOORS[key]:.0%}")
    return missed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Evaluate the intent classifier: held-out split, dev set, blind set.")
    ap.add_argument("--set", default="all", choices=["held-out", "dev", "blind", "all"])
    ap.add_argument("--corpus", type=Path, help="(instead of --set) any JSON Lines with text, intent, language")
    ap.add_argument("--errors", action="store_true", help="list every misclassified text (not for the blind set)")
    args = ap.parse_args(argv)
    names = ["held-out", "dev", "blind"] if args.set == "all" else [args.set]
    sets = {args.corpus.name: read_jsonl(args.corpus)} if args.corpus else {n: load_set(n) for n in names}
    if args.errors and "blind" in sets:
        print("--errors is refused for the blind set: its texts stay unseen (use --set dev or held-out)", file=sys.stderr)
        return 2
    results = {}
    for name, rows in sets.items():
        if not rows:
            print(f"no texts in the {name} set", file=sys.stderr)
            return 2
        results[name] = evaluate(rows)
        report(name, results[name], args.errors)
    from careloop.agent import model as model_mod

    data = Path(model_mod.__file__).resolve().parents[1] / "data"
    sizes = ", ".join(f"{f}: {(data / f).stat().st_size / 1024:.0f} KiB" for f in (model_mod.MODEL_FILE, model_mod.URGENT_MODEL_FILE))
    print(f"import careloop.agent.classifier (fresh interpreter, median of 5): {import_ms():.1f} ms; weights {sizes}")
    if "blind" in results:
        missed = floors_missed(results["blind"])
        if missed:
            print("BLIND SET BELOW THE FLOORS OF ISSUE #9: " + "; ".join(missed))
            return 1
        print("OK: the blind set meets every floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
