#!/usr/bin/env python3
"""Check a theme taxonomy for overlapping causes, with the shared model the pipeline uses.

Two causes under different themes whose descriptions and examples are closer to each other than
each is to its own theme's other causes name one concept twice: a sentence about it is scored as
either, and one root cause shows up as two (see ``voiceminer.themes.taxonomy.overlaps``). The
vectors are the configured shared encoder's, without the directions the zero-shot themes project
out (``project_out`` in the model's zero-shot calibration), so the check sees what the zero-shot
scorer sees.

    .venv/bin/python scripts/check_taxonomy.py [corpora/taxonomy/cx_default.yaml] [--margin 0] [--near 3]

Exit status 1 when an overlap is found.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def projected_encoder(shared_model: str | None = None):
    """``encode(texts)``: the shared encoder's normalised vectors, less the zero-shot's projected heads."""
    import numpy as np

    from voiceminer.models.shared import SharedModel, head_basis, shared_path
    from voiceminer.themes.zeroshot import calibration_for

    shared = SharedModel(shared_path(None, shared_model) if shared_model else None, companion=False).load()
    tasks = calibration_for(shared.encoder_).get("project_out") or ()
    basis = head_basis(shared.heads_, tasks) if tasks else None

    def encode(texts: list[str]) -> np.ndarray:
        v = np.asarray(shared.encoder_.encode(texts, normalize=True), dtype=np.float64)
        if basis is not None:
            v = v - (v @ basis) @ basis.T
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)

    return encode


def main(argv: list[str] | None = None) -> int:
    from voiceminer.themes.taxonomy import load_taxonomy, nearest_outside, overlaps, theme_centroids

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("taxonomy", nargs="?", default=None, help="taxonomy YAML (default: the shipped default)")
    ap.add_argument("--margin", type=float, default=0.0, help="how much closer than the siblings a pair must be")
    ap.add_argument("--shared-model", default=None, help="shared model name in models/ (default: the configured one)")
    ap.add_argument("--near", type=int, default=0, help="also list each cause's N closest causes of other themes")
    args = ap.parse_args(argv)
    tax = load_taxonomy(args.taxonomy)
    centroids = theme_centroids(tax, projected_encoder(args.shared_model))
    found = overlaps(tax, None, margin=args.margin, centroids=centroids)
    leaves = [t for t in tax if t.parent]
    if args.near:
        for t in leaves:
            near = ", ".join(f"{i} {s:.3f}" for i, s in nearest_outside(tax, centroids, t.id, args.near))
            own = max((float(centroids[t.id] @ centroids[s]) for s in tax[t.parent].children if s != t.id),
                      default=float("nan"))
            print(f"{t.id:<32} own {own:.3f} | {near}")
        print()
    for o in found:
        print("overlap:", o)
    print(f"{tax.name}: {len(leaves)} causes under {len(tax.top)} themes, {len(found)} overlapping pair(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
