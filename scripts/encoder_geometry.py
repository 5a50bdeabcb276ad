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

    .venv/bin/python scripts/encoder_geometry.py --n 12000 --write   # 9 min on 2 cores (vectors cached after)

``--hidden N`` also fits a residual network with one hidden layer of N on top of the linear map (held-out pair
correlation 0.820 with N = 1024, against the linear map's 0.764) and, with ``--write``, writes that instead
(``geometry_map.npz``). Tried and not shipped: see the README (Demo precision, the geometry map).
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
    ap.add_argument("--hidden", type=int, default=0,
                    help="also a residual one-hidden-layer network of this width on top of the linear map "
                         "(trained with torch, seed 0); with --write it is the map written (geometry_map.npz)")
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
    s, b = encoded(texts, shared.encoder_, base, base_name)
    held = max(len(texts) // 5, 2)
    fit, test = slice(0, len(texts) - held), slice(len(texts) - held, len(texts))
    print(f"{len(texts)} training-split sentences ({held} held out), encoded in {time.perf_counter() - t0:.0f} s")
    maps = {lam: ridge_map(s[fit], b[fit], lam) for lam in args.ridge}
    tried = {lam: pair_correlation(b[test], l2_normalise(s[test] @ w)) for lam, w in maps.items()}
    ridge = max(tried, key=tried.get)
    print("held-out pair correlation per ridge penalty:", {k: round(v, 4) for k, v in tried.items()}, "->", ridge)
    w = maps[ridge]
    mapped = l2_normalise(s[test] @ w)
    if args.hidden:
        from voiceminer.themes.zeroshot import GeometryMap

        net = GeometryMap(mlp_map(s[fit], b[fit], args.hidden))
        print(f"held-out pair correlation with a hidden layer of {args.hidden}: "
              f"{pair_correlation(b[test], l2_normalise(net(s[test].astype(np.float32)))):.4f}")
    print(f"pairwise-cosine correlation with the base model: shared {pair_correlation(b[test], s[test]):.3f}, "
          f"shared through a linear map {pair_correlation(b[test], mapped):.3f}; "
          f"mean cosine of the mapped vector to the base one {float((mapped * b[test]).sum(1).mean()):.3f}")
    for sentence, phrases in PAIRS:
        vs = np.asarray(shared.encoder_.encode([sentence] + phrases, normalize=True), np.float64)
        vb = np.asarray(base.encode([sentence] + phrases, normalize_embeddings=True), np.float64)
        vm = l2_normalise(net(vs.astype(np.float32)) if args.hidden else vs @ w)
        print(f"  {sentence!r}")
        for k, phrase in enumerate(phrases, 1):
            print(f"    {phrase!r:58} shared {vs[0] @ vs[k]:.2f}  mapped {vm[0] @ vm[k]:.2f}  base {vb[0] @ vb[k]:.2f}")
    if args.write and args.hidden:
        out = shared.artifact / GEOMETRY_FILE.replace(".npy", ".npz")
        np.savez(out, **{k: v.astype(np.float16) for k, v in mlp_map(s, b, args.hidden).items()})
        print(f"wrote the map with a hidden layer of {args.hidden}, fitted on all {len(texts)} sentences, to {out}")
    elif args.write:
        out = shared.artifact / GEOMETRY_FILE
        np.save(out, ridge_map(s, b, ridge).astype(np.float16))
        print(f"wrote the map fitted on all {len(texts)} sentences (ridge {ridge}) to {out}")


GEOMETRY_FILE = "geometry_map.npy"


def encoded(texts: list[str], shared_encoder, base, base_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Both encoders' unit vectors of ``texts`` (float64), cached under ``$VOICEMINER_CACHE`` (default
    /tmp/voiceminer-theme-cache) by the shared encoder's vector key, the base's name and the texts."""
    import hashlib
    import os

    cache = Path(os.environ.get("VOICEMINER_CACHE", "/tmp/voiceminer-theme-cache"))
    key = hashlib.sha256("\x1f".join([shared_encoder.vector_key, base_name,
                                       *texts]).encode()).hexdigest()[:20]
    path = cache / f"geometry-{key}.npz"
    if path.exists():
        found = np.load(path)
        return found["s"].astype(np.float64), found["b"].astype(np.float64)
    s = np.asarray(shared_encoder.encode(texts, normalize=True), np.float32)
    b = np.asarray(base.encode(texts, normalize_embeddings=True, batch_size=32), np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, s=s, b=b)
    return s.astype(np.float64), b.astype(np.float64)


def mlp_map(x: np.ndarray, y: np.ndarray, hidden: int, epochs: int = 40, seed: int = 0) -> dict[str, np.ndarray]:
    """A :class:`~voiceminer.themes.zeroshot.GeometryMap`'s parts: a linear map plus a residual one-hidden-layer
    network, trained (AdamW, lr 1e-3, batches of 256) so that the mapped unit vectors point where ``y``'s do
    (1 - cosine) and keep ``y``'s in-batch cosines (mean squared difference)."""
    import torch

    torch.manual_seed(seed)
    xs, ys = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    lin = torch.nn.Linear(x.shape[1], y.shape[1])
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.GELU(approximate="tanh"),
                              torch.nn.Linear(hidden, y.shape[1]))
    opt = torch.optim.AdamW([*lin.parameters(), *net.parameters()], lr=1e-3, weight_decay=1e-4)
    order = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(xs), generator=order)
        for i in range(0, len(xs), 256):
            idx = perm[i:i + 256]
            out = torch.nn.functional.normalize(lin(xs[idx]) + net(xs[idx]), dim=1)
            loss = (1 - (out * ys[idx]).sum(1)).mean() + ((out @ out.T - ys[idx] @ ys[idx].T) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        return {"w": lin.weight.T.numpy().copy(), "b": lin.bias.numpy().copy(),
                "w1": net[0].weight.T.numpy().copy(), "b1": net[0].bias.numpy().copy(),
                "w2": net[2].weight.T.numpy().copy(), "b2": net[2].bias.numpy().copy()}


def ridge_map(x: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """The ``(d, d')`` matrix ``w`` minimising ``|x w - y|^2 + ridge |w|^2``."""
    return np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1]), x.T @ y)


if __name__ == "__main__":
    main()
