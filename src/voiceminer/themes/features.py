"""Richer sentence features from the one shared encoder pass.

The plain sentence vector is the mean of the last layer's token vectors. A
theme head gains from a little more of what the same forward pass already
computed: the max over tokens (picks up a single decisive word such as
"luggage") and the mean of earlier layers (closer to the surface words).
:func:`rich_features` asks the encoder's own tokenizer and model for those,
so the cost stays one pass per sentence.

Feature sets are named and fixed; a trained artifact records the name it was
fitted on (``"mean"`` is exactly ``SentenceEncoder.encode(normalize=True)``).

>>> FEATURE_SETS["mean"]
('mean-1',)
>>> feature_dim("mean+max+mean-2+mean-3")
1536
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import ConfigError

# block names: "<pool><layer>" where layer -1 is the last hidden layer.
FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "mean": ("mean-1",),
    "mean+max": ("mean-1", "max-1"),
    "mean+max+mean-2+mean-3": ("mean-1", "max-1", "mean-2", "mean-3"),
    "mean+max+mean-2+max-2": ("mean-1", "max-1", "mean-2", "max-2"),
}
BLOCK_DIM = 384  # MiniLM's width; pass ``dim`` for another encoder


def feature_dim(name: str, dim: int = BLOCK_DIM) -> int:
    """Width of the feature set ``name`` over an encoder of width ``dim``."""
    return dim * len(_blocks(name))


def _blocks(name: str) -> tuple[str, ...]:
    try:
        return FEATURE_SETS[name]
    except KeyError:
        raise ConfigError(f"unknown theme feature set {name!r}; known: {', '.join(FEATURE_SETS)}") from None


def rich_features(encoder: Any, texts: Sequence[str], name: str = "mean+max+mean-2+mean-3",
                  *, batch_size: int = 64) -> np.ndarray:
    """Float32 ``(len(texts), feature_dim(name))``: each block L2-normalised, in order.

    ``encoder`` is a loaded :class:`~voiceminer.models.encoder.SentenceEncoder`
    (anything with ``tokenize(texts)`` and a HuggingFace ``model_``).

    >>> from voiceminer.models.encoder import SentenceEncoder      # doctest: +SKIP
    >>> rich_features(SentenceEncoder().load(), ["Late again."]).shape  # doctest: +SKIP
    (1, 1536)
    """
    import torch

    blocks = _blocks(name)
    out = np.zeros((len(texts), feature_dim(name, getattr(encoder, "dim", BLOCK_DIM))), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            batch = encoder.tokenize([texts[i] for i in idx])
            hidden = encoder.model_(**batch, output_hidden_states=True).hidden_states
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden[-1].dtype)
            out[idx] = np.concatenate([_pool(hidden, mask, b) for b in blocks], axis=1)
    return out


def _pool(hidden: Any, mask: Any, block: str) -> np.ndarray:
    pool, layer = block.split("-")
    h = hidden[-int(layer)]
    if pool == "mean":
        v = (h * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    else:
        v = h.masked_fill(mask == 0, -1e4).max(1).values
    v = v.float().numpy()  # bf16 token vectors (backend torch-bf16) have no numpy type
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
