"""The shipped multi-task model: one fine-tuned encoder pass, several linear heads (and, for
sentiment, optionally a second, smaller model's head mixed in).

An artifact folder (``models/shared-v1/``) holds ``config.json``, the changed encoder
layers (``encoder_delta.safetensors``), the heads (``heads.safetensors``) and
``MODEL_CARD.md``. Heads are linear over the mean-pooled sentence vector, so every
head together costs one small matrix product next to the encoder.

A model's ``config.json`` may name a sentiment companion (``"sentiment_companion": {"model":
"shared-v1", "weight": 0.25, "encoder_key": ...}``): another shipped shared model in the same
folder, loaded beside it, whose sentiment head is mixed into this one's
(:meth:`SharedModel.sentiment`). It reads its own encoder's vectors (MiniLM for ``shared-v1``:
about 0.15 of the mpnet pass's cost), so sentiment costs one small extra pass; every other
head reads the one main pass.

>>> import numpy as np
>>> heads = LinearHeads({"need": (np.zeros((2, 3), np.float32), np.array([0.0, 1.0], np.float32))},
...                     {"need": ["no", "yes"]})
>>> [round(float(p), 2) for p in heads.predict(np.ones((1, 3), np.float32))["need"][0]]
[0.27, 0.73]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import ConfigError
from .encoder import SentenceEncoder
from .paths import REPO_MODELS, models_dir  # noqa: F401  (REPO_MODELS: re-exported)

DEFAULT_SHARED = "shared-v2"


def shared_path(folder: str | Path | None = None, name: str | None = None) -> Path:
    """The shared artifact ``name`` (default :data:`DEFAULT_SHARED`) inside ``folder`` (default
    :func:`models_dir`)."""
    return Path(folder or models_dir()) / (name or DEFAULT_SHARED)


def shared_key(folder: str | Path | None = None, name: str | None = None) -> str | None:
    """The encoder key of the shared artifact ``name`` in ``folder`` (see :func:`shared_path`) without
    loading it, or None where there is no such artifact (the report then takes whichever encoder's
    stored vectors cover most sentences)."""
    from .encoder import artifact_key

    try:
        return artifact_key(shared_path(folder, name))
    except (OSError, KeyError, ValueError):
        return None


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class LinearHeads:
    """``task -> (weight (n_labels, dim), bias (n_labels,))`` and the label names."""

    weights: Mapping[str, tuple[np.ndarray, np.ndarray]]
    labels: Mapping[str, Sequence[str]]

    def predict(self, vectors: np.ndarray, tasks: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Class probabilities per task (every task, or those in ``tasks``), shape ``(n, n_labels)``."""
        return {task: softmax(vectors @ w.T + b) for task, (w, b) in self.weights.items()
                if tasks is None or task in tasks}


def head_basis(heads: LinearHeads, tasks: Sequence[str]) -> np.ndarray:
    """Orthonormal basis ``(dim, k)`` of the directions the heads ``tasks`` read: each head's
    weight rows less their mean (a three-way head spans two directions, a two-way head one).

    Zero-shot themes remove these from the vectors (``project_out`` in the zero-shot calibration):
    what a fine-tuned encoder learnt for sentiment, complaint and need is how a sentence feels,
    not what it is about, and left in it pulls "Everything was super fresh" towards every theme
    whose examples are praise.

    >>> h = LinearHeads({"s": (np.array([[1.0, 0, 0], [0, 0, 0], [-1.0, 0, 0]]), np.zeros(3))}, {"s": "abc"})
    >>> np.abs(head_basis(h, ["s"])).round(3).tolist()
    [[1.0], [0.0], [0.0]]
    """
    missing = [t for t in tasks if t not in heads.weights]
    if missing:
        raise ConfigError(f"no {', '.join(missing)} head to project out (heads: {', '.join(heads.weights)})")
    weights = [np.asarray(heads.weights[t][0], np.float64) for t in tasks]
    rows = np.vstack([w - w.mean(0) for w in weights])
    _, s, vt = np.linalg.svd(rows, full_matrices=False)
    return vt[s > s.max() * 1e-6].T.astype(np.float32)


def fuse(own: np.ndarray, other: np.ndarray, weight: float) -> np.ndarray:
    """Late fusion of two models' class probabilities: ``(1 - weight) * own + weight * other``."""
    return (1.0 - weight) * own + weight * other


