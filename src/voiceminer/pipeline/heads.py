"""Stages that read the shared vectors: sentiment, complaint flags and needs.

All three use the heads of the same shipped model (``models/shared-v1``), so they
add a few small matrix products to the one encoder pass.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar, Sequence

import numpy as np

from ..flags.sarcasm import sarcasm_marker
from ..types import Annotation
from .base import Analysed, StageContext, register_stage
from .encode import load_shared, shared_artifact

LABELS = ("negative", "neutral", "positive")
# Without an explicit cue, a sentence counts as an unmet need only when the need head is this sure:
# the head's training data (HICSS-2023) also calls complaints about a product "needs" ...
IMPLICIT_NEED = 0.85
# ... and, with a request-kind head beside the shared model (voiceminer.models.request_kind), only
# when that head does not read it as a defect report.
DEFECT = 0.5


@lru_cache(maxsize=8192)
def _cues(text: str) -> tuple:
    """Cue detection is a pure function of the text; feedback repeats itself, so cache it."""
    from ..flags import find_cues

    return tuple(find_cues(text))


@lru_cache(maxsize=8192)
def _need_cues(text: str) -> tuple:
    from ..flags import need_cues

    return tuple(need_cues(text))


@lru_cache(maxsize=8192)
def _statement(text: str) -> str:
    """The short need statement of a sentence, cached (it runs spaCy)."""
    from ..flags import need_statement

    return need_statement(text)[:200] or text[:200]


def clear_text_caches() -> None:
    """Forget cached cue/need results (benchmarks measure cold runs)."""
    from ..flags import need_has_subject

    need_has_subject.cache_clear()
    for cached in (_cues, _need_cues, _statement):
        cached.cache_clear()


class _HeadStage:
    requires: ClassVar[tuple[str, ...]] = ("sentences", "vectors")
    version: str = "1"
    rules: ClassVar[str] = ""  # bumped when a stage's own rules change, so stored results are redone

    def __init__(self, context: StageContext | None = None) -> None:
        self.context = context or StageContext()
        self.model_: Any = None

    def load(self) -> "_HeadStage":
        self.model_ = load_shared(shared_artifact(self.context))
        self.version = (f"{self.model_.version}+{self.model_.encoder_.key.rsplit('@', 1)[-1]}"
                        + (f"+{self.rules}" if self.rules else ""))
        return self

    def probs(self, a: Analysed, task: str) -> np.ndarray:
        if a.vectors is None or not len(a.vectors):
            return np.zeros((0, len(self.model_.heads_.labels[task])), np.float32)
        return self.model_.predict(a.vectors)[task]

    def ann(self, a: Analysed, layer: str, label: str, score: float, idx: int | None,
            span: tuple[int, int], **data: Any) -> Annotation:
        return Annotation(comment_id=a.comment.id, layer=layer, label=label, score=round(float(score), 4),
                          producer=self.name, producer_version=self.version, sentence_index=idx, span=span,
                          data=data)


@register_stage
class SharedSentimentStage(_HeadStage):
    """Sentence and comment polarity; score = P(positive) - P(negative) in [-1, 1]."""

    name: ClassVar[str] = "sentiment.shared.v1"
    produces: ClassVar[tuple[str, ...]] = ("sentiment",)

    def __call__(self, batch: Sequence[Analysed]) -> list[Analysed]:
        return [a.add(annotations=self._annotate(a)) for a in batch]

    def _annotate(self, a: Analysed) -> list[Annotation]:
        probs, extra = self.sentence_probs(a)
        out = []
        for s, p, more in zip(a.sentences, probs, extra):
            out.append(self.ann(a, "sentiment", LABELS[int(np.argmax(p))], p[2] - p[0], s.index, (s.start, s.end),
                                probs=[round(float(x), 4) for x in p], **more))
        if len(probs):
            weights = np.array([len(s.text) for s in a.sentences], np.float32)
            mean = (probs * weights[:, None]).sum(0) / weights.sum()
        else:
            mean = np.array([0.0, 1.0, 0.0])
        out.append(self.ann(a, "sentiment", LABELS[int(np.argmax(mean))], mean[2] - mean[0], None,
                            (0, len(a.comment.text)), probs=[round(float(x), 4) for x in mean]))
        return out

    def sentence_probs(self, a: Analysed) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """Per sentence (negative, neutral, positive) probabilities and extra annotation data."""
        return self.probs(a, "sentiment"), [{} for _ in a.sentences]


@register_stage
class SarcasmAwareSentimentStage(SharedSentimentStage):
    """``sentiment.shared.v1`` plus sarcastic praise: a positive sentence with a sarcasm marker
    (eye-roll emoji, "yeah right", "Great, another delay", see :mod:`voiceminer.flags.sarcasm`)
    has its positive and negative probabilities swapped; the marker is kept as ``sarcasm``."""

    name: ClassVar[str] = "sentiment.shared.v2"

    def sentence_probs(self, a: Analysed) -> tuple[np.ndarray, list[dict[str, Any]]]:
        probs, extra = super().sentence_probs(a)
        probs = probs.copy()
        for i, s in enumerate(a.sentences):
            if probs[i, 2] > probs[i, 0] and (marker := sarcasm_marker(s.text)):  # only positive ones can flip
                probs[i, [0, 2]] = probs[i, [2, 0]]
                extra[i] = {"sarcasm": marker}
        return probs, extra


@register_stage
class ComplaintStage(_HeadStage):
    """Complaint probability per sentence and comment, cues (churn, urgency, safety, legal,
    vulnerability) and a triage priority with its reasons."""

    name: ClassVar[str] = "complaint.shared.v1"
    requires: ClassVar[tuple[str, ...]] = ("sentences", "vectors", "sentiment")
    produces: ClassVar[tuple[str, ...]] = ("complaint",)

    def __call__(self, batch: Sequence[Analysed]) -> list[Analysed]:
        return [a.add(annotations=self._annotate(a)) for a in batch]

    def _annotate(self, a: Analysed) -> list[Annotation]:
        from ..flags import PriorityRules, prioritise

        threshold = self.model_.thresholds["complaint"]
        probs = self.probs(a, "complaint")[:, 1]
        out = [self.ann(a, "complaint", "complaint", p, s.index, (s.start, s.end))
               for s, p in zip(a.sentences, probs) if p >= threshold]
        score = float(probs.max()) if len(probs) else 0.0
        cues = _cues(a.comment.text)
        out += [self.ann(a, "cue", c.kind, 1.0 if c.strength == "strong" else 0.5, None, c.span, phrase=c.phrase)
                for c in cues]
        sentiment = next((x.score for x in a.layer("sentiment") if x.sentence_index is None), 0.0)
        prio = prioritise(score, max(-1.0, min(1.0, sentiment)), cues, rating=a.comment.rating,
                          rating_scale=a.comment.rating_scale, rules=PriorityRules(complaint=threshold))
        out.append(self.ann(a, "complaint", "complaint" if score >= threshold else "not_complaint", score, None,
                            (0, len(a.comment.text)), priority=prio.level, priority_score=round(prio.score, 4),
                            reasons=list(prio.reasons)))
        return out


@register_stage
class NeedsStage(_HeadStage):
    """Sentences that express an unmet need, wish or missing capability, with a short need statement.

    The need head is trained on data where praise of a satisfied need also counts as a
    need ("the driver was lovely"), and so do defects ("the app keeps logging me out"). An
    *unmet* need is a sentence with an explicit need cue ("I wish", "please add", "why
    can't I"), or one without a cue that the need head is very sure of (``IMPLICIT_NEED``),
    that is not positive and that the request-kind head does not read as a defect report
    (``DEFECT``): implicit needs such as "I'm at work until 6 so daytime delivery is useless".
    Without a request-kind head (``request_kind/`` beside the shared model) there is no
    defect check. A sentence that head reads as a feature request is not taken as a need
    without a cue: on the demo corpus that rule also took complaints and sarcasm ("Support
    just copy-pastes a refusal.", P(feature) 0.67). Either way its statement must say what is needed
    (:func:`~voiceminer.flags.need_has_subject`): "Please fix." and "Can you look into this?"
    ask without naming a need.
    """

    name: ClassVar[str] = "needs.shared.v1"
    rules: ClassVar[str] = "subj.def"
    requires: ClassVar[tuple[str, ...]] = ("sentences", "vectors", "sentiment")
    produces: ClassVar[tuple[str, ...]] = ("needs",)

    def load(self) -> "NeedsStage":
        from ..models.request_kind import load_request_kind

        super().load()
        self.kind_ = load_request_kind(shared_artifact(self.context), self.model_.encoder_.key)
        if self.kind_ is not None:
            self.version += f"+{self.kind_.weights_sha256_[:8]}"  # the store keeps 40 characters
        return self

    def __call__(self, batch: Sequence[Analysed]) -> list[Analysed]:
        kinds = iter(self._kinds(batch))
        return [a.add(annotations=self._annotate(a, next(kinds))) for a in batch]

    def _kinds(self, batch: Sequence[Analysed]) -> list[list[float]]:
        """Per comment, per sentence: P(defect) (zeros without a request-kind head)."""
        from ..models.request_kind import kind_proba

        scored = [a for a in batch if a.vectors is not None and len(a.vectors)]
        sizes = [len(a.sentences) if a.vectors is not None and len(a.vectors) else 0 for a in batch]
        if self.kind_ is None or not scored:
            return [[0.0] * n for n in sizes]
        defect = iter(kind_proba(self.kind_, np.concatenate([a.vectors for a in scored]),
                                 [s.text for a in scored for s in a.sentences])["defect"].tolist())
        return [[next(defect) for _ in range(n)] for n in sizes]

    def _annotate(self, a: Analysed, defects: list[float]) -> list[Annotation]:
        from ..flags import need_has_subject  # cached there, like the statements here

        threshold = self.model_.thresholds["need"]
        polarity = {x.sentence_index: x.label for x in a.layer("sentiment")}
        out = []
        for s, p, defect in zip(a.sentences, self.probs(a, "need")[:, 1], defects):
            implicit = p >= max(threshold, IMPLICIT_NEED) and polarity.get(s.index) != "positive" and defect < DEFECT
            cues = [[s.start + x, s.start + y] for x, y in _need_cues(s.text)]
            if not (cues or implicit):
                continue
            statement = _statement(s.text)
            if need_has_subject(statement, bool(cues)):
                out.append(self.ann(a, "need", statement, p, s.index, (s.start, s.end), cues=cues))
        return out
