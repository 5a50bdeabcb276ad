#!/usr/bin/env python
"""Throughput of the whole `tag` path against the bare encoder, on the same sentences, in one process.

Prints sentences/second for both, their ratio (the whole path must keep >= 0.7 of the bare
encoder's rate: one encoder pass serves every head) and the peak resident memory. The bare
encoder gets the input's unique sentences (the minimum any pipeline must encode; the tag path
also encodes each unique sentence once), so the ratio measures everything that is not the main
encoder's pass, including the sentiment companion's smaller pass when the model names one
(shared-v2 mixes in shared-v1's sentiment head) and the whole texts of comments of more than one
sentence (up to ``WHOLE_MAX_CHARS``), which the tag path also encodes for their comment-level
decisions (counted as ``whole_texts``).
Each measurement is repeated (alternating) and the best run kept, since machines are noisy.

``--compare shared-v1`` also times another shared model's bare encoder on the same sentences,
alternating with the others, and prints its rate and the rate ratio of the two encoders (what
choosing ``shared_model`` costs or saves). Rates count every input sentence (duplicates
included) over the time to encode the unique ones.

Usage:
    .venv/bin/python scripts/bench_pipeline.py [--comments 1500] [--repeats 2] [--json]
        [--model shared-v2] [--compare shared-v1]
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
    ap.add_argument("--model", default=None, help="shared model of the tag path (default: the pipeline's)")
    ap.add_argument("--compare", default=None, help="another shared model whose bare encoder is timed too")
    args = ap.parse_args()

    from voiceminer.collectors import collect
    from voiceminer.models.shared import SharedModel, models_dir
    from voiceminer.pipeline import Pipeline, StageContext
    from voiceminer.pipeline.encode import WHOLE_MAX_CHARS
    from voiceminer.pipeline.heads import clear_text_caches
    from voiceminer.tagging import TAG_PIPELINE
    from voiceminer.types import Comment

    comments = [c for c in collect([ROOT / "corpora" / "demo" / "exports"]) if isinstance(c, Comment)]
    comments = comments[: args.comments]
    pipeline = Pipeline.from_names(TAG_PIPELINE, StageContext(shared_model=args.model))
    other = SharedModel(models_dir() / args.compare).load().encoder_ if args.compare else None
    segmenter, encoder = pipeline.stages[0], pipeline.stages[1].model_
    split = [segmenter.split(c.text, c.id) for c in comments]
    texts = [s.text for sentences in split for s in sentences]
    unique = sorted(set(texts))
    wholes = len({c.text.strip() for c, sentences in zip(comments, split)
                  if len(sentences) > 1 and len(c.text.strip()) <= WHOLE_MAX_CHARS} - set(unique))
    pipeline.run(comments[:50])  # warm up every stage
    encoder.encode(texts[:200])
    best_enc, best_all, best_other = float("inf"), float("inf"), float("inf")
    for _ in range(args.repeats):
        if other is not None:
            start = time.perf_counter()
            other.encode(unique)
            best_other = min(best_other, time.perf_counter() - start)
        start = time.perf_counter()
        encoder.encode(unique)
        best_enc = min(best_enc, time.perf_counter() - start)
        clear_text_caches()  # each run starts cold: no cue or need results from the previous run
        start = time.perf_counter()
        pipeline.run(comments)
        best_all = min(best_all, time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"comments": len(comments), "sentences": len(texts), "unique_sentences": len(unique),
              "whole_texts": wholes,
              "encoder_sentences_per_s": round(len(texts) / best_enc, 1),
              "pipeline_sentences_per_s": round(len(texts) / best_all, 1),
              "ratio": round(best_enc / best_all, 3), "peak_rss_mb": round(peak_mb, 1),
              "stages": pipeline.spec}
    if other is not None:
        result |= {"compare_model": args.compare, "compare_encoder_sentences_per_s": round(len(texts) / best_other, 1),
                   "encoder_rate_vs_compare": round(best_other / best_enc, 3)}
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['sentences']} sentences ({result['unique_sentences']} unique) from {result['comments']} comments;"
          f" the tag path also encodes {wholes} whole comment texts (comments of several sentences)")
    print(f"bare encoder : {result['encoder_sentences_per_s']:8.1f} sentences/s")
    print(f"whole tag path: {result['pipeline_sentences_per_s']:8.1f} sentences/s")
    print(f"ratio         : {result['ratio']:.3f} (target >= 0.70)")
    print(f"peak memory   : {result['peak_rss_mb']:.0f} MB (target < 2500)")
    if other is not None:
        print(f"{args.compare} bare encoder: {result['compare_encoder_sentences_per_s']:8.1f} sentences/s; "
              f"this encoder runs at {result['encoder_rate_vs_compare']:.3f} of its rate")


if __name__ == "__main__":
    main()
