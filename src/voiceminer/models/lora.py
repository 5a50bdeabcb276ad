"""Low-rank adapters (LoRA) for the encoder's linear layers: train few parameters, ship few.

A larger encoder cannot be committed whole (``models/`` stays tens of MB), so its fine-tune
is stored as adapters: for each adapted ``nn.Linear`` with weight ``W`` (out x in), two
matrices ``A`` (r x in) and ``B`` (out x r), and the layer computes ``W x + s * B A x``
with ``s = alpha / r``. At load the product is merged into ``W`` once, so inference costs
exactly what the base encoder costs.

>>> import torch
>>> layer = torch.nn.Linear(4, 3)
>>> wrapped = LoRALinear(layer, rank=2, alpha=4)
>>> bool(torch.allclose(wrapped(torch.ones(1, 4)), layer(torch.ones(1, 4))))  # B starts at zero
True
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import torch
from torch import nn

# Linear layers adapted in a BERT-like layer stack (MPNet and BERT names).
TARGETS = ("attn.q", "attn.k", "attn.v", "attn.o", "attention.self.query", "attention.self.key",
           "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense")


class LoRALinear(nn.Module):
    """``base(x) + scale * B(A(dropout(x)))``; ``base`` is frozen."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float, dropout: float = 0.0) -> None:
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad = False
        self.rank, self.scale = rank, alpha / rank
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (self.dropout(x) @ self.lora_A.T @ self.lora_B.T) * self.scale


def adapter_targets(model: Any, targets: Iterable[str] = TARGETS) -> list[str]:
    """Names of the linear layers inside the encoder's layer stack that get adapters."""
    names = []
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) and ".layer." in f".{name}" and name.endswith(tuple(targets)):
            names.append(name)
    return names


def add_adapters(model: Any, rank: int, alpha: float, dropout: float = 0.0) -> list[str]:
    """Freeze ``model`` and wrap its target linear layers with trainable adapters."""
    for p in model.parameters():
        p.requires_grad = False
    names = adapter_targets(model)
    for name in names:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        setattr(parent, child, LoRALinear(getattr(parent, child), rank, alpha, dropout))
    return names


def adapter_state(model: Any) -> dict[str, Any]:
    """``{"<layer>.lora_A": tensor, "<layer>.lora_B": tensor}`` for every adapted layer."""
    return {f"{name}.{part}": getattr(module, part).detach()
            for name, module in model.named_modules() if isinstance(module, LoRALinear)
            for part in ("lora_A", "lora_B")}


def merge_adapters(model: Any, state: Mapping[str, Any], scale: float) -> int:
    """Add ``scale * B @ A`` into each adapted layer's weight of a plain (unwrapped) model.

    Returns the number of layers changed; raises KeyError naming a layer that does not exist.
    """
    layers = sorted({key.rsplit(".", 1)[0] for key in state})
    with torch.no_grad():
        for name in layers:
            linear = model.get_submodule(name)
            a, b = state[f"{name}.lora_A"].float(), state[f"{name}.lora_B"].float()
            linear.weight += scale * (b @ a)
    return len(layers)
