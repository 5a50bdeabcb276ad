"""ONNX graphs of the sentence encoders, built from the exact torch weights, cached on disk.

The ``onnx`` and ``onnx-int8`` backends (setting ``backend``) run the encoder through ONNX
Runtime. A graph is exported from the loaded torch encoder (base weights with the artifact's
delta applied or its LoRA adapters merged) with ``torch.onnx.export``; the graph takes
``input_ids`` and ``attention_mask`` and returns the mean-pooled sentence vector, so the pooling
runs inside ONNX Runtime too.

The int8 graph is the fp32 graph with its weight matrices in int8 (one scale per output channel) and
each product's input quantized at run time to uint8 with one scale and zero point per token
(:mod:`.onnx_int8`), so int8 dot products (which AVX-512 VNNI runs) do the work; no calibration data.
ONNX Runtime's own dynamic quantization gives a whole batch one activation scale, and a few large
channels crush the rest: its vectors were at cosine 0.9925 to fp32 on average, 0.92 at worst, and the
heads' decisions on the training splits flipped twice as often (0.9994 and 0.989 per row). One kind of
layer stays fp32: the feed-forward output projections, whose inputs (GELU outputs) have a few
channels far larger than the rest. What int8 costs on each validation row: ``voiceminer evaluate
--backend onnx-int8``.

On a CPU without VNNI (AVX-512 VNNI or AVX-VNNI; an AMD EPYC of the Zen 2/3 generations, an older Xeon)
ONNX Runtime multiplies uint8 by int8 with ``VPMADDUBSW``, whose 16-bit sums saturate: with full-range
int8 weights the encoder's vectors came out unrelated to fp32 ones (cosine 0.03-0.3 on
``tests/encoder_texts.py``). There the weights are quantized to 7 bits (ONNX Runtime's advice for this
case, ``reduce_range``) into their own file, and their vectors are cached under their own key
(``+onnx-int8-rows-rr``), so a store shared between the two kinds of CPU never mixes them
(:func:`int8_variant`).

Graphs are a few hundred MB, so they are not committed: :func:`graph_path` builds them on first
use into ``$VOICEMINER_ONNX_DIR`` or ``<sys.prefix>/share/voiceminer/onnx`` (beside the assembled
all-mpnet-base-v2), in a folder named by a hash of the weights and the export recipe, so new
weights (or a new recipe) never load an old graph. ``scripts/export_onnx.py`` builds them ahead
of time.

>>> name = graph_dir_name("aa" * 32, "bb" * 32)
>>> name.startswith("enc-"), len(name), name == graph_dir_name("aa" * 32, "cc" * 32)
(True, 28, False)
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from ..errors import ConfigError, MissingDependencyError
from .onnx_int8 import SCHEME

log = logging.getLogger(__name__)

BACKENDS = ("torch", "onnx", "onnx-int8", "torch-bf16")
TORCH_BACKENDS = ("torch", "torch-bf16")  # run the torch model itself: no graph
ENV_VAR = "VOICEMINER_ONNX_DIR"
OPSET = 17
# bumped when the graphs' recipe changes (export options, quantization): old graphs are not reused
# the feed-forward output projections (input: GELU outputs, a few channels far larger than the rest)
KEEP_FP32 = r"/layer\.\d+/output/dense/"
RECIPE = f"3:opset{OPSET}:mean-pool:int8-{SCHEME}-asym-perchannel-keep{KEEP_FP32}"
FP32_FILE, INT8_FILE, INT8_RR_FILE = "encoder.onnx", "encoder-int8.onnx", "encoder-int8-rr.onnx"
VNNI_FLAGS = ("avx512_vnni", "avx_vnni")  # /proc/cpuinfo names: u8 x s8 dot products without saturation


def int8_variant(flags: frozenset[str] | set[str] | None = None) -> str:
    """The int8 recipe for this CPU (or ``flags``): ``""`` (full-range int8 weights) where it has VNNI,
    ``"rr"`` (7-bit weights, ``reduce_range``) where ONNX Runtime's uint8 x int8 products would saturate.

    >>> int8_variant({"avx2", "avx512_vnni"}), int8_variant({"avx2"})
    ('', 'rr')
    """
    if flags is None:
        from ..config import proc_cpu_flags

        flags = proc_cpu_flags()
    return "" if any(f in flags for f in VNNI_FLAGS) else "rr"


def backend_tag(backend: str) -> str:
    """What names ``backend``'s vectors: the backend, plus the int8 scheme and, where it is not the VNNI
    one, the CPU's variant (vectors of an earlier int8 recipe are never reused)."""
    if backend != "onnx-int8":
        return backend
    variant = int8_variant()
    return f"{backend}-{SCHEME}-{variant}" if variant else f"{backend}-{SCHEME}"


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    return backend


