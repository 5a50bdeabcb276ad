#!/usr/bin/env python3
"""How far the shared encoder's fine-tuning moved its sentence geometry from the base model's.

Zero-shot themes judge a sentence by its cosines to the taxonomy's example phrases, so they inherit
whatever the shared model's fine-tuning (sentiment, complaint, need and the auxiliary aspect heads) did
to which sentences count as close. This prints, on public training-split sentences (never validation):

- the correlation of pairwise cosines between the shared encoder and its base (all-mpnet-base-v2 for
  shared-v2, all-MiniLM-L6-v2 for shared-v1), over random pairs of held-out sentences: 1.0 would be the
  base geometry kept;
- the same after a ridge-regression linear map from the shared vectors to the base vectors, fitted on
  the other sentences (how much of the base geometry a linear read-out recovers, at no encoder cost);
- the cosines of a few sentence / example-phrase pairs under each, the cases behind the demo's
  remaining theme false positives (README, issue 14 point 5).

    .venv/bin/python scripts/encoder_geometry.py [--n 3000] [--model shared-v2 | --model DIR]

``--write`` also fits the linear map on all ``--n`` sentences (the ridge chosen by the held-out pair
correlation, inside the training split) and writes it beside the artifact's config as ``geometry_map.npy``
(fp16), for zero-shot themes' ``geometry_mix`` (``scripts/train_themes_eval.py calibrate --geometry FILE``):

    .venv/bin/python scripts/encoder_geometry.py --n 12000 --write   # 9 min on 2 cores
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

PAIRS = [
    ("I wish I could pick a delivery slot instead of just getting whatever time you give me.",
     ["I'd like to pick a one-hour delivery slot", "it arrived forty minutes late"]),
    ("Why can't I choose when my order arrives?",
     ["I want to choose my delivery time", "could not complete my order online"]),
    ("Still haven't received the credit I was promised for the damaged items.",
     ["the refund has not come through", "refused to take the faulty kettle back"]),
]
SETS = ("uci_sentiment", "semeval14_categories", "airline_reasons", "complaints", "needs", "hu_liu_sentiment",
        "app_reviews_p1", "mams_categories", "semeval1516_laptops_categories")


def sentences(n: int, seed: int = 13) -> list[str]:
    """``n`` training-split texts (under 300 characters), drawn evenly from :data:`SETS`."""
    from voiceminer.evaluation.datasets import ALL_LOADERS, split

    rng = random.Random(seed)
    out: list[str] = []
    for key in SETS:
        texts = [e.text for e in split(ALL_LOADERS[key](), "train") if len(e.text) < 300]
        rng.shuffle(texts)
        out += texts[:n // len(SETS) + 1]
    out = list(dict.fromkeys(out))
    rng.shuffle(out)
    return out[:n]


def pair_correlation(reference: np.ndarray, other: np.ndarray, pairs: int = 20000, seed: int = 0) -> float:
    """Correlation of the cosines of random pairs of rows under two sets of unit vectors."""
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, len(reference), pairs), rng.integers(0, len(reference), pairs)
    keep = i != j
    i, j = i[keep], j[keep]
    return float(np.corrcoef((reference[i] * reference[j]).sum(1), (other[i] * other[j]).sum(1))[0, 1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=3000, help="sentences (a fifth held out for the pair figures)")
    ap.add_argument("--model", default=None, help="shared model folder or name (default: the configured one)")
    ap.add_argument("--ridge", type=float, nargs="+", default=[0.01, 0.1, 1.0],
                    help="ridge penalties tried; the best held-out pair correlation wins")
    ap.add_argument("--write", action="store_true", help="write the map fitted on all sentences beside the config")
    args = ap.parse_args()

    from sentence_transformers import SentenceTransformer

    from voiceminer.models.encoder import BASES_BY_NAME, l2_normalise
    from voiceminer.models.shared import SharedModel, shared_path

    model = Path(args.model) if args.model and Path(args.model).is_dir() else (
        shared_path(None, args.model) if args.model else None)
    shared = SharedModel(model, companion=False, backend="onnx").load()
    base_name = shared.config_["base_name"]
    base = SentenceTransformer(str(BASES_BY_NAME[base_name].folder()), device="cpu")
    print(f"{shared.artifact.name} against its base, {base_name}")
    texts = sentences(args.n)
    t0 = time.perf_counter()
    s = np.asarray(shared.encoder_.encode(texts, normalize=True), np.float64)
    b = np.asarray(base.encode(texts, normalize_embeddings=True, batch_size=32), np.float64)
    held = max(len(texts) // 5, 2)
    fit, test = slice(0, len(texts) - held), slice(len(texts) - held, len(texts))
    print(f"{len(texts)} training-split sentences ({held} held out), encoded in {time.perf_counter() - t0:.0f} s")
    tried = {lam: pair_correlation(b[test], l2_normalise(s[test] @ ridge_map(s[fit], b[fit], lam))) for lam in args.ridge}
    ridge = max(tried, key=tried.get)
    print("held-out pair correlation per ridge penalty:", {k: round(v, 4) for k, v in tried.items()}, "->", ridge)
    w = ridge_map(s[fit], b[fit], ridge)
    mapped = l2_normalise(s[test] @ w)
    print(f"pairwise-cosine correlation with the base model: shared {pair_correlation(b[test], s[test]):.3f}, "
          f"shared through a linear map {pair_correlation(b[test], mapped):.3f}; "
          f"mean cosine of the mapped vector to the base one {float((mapped * b[test]).sum(1).mean()):.3f}")
    for sentence, phrases in PAIRS:
        vs = np.asarray(shared.encoder_.encode([sentence] + phrases, normalize=True), np.float64)
        vb = np.asarray(base.encode([sentence] + phrases, normalize_embeddings=True), np.float64)
        vm = l2_normalise(vs @ w)
        print(f"  {sentence!r}")
        for k, phrase in enumerate(phrases, 1):
            print(f"    {phrase!r:58} shared {vs[0] @ vs[k]:.2f}  mapped {vm[0] @ vm[k]:.2f}  base {vb[0] @ vb[k]:.2f}")
    if args.write:
        out = shared.artifact / GEOMETRY_FILE
        np.save(out, ridge_map(s, b, ridge).astype(np.float16))
        print(f"wrote the map fitted on all {len(texts)} sentences (ridge {ridge}) to {out}")


GEOMETRY_FILE = "geometry_map.npy"


def ridge_map(x: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """The ``(d, d')`` matrix ``w`` minimising ``|x w - y|^2 + ridge |w|^2``."""
    return np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ y)


if __name__ == "__main__":
    main()
