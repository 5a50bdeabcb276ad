#!/usr/bin/env python
"""Train the request-kind head (feature request / defect / other) of a shared model.

Reads the RE'21 app-review requirements data (part P3) in ../shared/datasets, encodes the
TRAIN split (voiceminer.evaluation.datasets.split) with the shared model's encoder, fits a
ThemeModel over those vectors and a TF-IDF word block (C and block weight by 3-fold
cross-validation on the train split, seed 0) and saves it to models/<model>/request_kind/.
Then it scores the head on the VAL split beside a frozen MiniLM + logistic regression
baseline (the `request_kind` row of `voiceminer evaluate`) and writes both into the head's
MODEL_CARD.md. CPU only, about a minute. See voiceminer.models.request_kind for why.

Usage:
    .venv/bin/python scripts/train_request_kind.py [--model shared-v2] [--models models] [--datasets DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

from voiceminer.evaluation import datasets as ds
from voiceminer.evaluation.evaluate import Evaluator, format_table
from voiceminer.models.request_kind import LABEL_MAP, fit_request_kind, kind_path
from voiceminer.models.shared import DEFAULT_SHARED, SharedModel, shared_path

CARD = """# Request kind ({model})

Tells a feature request from a defect report: `feature`, `defect` or `other`, per sentence, over the
vectors of the `{model}` encoder (`{encoder}`) and a TF-IDF word block (weight {lexical}). The needs
stage uses it so that a sentence without a need cue that reports something broken ("App keeps
forgetting my saved favourites") is no unmet need, however sure the need head is. See
`voiceminer.models.request_kind`.

## Data

RE'21 app-review requirements, part P3 (`../shared/datasets/app_review_requirements_re21/P3-Golden.csv`,
sha256 `{sha}`): review sentences of messaging apps labeled feature / stability / performance /
quality / none, mapped to feature / defect (stability, performance) / other. Train split: {rows}
sentences ({counts}); the validation split ({n_val}) is never seen in training.

## Training

`python scripts/train_request_kind.py --model {model}`: softmax regression, classes weighted
inversely to their frequency, C = {C} and the word block's weight chosen by 3-fold
cross-validation on the train split (CV macro-F1 {cv}), seed 0. CPU, about a minute.

## Validation scores

Reproduce with `VOICEMINER_SHARED_MODEL={model} voiceminer evaluate --only binary`.

```
{table}
```

What it changes in the needs stage, on the same validation split: a sentence with no need cue that
the need head is sure of (>= {implicit}), that is not positive, that states a lack or an obstacle
(which its statement says as the need) and whose need statement names something is an implicit need.
Without this
head that rule takes {defect_before} of {n_defect} defect reports as unmet needs; with it, {defect_after}.
Feature requests: {feature_before} of {n_feature} without, {feature_after} with (the rest carry an explicit cue or go
unnoticed).

## Known limits

- Small data (a few hundred sentences, two messaging apps). Defects of physical goods or
  deliveries ("the van came late") are outside what it saw; it mostly reads them as `other`,
  so they still pass to the need head's own rule.
- English only.
"""


def implicit_effect(shared: SharedModel, head, ev: Evaluator) -> dict:
    """How many validation defect reports and feature requests the needs stage's implicit rule
    (no cue, need head >= IMPLICIT_NEED, not positive after the sarcasm flip, a statement that
    names something) takes as needs, without and with the head."""
    import numpy as np

    from voiceminer.flags import need_cues
    from voiceminer.flags.sarcasm import sarcasm_marker
    from voiceminer.models.request_kind import kind_proba
    from voiceminer.pipeline.heads import IMPLICIT_NEED, unmet_need

    val = ds.split(ev.load("app_reviews_p3"), "val")
    texts, kinds = [e.text for e in val], np.array([LABEL_MAP[e.label] for e in val])
    vectors = ev.shared_vectors(texts)
    probs = shared.predict(vectors)
    defect = kind_proba(head, vectors, texts)["defect"]
    threshold = shared.thresholds["need"]
    rows = [(t, float(p[1]), s.argmax() == 2 and not sarcasm_marker(t))  # the sarcasm-aware polarity
            for t, p, s in zip(texts, probs["need"], ev.shared_sentiment(texts))]
    implicit = np.array([not need_cues(t) and unmet_need(t, p, threshold, pos) is not None for t, p, pos in rows])
    kept = np.array([not need_cues(t) and unmet_need(t, p, threshold, pos, d) is not None
                     for (t, p, pos), d in zip(rows, defect)])
    return {"implicit": IMPLICIT_NEED,
            **{f"{k}_{when}": int(m[kinds == k].sum()) for k in ("defect", "feature")
               for when, m in (("before", implicit), ("after", kept))},
            "n_defect": int((kinds == "defect").sum()), "n_feature": int((kinds == "feature").sum())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=DEFAULT_SHARED, help="the shared artifact whose encoder the head reads")
    ap.add_argument("--models", default="models")
    ap.add_argument("--datasets", default=None)
    ap.add_argument("--cache", default=None, help="cache encoded evaluation texts here (optional)")
    args = ap.parse_args()
    try:
        data = ds.app_reviews("P3", root=Path(args.datasets) if args.datasets else None)
    except ds.DatasetMissing as exc:
        sys.exit(f"error: {exc}")
    shared_dir = shared_path(args.models, args.model)
    ev = Evaluator(Path(args.datasets) if args.datasets else None, Path(args.models),
                   Path(args.cache) if args.cache else None, shared_model=args.model)
    shared = ev.shared  # one copy of the model (and its sentiment companion) for training and scoring
    train = ds.split(data, "train")
    texts, labels = [e.text for e in train], [e.label for e in train]
    source = ds.corpus_file(ds.corpus_dir(Path(args.datasets) if args.datasets else None,
                                          "app_review_requirements_re21"), "P3-Golden.csv")
    sha = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    print(f"encoding {len(texts)} train sentences with {args.model} ...", flush=True)
    meta = {"rows": len(texts), "data_sha256": sha, "data_source": "app_review_requirements_re21/P3-Golden.csv "
            "(train split)", "command": f"python scripts/train_request_kind.py --model {args.model}"}
    head = fit_request_kind(shared.encode(texts), texts, labels, encoder_key=shared.encoder_.key, meta=meta)
    out = head.save(kind_path(shared_dir))
    row = ev.request_kind()
    effect = implicit_effect(shared, head, ev)
    counts = {}
    for lab in labels:
        counts[LABEL_MAP[lab]] = counts.get(LABEL_MAP[lab], 0) + 1
    (out / "MODEL_CARD.md").write_text(CARD.format(
        model=args.model, encoder=shared.encoder_.key, lexical=head.lexical_, sha=sha, rows=len(texts),
        counts=", ".join(f"{k} {v}" for k, v in sorted(counts.items())), n_val=row.n, C=head.C_,
        cv=head.cv_scores_.get("cv_macro_f1"), table=format_table([row]), **effect), encoding="utf-8")
    print(format_table([row]))
    print("implicit needs among validation defect reports: {defect_before}/{n_defect} without the head, "
          "{defect_after} with it; feature requests {feature_before}/{n_feature} -> {feature_after}".format(**effect))
    print(f"saved to {out}")


if __name__ == "__main__":
    main()
