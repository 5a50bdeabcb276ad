"""``encode.shared.v1``: one encoder pass per unique sentence, cached by text hash.

Every head downstream reads the vectors this stage attaches; sentences already
encoded by the same weights (same encoder key) come from the store's cache. A comment
of more than one sentence also has its whole text encoded (in the same pass, through the
same cache: :func:`whole_text`), because the heads were trained on whole texts and a
comment's label is not the mean of its sentences' labels ("Thanks for nothing. Great job."
is one complaint, not two mild sentences). (The sentiment
stage also encodes with the model's sentiment companion, if it names one, through the same
cache under the companion's key: :func:`cached_vectors`.)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar, Sequence

import numpy as np

from ..types import text_hash
from .base import Analysed, StageContext, register_stage


@lru_cache(maxsize=2)
def load_shared(artifact: str | None, backend: str = "torch") -> Any:
    """Load a shared model once per process and backend (stages of one pipeline share it)."""
    from ..models.shared import SharedModel

    return SharedModel(artifact, backend=backend).load()


def context_shared(context: StageContext) -> Any:
    """The shared model a stage context names, on the context's backend."""
    return load_shared(shared_artifact(context), context.backend or "torch")


def shared_artifact(context: StageContext) -> str:
    from ..models.shared import shared_path

    return str(shared_path(context.models_dir, context.shared_model))


def cached_vectors(model: Any, cache: Any, texts: Sequence[str]) -> dict[str, np.ndarray]:
    """``model.encode`` vectors of ``texts`` by text hash; those in ``cache`` (a store cache of
    ``model``'s encoder key, or None) are not encoded again, and fresh ones are put there."""
    by_hash = {text_hash(t): t for t in texts}
    found = cache.get(by_hash) if cache is not None else {}
    missing = [h for h in by_hash if h not in found]
    if missing:
        new = dict(zip(missing, model.encode([by_hash[h] for h in missing])))
        if cache is not None:
            cache.put(new)
        found.update(new)
    return found


# Longer comments would be cut at the encoder's 128 tokens (about 4 characters a token in English):
# they keep their sentences' aggregate, and cost no second pass.
WHOLE_MAX_CHARS = 500


def whole_text(a: Analysed) -> str | None:
    """The text the comment-level heads read when a comment has more than one sentence (its
    text, stripped); None for a comment of one sentence or none (its sentence's vector serves)
    and for one longer than ``WHOLE_MAX_CHARS``."""
    text = a.comment.text.strip()
    return text if len(a.sentences) > 1 and len(text) <= WHOLE_MAX_CHARS else None


@register_stage
class SharedEncodeStage:
    """Attach a (n_sentences, encoder width) float32 array to each comment, and the whole
    text's vector to a comment of more than one sentence (``Analysed.whole``)."""

    name: ClassVar[str] = "encode.shared.v1"
    version: str = "1"
    requires: ClassVar[tuple[str, ...]] = ("sentences",)
    produces: ClassVar[tuple[str, ...]] = ("vectors",)

    def __init__(self, context: StageContext | None = None) -> None:
        self.context = context or StageContext()
        self.model_: Any = None
        self.cache_: Any = None

    def load(self) -> "SharedEncodeStage":
        self.model_ = context_shared(self.context)
        self.version = self.model_.encoder_.vector_key  # the weights, and the backend when not torch
        if self.context.vector_cache is not None:
            self.cache_ = self.context.vector_cache(self.version)
        return self

    def vectors_for(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors by text hash, from the cache where possible."""
        return cached_vectors(self.model_, self.cache_, texts)

    def __call__(self, batch: Sequence[Analysed]) -> list[Analysed]:
        wholes = [whole_text(a) for a in batch]
        vectors = self.vectors_for([s.text for a in batch for s in a.sentences] + [w for w in wholes if w])
        out = []
        for a, whole in zip(batch, wholes):
            rows = [vectors[text_hash(s.text)] for s in a.sentences]
            out.append(a.with_vectors(np.stack(rows) if rows else np.zeros((0, self.model_.encoder_.dim), np.float32),
                                      vectors[text_hash(whole)] if whole else None))
        return out
