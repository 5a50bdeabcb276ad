#!/usr/bin/env python
"""Choose how a comment of several sentences gets its sentiment and complaint decision.

The pipeline blends the head on the whole comment text with its sentences' aggregate
(length-weighted mean of sentiment probabilities, max complaint probability):
``w * whole + (1 - w) * sentences`` (``WHOLE_SENTIMENT`` / ``WHOLE_COMPLAINT`` in
voiceminer.pipeline.heads). This script picks ``w`` on the TRAINING data only: the tune slice
of the train splits (``in_tune_slice``, held out of the heads' training) of the airline tweets
(three-way sentiment) and the complaint tweets. It runs them through the tag path's segmenter,
encoder, sentiment and complaint stages, reads both parts from the comment annotations, and
prints, for each w on a grid, accuracy (sentiment) or F1 (complaint) by number of sentences, plus
a 5-fold cross-validation of the choice (w chosen on four folds, scored on the fifth).

``--validation`` instead reads the validation splits once, to report the rule the pipeline ships
(``WHOLE_SENTIMENT`` / ``WHOLE_COMPLAINT``) against the earlier one (w = 0: sentences only) and
the whole text alone (w = 1), by number of sentences: no choice is made there.

Usage:
    .venv/bin/python scripts/choose_comment_rule.py [--cache voiceminer-data/cache/eval-vectors]
        [--model shared-v2] [--validation]
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
STAGES = ("segment.sentencizer.v1", "encode.shared.v1", "sentiment.shared.v2", "complaint.shared.v1")


def parts(analysed: list, layer: str) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Per comment: number of sentences, whole-text part, sentences' part (equal for one sentence)."""
    out = []
    for a in analysed:
        ann = next(x for x in a.layer(layer) if x.sentence_index is None)
        if layer == "sentiment":
            whole = np.array(ann.data.get("whole", ann.data["probs"]))
            sent = np.array(ann.data.get("sentences", ann.data["probs"]))
        else:
            whole = np.array(ann.data.get("whole", ann.score))
            sent = np.array(ann.data.get("sentences", ann.score))
        out.append((len(a.sentences), whole, sent))
    return out


def decide(rows: list, w: float, layer: str, threshold: float) -> list:
    labels = ("negative", "neutral", "positive")
    if layer == "sentiment":
        return [labels[int(np.argmax(w * wh + (1 - w) * s))] for _, wh, s in rows]
    return [bool(w * wh + (1 - w) * s >= threshold) for _, wh, s in rows]


def score(gold: list, pred: list, layer: str) -> float:
    from voiceminer.evaluation.evaluate import accuracy, binary_f1

    return accuracy(gold, pred) if layer == "sentiment" else binary_f1(gold, pred)


def fold_of(text: str) -> int:
    return hashlib.sha256(("fold|" + text).encode()).digest()[0] % 5


