#!/usr/bin/env python
"""Choose how much of a companion shared model's sentiment head to mix into a shared model's.

Late fusion of two differently built encoders: the sentiment probabilities become
``(1 - w) * p_model + w * p_companion``, where the companion (e.g. ``shared-v1``, fine-tuned
MiniLM, about a tenth of ``shared-v2``'s encoding cost) reads its own vectors of the same
sentence. The weight ``w`` is chosen on the tune slice of the sentiment training data
(``voiceminer.evaluation.datasets.in_tune_slice``: about 8% of the train split, held out of
both shared models' training), never on the validation split that ``voiceminer evaluate``
reports: the grid point with the best three-way accuracy there, the smallest on ties.

``--write`` records it in the model's ``config.json`` as ``sentiment_companion``
(``{"model", "weight", "tune_n", "tune_accuracy"}``); ``--weight 0`` with ``--write`` removes
it. The other heads (complaint, need) stay the model's own: fusion did not help them on the
tune slice when this was first measured, and they keep one encoder's vectors.

Usage:
    .venv/bin/python scripts/fit_sentiment_companion.py --model shared-v2 --companion shared-v1 [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from voiceminer.evaluation import datasets as ds
from voiceminer.evaluation.evaluate import SENTIMENT_LOADERS, Evaluator
from voiceminer.models.shared import shared_path

GRID = [round(0.05 * i, 2) for i in range(13)]  # 0 .. 0.6
LABELS = ("negative", "neutral", "positive")


def tune_examples(root: Path | None) -> list[ds.Example]:
    """The sentiment training corpora's tune slice (the shared models never trained on it)."""
    ev = Evaluator(root)
    return [e for name in SENTIMENT_LOADERS for e in ds.split(ev.load(name), "train") if ds.in_tune_slice(e.text)]


def choose(p_model: np.ndarray, p_companion: np.ndarray, gold: np.ndarray) -> tuple[float, dict[float, float]]:
    """(best weight, accuracy per grid weight): the smallest weight among the best."""
    acc = {w: float((np.array(LABELS)[((1 - w) * p_model + w * p_companion).argmax(1)] == gold).mean())
           for w in GRID}
    best = max(acc.values())
    return min(w for w, a in acc.items() if a == best), acc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="shared-v2")
    ap.add_argument("--companion", default="shared-v1")
    ap.add_argument("--datasets", default=None)
    ap.add_argument("--weight", type=float, default=None, help="use this weight instead of choosing one")
    ap.add_argument("--write", action="store_true", help="record the weight in the model's config.json")
    args = ap.parse_args()
    root = Path(args.datasets) if args.datasets else None
    try:
        examples = tune_examples(root)
    except ds.DatasetMissing as exc:
        sys.exit(f"fit_sentiment_companion: {exc}")
    texts, gold = [e.text for e in examples], np.array([e.label for e in examples])
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    probs = []
    for name in (args.model, args.companion):
        ev = Evaluator(root, log=log, shared_model=name)
        probs.append(ev.shared.heads_.predict(ev.shared_vectors(texts))["sentiment"])
    weight, acc = choose(probs[0], probs[1], gold)
    if args.weight is not None:
        weight = args.weight
    print(f"tune slice: {len(texts)} sentences ({', '.join(SENTIMENT_LOADERS)})")
    for w, a in acc.items():
        print(f"  weight {w:.2f}: accuracy {a:.4f}{'  <- chosen' if w == weight else ''}")
    if not args.write:
        return
    path = shared_path(None, args.model) / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    if weight <= 0:
        config.pop("sentiment_companion", None)
    else:
        config["sentiment_companion"] = {"model": args.companion, "weight": weight, "tune_n": len(texts),
                                         "tune_accuracy": {"alone": round(acc[0.0], 4),
                                                           "fused": round(acc.get(weight, float("nan")), 4)}}
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(f"wrote sentiment_companion to {path}")


if __name__ == "__main__":
    main()
