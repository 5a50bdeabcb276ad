#!/usr/bin/env python
"""Throughput of the whole `tag` path against the bare encoder, on the same sentences, in one process.

Prints sentences/second for both, their ratio (the whole path must keep >= 0.7 of the bare
encoder's rate: one encoder pass serves every head) and the peak resident memory. The bare
encoder gets the input's unique sentences (the minimum any pipeline must encode; the tag path
also encodes each unique sentence once), so the ratio measures everything that is not encoding.
Each measurement is repeated (alternating) and the best run kept, since machines are noisy.

Usage:
    .venv/bin/python scripts/bench_pipeline.py [--comments 1500] [--repeats 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--comments", type=int, default=1500)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from voiceminer.collectors import collect
    from voiceminer.pipeline import Pipeline
    from voiceminer.pipeline.heads import clear_text_caches
    from voiceminer.tagging import TAG_PIPELINE
    from voiceminer.types import Comment

    comments = [c for c in collect([ROOT / "corpora" / "demo" / "exports"]) if isinstance(c, Comment)]
    comments = comments[: args.comments]
    pipeline = Pipeline.from_names(TAG_PIPELINE)
    segmenter, encoder = pipeline.stages[0], pipeline.stages[1].model_
    texts = [s.text for c in comments for s in segmenter.split(c.text, c.id)]
    unique = sorted(set(texts))
    pipeline.run(comments[:50])  # warm up every stage
    encoder.encode(texts[:200])
    best_enc, best_all = float("inf"), float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        encoder.encode(unique)
        best_enc = min(best_enc, time.perf_counter() - start)
        clear_text_caches()  # each run starts cold: no cue or need results from the previous run
        start = time.perf_counter()
        pipeline.run(comments)
        best_all = min(best_all, time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"comments": len(comments), "sentences": len(texts), "unique_sentences": len(unique),
              "encoder_sentences_per_s": round(len(texts) / best_enc, 1),
              "pipeline_sentences_per_s": round(len(texts) / best_all, 1),
              "ratio": round(best_enc / best_all, 3), "peak_rss_mb": round(peak_mb, 1),
              "stages": pipeline.spec}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['sentences']} sentences ({result['unique_sentences']} unique) from {result['comments']} comments")
    print(f"bare encoder : {result['encoder_sentences_per_s']:8.1f} sentences/s")
    print(f"whole tag path: {result['pipeline_sentences_per_s']:8.1f} sentences/s")
    print(f"ratio         : {result['ratio']:.3f} (target >= 0.70)")
    print(f"peak memory   : {result['peak_rss_mb']:.0f} MB (target < 2500)")


if __name__ == "__main__":
    main()
