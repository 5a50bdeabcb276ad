"""Throughput of the whole ``tag`` path per encoder backend, on the same texts, in one process.

Machines are shared and noisy, so rates are compared as ratios against torch measured in the
same process, alternating backends and keeping each one's best run. The least CPU seconds of this
process over the runs are kept too: where other jobs take the cores, wall time also counts the waits
for a core (worst for torch, whose OpenMP threads wait for each other at every operator), CPU time
less so. Every run starts cold for the text caches (cues, need statements) and uses no vector cache,
so each backend encodes every unique sentence (and every multi-sentence comment's whole text) itself.

>>> from voiceminer.models.benchmark import tag_rates  # doctest: +SKIP
>>> tag_rates(["Delivery was late.", "Love it."], ["torch", "onnx-int8"])["onnx-int8"]["ratio"]  # doctest: +SKIP
2.6
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .onnx_export import BACKENDS, check_backend


def runnable_backends(backends: Sequence[str] = BACKENDS) -> tuple[list[str], dict[str, str]]:
    """Those of ``backends`` this CPU can run, and why each other one cannot (``torch-bf16`` needs AMX or AVX-512
    bf16: :func:`~voiceminer.models.encoder.missing_bf16_features`)."""
    from .encoder import missing_bf16_features

    skipped = {}
    if "torch-bf16" in backends:
        missing = missing_bf16_features()
        if missing:
            skipped["torch-bf16"] = f"this CPU lacks {', '.join(missing)}"
    return [b for b in backends if b not in skipped], skipped


def _pipeline(backend: str, shared_model: str | None, models_dir: Any) -> Any:
    from ..pipeline import Pipeline, StageContext
    from ..tagging import TAG_PIPELINE

    return Pipeline.from_names(TAG_PIPELINE, StageContext(backend=backend, shared_model=shared_model,
                                                          models_dir=models_dir))


def _comments(texts: Sequence[str]) -> list[Any]:
    from ..types import Comment

    return [Comment(id=f"bench:{i}", text=t, source="bench") for i, t in enumerate(texts)]


def _timed_run(pipeline: Any, comments: list[Any]) -> tuple[float, float, int]:
    """Wall seconds, this process's CPU seconds and the sentence count of one run."""
    from ..pipeline.heads import clear_text_caches

    clear_text_caches()
    start, cpu = time.perf_counter(), time.process_time()
    done = pipeline.run(comments)
    return time.perf_counter() - start, time.process_time() - cpu, sum(len(a.sentences) for a in done)


def tag_rate(backend: str, texts: Sequence[str], *, shared_model: str | None = None, models_dir: Any = None,
             repeats: int = 1) -> dict[str, Any]:
    """The tag path's rate on ``texts`` (one comment each) with ``backend``: comments/s and
    sentences/s of the best of ``repeats`` runs, after a warm-up on the first 20 texts."""
    return tag_rates(texts, [backend], shared_model=shared_model, models_dir=models_dir, repeats=repeats)[backend]


def tag_rates(texts: Sequence[str], backends: Sequence[str] = BACKENDS, *, shared_model: str | None = None,
              models_dir: Any = None, repeats: int = 2) -> dict[str, dict[str, Any]]:
    """Per backend: seconds, comments/s, sentences/s (best of ``repeats``, backends alternating within
    each repeat) and ``ratio``, the sentence rate over torch's (None when torch is not among them);
    ``cpu_seconds`` (the least CPU time of any repeat) and ``cpu_ratio``, torch's over this one's.
    Models load (and ONNX graphs are built, if missing) before any timing."""
    for b in backends:
        check_backend(b)
    comments = _comments(texts)
    pipelines = {b: _pipeline(b, shared_model, models_dir) for b in backends}
    for pipeline in pipelines.values():
        pipeline.run(comments[:20])  # warm up: first calls allocate, spaCy loads lazily
    best: dict[str, float] = {b: float("inf") for b in backends}
    best_cpu = dict(best)
    sentences = 0
    for _ in range(max(1, repeats)):
        for b, pipeline in pipelines.items():
            seconds, cpu, sentences = _timed_run(pipeline, comments)
            best[b], best_cpu[b] = min(best[b], seconds), min(best_cpu[b], cpu)
    out = {}
    for b in backends:
        rate = sentences / best[b]
        out[b] = {"seconds": round(best[b], 3), "comments": len(comments), "sentences": sentences,
                  "comments_per_s": round(len(comments) / best[b], 2), "sentences_per_s": round(rate, 2),
                  "ratio": round(best["torch"] / best[b], 3) if "torch" in best else None,
                  "cpu_seconds": round(best_cpu[b], 3),
                  "cpu_ratio": round(best_cpu["torch"] / best_cpu[b], 3) if "torch" in best else None}
    return out