def report(name: str, texts: list[str], gold: list, rows: list, layer: str, threshold: float) -> float:
    buckets = {"1": [i for i, r in enumerate(rows) if r[0] == 1], "2": [i for i, r in enumerate(rows) if r[0] == 2],
               "3+": [i for i, r in enumerate(rows) if r[0] >= 3], "all": list(range(len(rows)))}
    print(f"\n{name} (tune slice of the train split, {len(rows)} texts; "
          f"{'accuracy' if layer == 'sentiment' else 'F1'} by sentences)")
    print(f"{'w (whole)':>10} " + " ".join(f"{b + ' (' + str(len(ix)) + ')':>12}" for b, ix in buckets.items()))
    for w in GRID:
        pred = decide(rows, w, layer, threshold)
        cells = [score([gold[i] for i in ix], [pred[i] for i in ix], layer) if ix else float("nan")
                 for ix in buckets.values()]
        print(f"{w:>10.2f} " + " ".join(f"{c:>12.3f}" for c in cells))
    folds = [fold_of(t) for t in texts]
    chosen, oof = [], [None] * len(rows)
    for k in range(5):
        inside = [i for i in range(len(rows)) if folds[i] != k]
        best = max(GRID, key=lambda w: (score([gold[i] for i in inside],
                                              decide([rows[i] for i in inside], w, layer, threshold), layer), -abs(w - 0.5)))
        chosen.append(best)
        held = [i for i in range(len(rows)) if folds[i] == k]
        for i, p in zip(held, decide([rows[i] for i in held], best, layer, threshold)):
            oof[i] = p
    multi = [i for i in range(len(rows)) if rows[i][0] > 1]
    base = decide(rows, 0.0, layer, threshold)
    print(f"5-fold CV: w chosen per fold {chosen}; out-of-fold on multi-sentence comments "
          f"{score([gold[i] for i in multi], [oof[i] for i in multi], layer):.3f} "
          f"(sentences only, w=0: {score([gold[i] for i in multi], [base[i] for i in multi], layer):.3f})")
    return float(np.median(chosen))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default="voiceminer-data/cache/eval-vectors")
    ap.add_argument("--validation", action="store_true", help="report the shipped rule on the validation splits")
    ap.add_argument("--model", default=None)
    args = ap.parse_args()

    from voiceminer.evaluation import datasets as ds
    from voiceminer.evaluation.product import cache_factory
    from voiceminer.pipeline import Pipeline, StageContext
    from voiceminer.types import Comment

    context = StageContext(vector_cache=cache_factory(Path(args.cache)), shared_model=args.model)
    pipeline = Pipeline.from_names(STAGES, context)
    threshold = pipeline.stages[-1].model_.thresholds["complaint"]
    from voiceminer.pipeline.heads import WHOLE_COMPLAINT, WHOLE_SENTIMENT

    for name, loader, layer, positive in (("airline three-way sentiment", "airline_sentiment", "sentiment", None),
                                          ("complaint tweets", "complaints", "complaint", "complaint")):
        data = ds.split(ds.ALL_LOADERS[loader](), "val" if args.validation else "train")
        data = data if args.validation else [e for e in data if ds.in_tune_slice(e.text)]
        texts = [e.text for e in data]
        gold = [e.label if positive is None else e.label == positive for e in data]
        analysed = [a for start in range(0, len(data), 64) for a in pipeline.run(
            [Comment(id=f"t{start + i}", text=t, source="eval") for i, t in enumerate(texts[start:start + 64])])]
        rows = parts(analysed, layer)
        if args.validation:
            shipped = WHOLE_SENTIMENT if layer == "sentiment" else WHOLE_COMPLAINT
            validation(f"{name} (validation split)", gold, rows, layer, threshold, shipped)
        else:
            w = report(name, texts, gold, rows, layer, threshold)
            print(f"median of the folds' choices: w = {w:g}")


def validation(name: str, gold: list, rows: list, layer: str, threshold: float, shipped: float) -> None:
    """The shipped rule against sentences only (w = 0) and the whole text only (w = 1), by sentences."""
    print(f"\n{name}: {'accuracy' if layer == 'sentiment' else 'F1'} by number of sentences")
    print(f"{'sentences':>10} {'n':>6} {'sentences only (before)':>24} {'whole text (head)':>18} "
          f"{'shipped w=' + format(shipped, 'g'):>16}")
    preds = {w: decide(rows, w, layer, threshold) for w in (0.0, 1.0, shipped)}
    for bucket, keep in (("1", lambda n: n == 1), ("2", lambda n: n == 2), ("3+", lambda n: n >= 3),
                         ("all", lambda n: True)):
        ix = [i for i, r in enumerate(rows) if keep(r[0])]
        if ix:
            cells = [score([gold[i] for i in ix], [preds[w][i] for i in ix], layer) for w in (0.0, 1.0, shipped)]
            print(f"{bucket:>10} {len(ix):>6} {cells[0]:>24.3f} {cells[1]:>18.3f} {cells[2]:>16.3f}")


if __name__ == "__main__":
    main()