class SharedModel:
    """The fine-tuned encoder plus its heads, loaded from an artifact folder."""

    def __init__(self, artifact: str | Path | None = None, *, companion: bool = True, backend: str = "torch") -> None:
        self.artifact = Path(artifact) if artifact else shared_path()
        self.backend = backend  # how the encoders run (torch, onnx, onnx-int8, torch-bf16: see .onnx_export)
        self.config_: dict[str, Any] = {}
        self.encoder_: SentenceEncoder | None = None
        self.heads_: LinearHeads | None = None
        self.load_companion = companion
        self.companion_: SharedModel | None = None  # the sentiment companion, when the config names one
        self.companion_weight_ = 0.0

    def load(self) -> "SharedModel":
        from safetensors.numpy import load_file

        cfg_path = self.artifact / "config.json"
        if not cfg_path.is_file():
            raise ConfigError(f"no model at {self.artifact} (missing config.json); train it with "
                              "scripts/train_shared.py or point VOICEMINER_MODELS at the models folder")
        self.config_ = json.loads(cfg_path.read_text(encoding="utf-8"))
        self.encoder_ = SentenceEncoder(self.artifact, backend=self.backend).load()
        raw = load_file(str(self.artifact / self.config_["heads_file"]))
        labels = {task: spec["labels"] for task, spec in self.config_["heads"].items()}
        weights = {task: (raw[f"{task}.weight"].astype(np.float32), raw[f"{task}.bias"].astype(np.float32))
                   for task in labels}
        self.heads_ = LinearHeads(weights, labels)
        spec = self.config_.get("sentiment_companion")
        if spec and self.load_companion:
            self.companion_, self.companion_weight_ = self._companion(spec, cfg_path)
        return self

    def _companion(self, spec: dict[str, Any], cfg_path: Path) -> tuple["SharedModel", float]:
        """Load and check the sentiment companion ``spec`` names: (model, weight)."""
        path = self.artifact.parent / str(spec["model"])
        if not (path / "config.json").is_file():
            raise ConfigError(f"{cfg_path}: its sentiment companion {spec['model']!r} is missing "
                              f"(no {path / 'config.json'}); ship it beside the model or remove "
                              "sentiment_companion (scripts/fit_sentiment_companion.py --weight 0 --write)")
        weight = float(spec["weight"])
        if not 0.0 < weight < 1.0:
            raise ConfigError(f"{cfg_path}: sentiment_companion weight must be between 0 and 1 "
                              f"(exclusive), got {spec['weight']!r}")
        companion = SharedModel(path, companion=False, backend=self.backend).load()
        mine, theirs = list(self.heads_.labels["sentiment"]), list(companion.heads_.labels["sentiment"])
        if theirs != mine:
            raise ConfigError(f"{cfg_path}: the sentiment companion {spec['model']!r} has sentiment labels "
                              f"{theirs}, not {mine}")
        fitted = spec.get("encoder_key")
        if fitted and fitted != companion.encoder_.key:
            raise ConfigError(f"{cfg_path}: the sentiment companion's weight was fitted to {fitted}, but "
                              f"{path} now holds {companion.encoder_.key}; refit it with "
                              f"scripts/fit_sentiment_companion.py --model {self.artifact.name} --write")
        return companion, weight

    @property
    def version(self) -> str:
        return str(self.config_.get("version", "0"))

    @property
    def thresholds(self) -> dict[str, float]:
        return {task: float(spec.get("threshold", 0.5)) for task, spec in self.config_["heads"].items()}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder_.encode(texts)

    def predict(self, vectors: np.ndarray, tasks: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """This model's heads (every one, or those in ``tasks``) on its own vectors (sentiment
        without the companion: see :meth:`sentiment`)."""
        return self.heads_.predict(vectors, tasks)

    @property
    def companion_tag(self) -> str:
        """Names the companion's weights and weight ("" without one), for stage versions."""
        if self.companion_ is None:
            return ""
        return f"{self.companion_.encoder_.key.rsplit('@', 1)[-1][:8]}x{self.companion_weight_:g}"

    def sentiment(self, vectors: np.ndarray, companion_vectors: np.ndarray | None = None) -> np.ndarray:
        """(negative, neutral, positive) probabilities per sentence: this model's sentiment head,
        mixed with the companion's (``(1 - w) * own + w * companion``, late fusion of two
        encoders, the weight chosen by ``scripts/fit_sentiment_companion.py``) when the config
        names one; ``companion_vectors`` are then the companion encoder's vectors of the same
        sentences (``model.companion_.encode``)."""
        own = self.predict(vectors, ("sentiment",))["sentiment"]
        if self.companion_ is None:
            return own
        if companion_vectors is None or len(companion_vectors) != len(vectors):
            raise ValueError(f"{self.artifact.name} mixes in {self.companion_.artifact.name}'s sentiment: "
                             "pass that encoder's vectors of the same sentences")
        other = self.companion_.predict(companion_vectors, ("sentiment",))["sentiment"]
        return fuse(own, other, self.companion_weight_)
