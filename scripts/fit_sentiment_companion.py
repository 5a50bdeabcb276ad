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
(``{"model", "weight", "encoder_key", "tune_n", "tune_accuracy"}``; the companion's encoder key,
so a retrained companion is refused until the weight is refitted); ``--weight 0 --write``
removes it without loading anything. "Accuracy" is argmax accuracy over the slice's three-way
and two-way (UCI, Hu & Liu: no neutral label) sentences. Only sentiment is mixed: when this
was first tried, a weight of 0.3 lowered complaint F1 (0.883 -> 0.879) and need F1
(0.803 -> 0.794) on the validation split, so those heads read the main model's vectors alone
(a choice made on validation figures, for what it is worth).

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
from voiceminer.evaluation.evaluate import SENTIMENT_LOADERS, Evaluator, VectorDiskCache
from voiceminer.models.shared import SharedModel, fuse, shared_path

GRID = [round(0.05 * i, 2) for i in range(13)]  # 0 .. 0.6


def tune_examples(root: Path | None) -> list[ds.Example]:
    """The sentiment training corpora's tune slice (the shared models never trained on it)."""
    ev = Evaluator(root)
    return [e for name in SENTIMENT_LOADERS for e in ds.split(ev.load(name), "train") if ds.in_tune_slice(e.text)]


def accuracy(p_model: np.ndarray, p_companion: np.ndarray, gold: np.ndarray, labels: np.ndarray,
             weight: float) -> float:
    """Argmax accuracy of the fused probabilities (columns in ``labels`` order) against ``gold``."""
    return float((labels[fuse(p_model, p_companion, weight).argmax(1)] == gold).mean())


def choose(p_model: np.ndarray, p_companion: np.ndarray, gold: np.ndarray,
           labels: np.ndarray) -> tuple[float, dict[float, float]]:
    """(best weight, accuracy per grid weight): the smallest weight among the best."""
    acc = {w: accuracy(p_model, p_companion, gold, labels, w) for w in GRID}
    best = max(acc.values())
    return min(w for w, a in acc.items() if a == best), acc


def write(path: Path, spec: dict | None) -> None:
    """Set (or, with None, remove) ``sentiment_companion`` in the config at ``path``, keeping its key order."""
    config = json.loads(path.read_text(encoding="utf-8"))
    config.pop("sentiment_companion", None)
    if spec:
        config["sentiment_companion"] = spec
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    print(f"{'wrote' if spec else 'removed'} sentiment_companion in {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="shared-v2")
    ap.add_argument("--companion", default="shared-v1")
    ap.add_argument("--models", default=None, help="the models folder (default: the project's models/)")
    ap.add_argument("--datasets", default=None)
    ap.add_argument("--cache", default="voiceminer-data/cache/eval-vectors",
                    help="vector cache folder (write_model_cards.py's default)")
    ap.add_argument("--weight", type=float, default=None, help="use this weight instead of choosing one")
    ap.add_argument("--write", action="store_true", help="record the weight in the model's config.json")
    args = ap.parse_args()
    models = Path(args.models) if args.models else None
    config_path = shared_path(models, args.model) / "config.json"
    if args.weight is not None and not 0.0 <= args.weight < 1.0:
        sys.exit(f"fit_sentiment_companion: --weight must be in [0, 1), got {args.weight}")
    if args.write and args.weight == 0:
        write(config_path, None)
        return
    root = Path(args.datasets) if args.datasets else None
    try:
        examples = tune_examples(root)
    except ds.DatasetMissing as exc:
        sys.exit(f"fit_sentiment_companion: {exc}")
    texts, gold = [e.text for e in examples], np.array([e.label for e in examples])
    cache = VectorDiskCache(Path(args.cache))
    probs, keys, label_lists = [], [], []
    for name in (args.model, args.companion):  # each model alone: the fitted one may name a stale companion
        model = SharedModel(shared_path(models, name), companion=False).load()
        print(f"encoding {len(texts)} tune-slice sentences with {name} ...", file=sys.stderr, flush=True)
        probs.append(model.predict(cache.get(model.encoder_.key, texts, model.encode), ("sentiment",))["sentiment"])
        keys.append(model.encoder_.key)
        label_lists.append(list(model.heads_.labels["sentiment"]))
    if label_lists[0] != label_lists[1]:
        sys.exit(f"fit_sentiment_companion: sentiment labels differ: {label_lists[0]} against {label_lists[1]}")
    labels = np.array(label_lists[0])
    chosen, acc = choose(probs[0], probs[1], gold, labels)
    weight = chosen if args.weight is None else args.weight
    fused = accuracy(probs[0], probs[1], gold, labels, weight)
    print(f"tune slice: {len(texts)} sentences ({', '.join(SENTIMENT_LOADERS)})")
    for w, a in acc.items():
        print(f"  weight {w:.2f}: accuracy {a:.4f}{'  <- best' if w == chosen else ''}")
    print(f"weight {weight:g}: accuracy {fused:.4f} (alone {acc[0.0]:.4f})")
    if args.write:
        write(config_path, None if weight <= 0 else {
            "model": args.companion, "weight": weight, "encoder_key": keys[1], "tune_n": len(texts),
            "tune_accuracy": {"alone": round(acc[0.0], 4), "fused": round(fused, 4)}})


if __name__ == "__main__":
    main()
