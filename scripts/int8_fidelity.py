#!/usr/bin/env python
"""How close each int8 recipe stays to the fp32 ONNX graph, on TRAINING splits only (how the shipped recipe,
voiceminer.models.onnx_int8, was chosen; validation is not read).

Recipes, built from the shared model's fp32 graphs (the mpnet and its sentiment companion):
- ``tensor``: ONNX Runtime's dynamic quantization, one activation scale per tensor (the earlier recipe),
  feed-forward output projections kept fp32;
- ``rows``: one activation scale and zero point per token, the same layers kept fp32 (shipped);
- ``rows-all``: per token, every weight matrix int8;
- ``rows-last``, ``rows-o``: per token, the last layer's products, or every attention output projection, kept
  fp32 as well (:data:`MORE_FP32`).

Prints, per recipe: the mpnet's vectors' cosine to fp32 (mean, 1st percentile, worst) on 100 training texts
each of the airline, complaint, needs and app-review data, the encoder's speed against the fp32 graph on
those texts, and how many of the tag path's decisions (comment sentiment, complaint, need-informative,
unmet need: each dataset's own) differ from the fp32 graph's on ``--n`` training texts of each dataset.

Usage:
    .venv/bin/python scripts/int8_fidelity.py [--n 600] [--recipes tensor rows rows-all]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

COSINE_SETS = ("airline_sentiment", "needs", "complaints", "app_reviews_p3")
# each dataset's decision: the one its validation row measures
DECISION_SETS = {"airline_sentiment": "sentiment", "semeval_restaurants_sentiment": "sentiment",
                 "complaints": "complaint", "needs": "need", "app_reviews_p3": "unmet need"}


# per-token recipes that keep more products in fp32 besides the feed-forward output projections
MORE_FP32 = {"rows-last": r"/layer\.11/", "rows-o": r"/attn/o/"}


def build(recipe: str, fp32: Path, out: Path) -> Path:
    from voiceminer.models.onnx_export import KEEP_FP32
    from voiceminer.models.onnx_int8 import quantize_rows

    if recipe == "rows":
        return quantize_rows(fp32, out, keep=KEEP_FP32)
    if recipe in MORE_FP32:
        return quantize_rows(fp32, out, keep=KEEP_FP32 + "|" + MORE_FP32[recipe])
    if recipe == "rows-all":
        return quantize_rows(fp32, out)
    import logging
    import re

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(fp32), load_external_data=False)
    keep = [n.name for n in model.graph.node if n.op_type == "MatMul" and re.search(KEEP_FP32, n.name)]
    logging.getLogger().setLevel(logging.ERROR)  # the quantizer's note that the graph was not pre-processed
    quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=keep,
                     extra_options={"MatMulConstBOnly": True})
    return out


def train_texts(name: str, n: int) -> list:
    from voiceminer.evaluation import datasets as ds

    examples = ds.split(ds.ALL_LOADERS[name](), "train")
    random.Random(0).shuffle(examples)
    return examples[:n]


def decisions(product, shared, examples: list, kind: str) -> list:
    """The tag path's ``kind`` decision on each of ``examples``."""
    from voiceminer.evaluation.product import has_unmet_need, is_complaint, need_informative, sentiment_label

    decide = {"sentiment": sentiment_label, "complaint": is_complaint, "unmet need": has_unmet_need,
              "need": lambda r: need_informative(r, shared.thresholds["need"])}[kind]
    return [decide(r) for r in product.records([e.text for e in examples])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=600, help="training texts per dataset for the decisions")
    ap.add_argument("--recipes", nargs="+", default=["tensor", "rows", "rows-all"])
    args = ap.parse_args()

    from voiceminer.evaluation.product import ProductPath
    from voiceminer.models.onnx_runtime import OnnxSession
    from voiceminer.pipeline import StageContext
    from voiceminer.pipeline.encode import load_shared
    from voiceminer.pipeline.heads import clear_text_caches
    from voiceminer.models.shared import shared_path

    shared = load_shared(str(shared_path()), "onnx")
    encoders = [shared.encoder_] + ([shared.companion_.encoder_] if shared.companion_ is not None else [])
    fp32 = [e.session_ for e in encoders]
    cos_texts = [e.text for name in COSINE_SETS for e in train_texts(name, 100)]
    sets = {name: train_texts(name, args.n) for name in DECISION_SETS}

    def run() -> tuple[np.ndarray, float, list]:
        clear_text_caches()
        product = ProductPath(StageContext(backend="onnx"))  # a fresh one: it keeps each text's record
        start = time.perf_counter()
        vectors = shared.encoder_.encode(cos_texts)
        seconds = time.perf_counter() - start
        return vectors, seconds, [d for name, kind in DECISION_SETS.items() for d in decisions(product, shared, sets[name], kind)]

    ref_vectors, ref_seconds, ref_decisions = run()
    print(f"{len(cos_texts)} training texts for the vectors, {len(ref_decisions)} for the decisions "
          f"({args.n} of each of {', '.join(DECISION_SETS)})")
    print(f"{'recipe':<10} {'cos mean':>9} {'cos p1':>8} {'cos min':>8} {'x fp32':>7} {'decisions that differ':>22}")
    with tempfile.TemporaryDirectory() as tmp:
        for recipe in args.recipes:
            for i, (encoder, session) in enumerate(zip(encoders, fp32)):
                encoder.session_ = OnnxSession(build(recipe, session.path, Path(tmp) / f"{recipe}-{i}.onnx"))
            vectors, seconds, got = run()
            cos = (vectors * ref_vectors).sum(1) / np.linalg.norm(vectors, axis=1) / np.linalg.norm(ref_vectors, axis=1)
            differ = sum(a != b for a, b in zip(got, ref_decisions))
            print(f"{recipe:<10} {cos.mean():>9.4f} {np.percentile(cos, 1):>8.4f} {cos.min():>8.4f} "
                  f"{ref_seconds / seconds:>7.2f} {differ:>15} of {len(got)}", flush=True)
    for encoder, session in zip(encoders, fp32):
        encoder.session_ = session


if __name__ == "__main__":
    main()