def cache_root() -> Path:
    """Where graphs are built: ``$VOICEMINER_ONNX_DIR`` or ``<sys.prefix>/share/voiceminer/onnx``."""
    return Path(os.environ.get(ENV_VAR) or Path(sys.prefix) / "share" / "voiceminer" / "onnx")


def graph_dir_name(base_sha256: str, delta_sha256: str) -> str:
    """The cache folder of one encoder's graphs: a hash of its weights and of :data:`RECIPE`."""
    digest = hashlib.sha256(f"{base_sha256}\0{delta_sha256}\0{RECIPE}".encode()).hexdigest()
    return f"enc-{digest[:24]}"


def graph_path(weights: tuple[str, str], backend: str, load_torch: Any, root: Path | None = None) -> Path:
    """The graph file of ``backend`` for the encoder whose weights hash to ``weights`` (base sha256,
    delta sha256 or ""), building it when missing: ``load_torch()`` must then return the loaded torch
    encoder (a :class:`~voiceminer.models.encoder.SentenceEncoder`) with exactly those weights."""
    check_backend(backend)
    if backend in TORCH_BACKENDS:
        raise ConfigError(f"the {backend} backend has no ONNX graph")
    folder = (root or cache_root()) / graph_dir_name(*weights)
    reduce_range = backend == "onnx-int8" and int8_variant() == "rr"
    target = folder / (FP32_FILE if backend == "onnx" else INT8_RR_FILE if reduce_range else INT8_FILE)
    if target.is_file():
        return target
    _need_onnx()
    folder.mkdir(parents=True, exist_ok=True)
    fp32 = folder / FP32_FILE
    encoder = None
    if not fp32.is_file():
        encoder = load_torch()
        log.warning("building the ONNX graph of encoder %s in %s (once; about a minute)", encoder.key, folder)
        start = time.perf_counter()
        _atomic(fp32, lambda tmp: export_fp32(encoder, tmp))
        log.warning("ONNX graph built in %.0f s", time.perf_counter() - start)
    if backend == "onnx-int8" and not target.is_file():
        log.warning("quantizing the ONNX graph to int8 in %s (once)", folder)
        start = time.perf_counter()
        _atomic(target, lambda tmp: quantize_int8(fp32, tmp, reduce_range=reduce_range))
        log.warning("int8 graph built in %.0f s", time.perf_counter() - start)
    return target


def _need_onnx() -> None:
    for module in ("onnx", "onnxruntime"):
        try:
            __import__(module)
        except ImportError:
            raise MissingDependencyError(module, "ml") from None


def _atomic(target: Path, write: Any) -> None:
    """``write(tmp_path)`` then move into ``target``, so a half-written graph is never loaded."""
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        path = Path(tmp) / target.name
        write(path)
        os.replace(path, target)


def export_fp32(encoder: Any, out: Path) -> Path:
    """Export ``encoder`` (a loaded torch :class:`SentenceEncoder`) to ``out``: inputs ``input_ids``,
    ``attention_mask`` (int64, batch x tokens), output ``vector`` (float32, batch x dim), the mean
    of the last layer over the mask, as :meth:`SentenceEncoder.pool` computes it."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    sample = encoder.tokenize(["The delivery was late again, and support never answered.", "Fine."])
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "vector": {0: "batch"}}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer notes on shape arithmetic: the graph is checked below
        torch.onnx.export(Pooled(encoder.model_).eval(), (sample["input_ids"], sample["attention_mask"]), str(out),
                          dynamo=False, input_names=["input_ids", "attention_mask"], output_names=["vector"],
                          dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
    return out


def quantize_int8(fp32: Path, out: Path, *, reduce_range: bool = False) -> Path:
    """The int8 graph (see the module doc) from the fp32 graph ``fp32``: every weight matrix but the
    feed-forward output projections (:data:`KEEP_FP32`) in int8, activations per row
    (:func:`.onnx_int8.quantize_rows`); ``reduce_range``: 7-bit weights, for CPUs without VNNI
    (:func:`int8_variant`)."""
    from .onnx_int8 import quantize_rows

    return quantize_rows(fp32, out, keep=KEEP_FP32, qmax=63 if reduce_range else 127)


def clear(root: Path | None = None) -> None:
    """Remove every cached graph under ``root`` (default :func:`cache_root`)."""
    root = root or cache_root()
    if root.exists():
        shutil.rmtree(root)
