"""The stage protocol, the pipeline builder and the runner.

A stage is small, named and versioned (``segment.sentencizer.v1``). It declares
what it ``requires`` and what it ``produces``; :class:`Pipeline` checks the
order when it is built, not halfway through a job. Stages are pure over
batches: they take a list of :class:`Analysed` and return a new list of the
same length and order, never mutating their input. The runner's caller stores.

>>> from voiceminer.types import Comment
>>> p = Pipeline.from_names(["segment.sentencizer.v1", "sentiment.vader.v1"])
>>> [a.label for a in p.run([Comment(id="c1", text="I love it.", source="x")])[0].annotations]
['positive', 'positive']
"""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Iterable, Protocol, Sequence, runtime_checkable

from ..errors import PipelineError
from ..registry import stages
from ..types import Annotation, Comment, Sentence


@dataclass(frozen=True)
class Analysed:
    """A comment with what stages have produced for it so far.

    ``vectors`` (float32, one row per sentence) is set by an encode stage and read by
    the heads; ``whole`` (one row, or None) is the vector of the whole comment text, set by
    the encode stage for comments of more than one sentence (comment-level decisions read it).
    Both are working state, not stored with the annotations.
    """

    comment: Comment
    sentences: tuple[Sentence, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    vectors: Any = field(default=None, compare=False, repr=False)
    whole: Any = field(default=None, compare=False, repr=False)

    def add(self, sentences: Iterable[Sentence] = (), annotations: Iterable[Annotation] = ()) -> "Analysed":
        return replace(self, sentences=self.sentences + tuple(sentences),
                       annotations=self.annotations + tuple(annotations))

    def with_vectors(self, vectors: Any, whole: Any = None) -> "Analysed":
        return replace(self, vectors=vectors, whole=whole)

    def layer(self, name: str) -> list[Annotation]:
        return [a for a in self.annotations if a.layer == name]


@dataclass(frozen=True)
class StageContext:
    """What stages may need from outside: the vector cache, model and taxonomy locations."""

    vector_cache: Any = None  # a callable encoder_key -> cache with get/put, or None
    models_dir: Any = None  # folder holding the shipped model artifacts (None: the project's models/)
    shared_model: Any = None  # artifact name inside models_dir (None: models.shared.DEFAULT_SHARED)
    taxonomy: Any = None  # theme taxonomy YAML path (None: the default taxonomy)
    themes_model: Any = None  # trained themes model folder (None: zero-shot from the taxonomy)
    backend: Any = None  # how the shared model's encoders run: torch (None), onnx, onnx-int8 or torch-bf16


@runtime_checkable
class Stage(Protocol):
    """What every stage provides. ``load()`` does the heavy lifting (models), once."""

    name: ClassVar[str]
    version: ClassVar[str]
    requires: ClassVar[tuple[str, ...]]
    produces: ClassVar[tuple[str, ...]]

    def load(self) -> "Stage": ...

    def __call__(self, batch: Sequence[Analysed]) -> list[Analysed]: ...


class Pipeline:
    """An ordered, checked list of loaded stages."""

    def __init__(self, stage_list: Sequence[Stage]) -> None:
        self.stages = list(stage_list)
        _check_order(self.stages)

    @classmethod
    def from_names(cls, names: Sequence[str], context: "StageContext | None" = None) -> "Pipeline":
        """Build and load the named stages; stages that take a ``context`` get it."""
        if not names:
            raise PipelineError("the pipeline has no stages; set `pipeline` in the config")
        context = context or StageContext()
        built = []
        for name in names:
            factory = stages.get(name)
            wants = "context" in inspect.signature(factory).parameters
            built.append((factory(context=context) if wants else factory()).load())
        return cls(built)

    @property
    def key(self) -> str:
        """Identifies the exact stage versions; comments analysed under another key are redone."""
        spec = "|".join(f"{s.name}@{s.version}" for s in self.stages)
        return hashlib.sha256(spec.encode()).hexdigest()[:16]

    @property
    def spec(self) -> list[str]:
        return [f"{s.name}@{s.version}" for s in self.stages]

    def run(self, comments: Sequence[Comment]) -> list[Analysed]:
        batch = [Analysed(c) for c in comments]
        for stage in self.stages:
            out = stage(batch)
            if len(out) != len(batch) or any(o.comment.id != b.comment.id for o, b in zip(out, batch)):
                raise PipelineError(f"stage {stage.name} changed the batch's length or order")
            batch = out
        return batch


def _check_order(stage_list: Sequence[Stage]) -> None:
    available: set[str] = set()
    for stage in stage_list:
        missing = [r for r in stage.requires if r not in available]
        if missing:
            raise PipelineError(
                f"stage {stage.name} requires {', '.join(missing)}, which no earlier stage produces; "
                f"put a stage that produces it before {stage.name}")
        available.update(stage.produces)


def register_stage(cls: type) -> type:
    """Class decorator: register a stage class under its ``name``."""
    return stages.register(cls.name)(cls)
