"""Stages that read the shared vectors: sentiment, complaint flags and needs.

All three use the heads of the same shipped model (``models/shared-v2`` by default), so they
add a few small matrix products to the one encoder pass; sentiment also mixes in the
model's sentiment companion when its config names one (a small second encoder, see
:meth:`voiceminer.models.shared.SharedModel.sentiment`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar, Sequence

import numpy as np

from ..flags.needs import VERSION as NEEDS_VERSION
from ..flags.sarcasm import sarcasm_marker
from ..types import Annotation, text_hash
from .base import Analysed, StageContext, register_stage
from .encode import cached_vectors, context_shared, shared_artifact, whole_text

LABELS = ("negative", "neutral", "positive")
# Without an explicit cue, a sentence counts as an unmet need only when the need head is this sure:
# the head's training data (HICSS-2023) also calls complaints about a product "needs" ...
IMPLICIT_NEED = 0.85
# ... and, with a request-kind head beside the shared model (voiceminer.models.request_kind), only
# when that head does not read it as a defect report.
DEFECT = 0.5
# A comment of several sentences: its label blends the head on its whole text (what the heads were
# trained on) with its sentences' aggregate (length-weighted mean for sentiment, max for complaint),
# weight of the whole text below; chosen by 5-fold cross-validation on the tune slices of the training
# splits (held out of the heads' training; scripts/choose_comment_rule.py): airline tweets of 2+
# sentences 0.795 -> 0.868 out of fold with the whole text alone; complaint tweets 0.880 -> 0.886 at 0.5.
# One sentence: that sentence's scores. A comment too long for the encoder's window has no whole-text
# vector (encode.WHOLE_MAX_CHARS) and keeps the sentences' aggregate.
WHOLE_SENTIMENT = 1.0
WHOLE_COMPLAINT = 0.5


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


def unmet_need(text: str, need: float, threshold: float, positive: bool,
               defect: float = 0.0) -> tuple[str, tuple] | None:
    """(statement, need cue spans) when a sentence is an unmet need (see :class:`NeedsStage`), else None.

    ``need`` is the need head's probability, ``threshold`` its decision threshold, ``positive``
    the sentence's polarity and ``defect`` the request-kind head's P(defect) (0 without one).
    """
    from ..flags import implicit_statement, need_has_subject  # cached there, like the cues and statements here

    cues = _need_cues(text)
    if not (cues or (implicit_candidate(need, threshold, positive) and defect < DEFECT)):
        return None
    if not cues and implicit_statement(text) is None:  # no lack or obstacle to say as a need: a story, a defect
        return None
    statement = _statement(text)
    return (statement, cues) if need_has_subject(statement, bool(cues)) else None


def implicit_candidate(need: float, threshold: float, positive: bool) -> bool:
    """Whether a sentence without a need cue may be an implicit need (before the defect check)."""
    return need >= max(threshold, IMPLICIT_NEED) and not positive


def clear_text_caches() -> None:
    """Forget cached cue/need results (benchmarks measure cold runs)."""
    from ..flags import implicit_statement, need_has_subject

    for cached in (need_has_subject, implicit_statement, _cues, _need_cues, _statement):
        cached.cache_clear()


def _rounded(probs: np.ndarray) -> list[float]:
    return [round(float(x), 4) for x in probs]


class _HeadStage:
    requires: ClassVar[tuple[str, ...]] = ("sentences", "vectors")
    version: str = "1"
    rules: ClassVar[str] = ""  # bumped when a stage's own rules change, so stored results are redone

    def __init__(self, context: StageContext | None = None) -> None:
        self.context = context or StageContext()
        self.model_: Any = None

    def load(self) -> "_HeadStage":
        self.model_ = context_shared(self.context)
        self.version = (f"{self.model_.version}+{self.model_.encoder_.key.rsplit('@', 1)[-1]}"
                        + (f"+{self.rules}" if self.rules else ""))
        return self

    def probs(self, a: Analysed, task: str) -> np.ndarray:
        if a.vectors is None or not len(a.vectors):
            return np.zeros((0, len(self.model_.heads_.labels[task])), np.float32)
        return self.model_.predict(a.vectors, (task,))[task]

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
    rules: ClassVar[str] = f"w{WHOLE_SENTIMENT:g}"
    companion_cache_: Any = None

    def load(self) -> "SharedSentimentStage":
        """The model's sentiment companion (if it names one) encodes the sentences too, through
        the store's cache under its own encoder key; the version names its weights and weight."""
        super().load()
        companion = self.model_.companion_
        if companion is not None:
            self.version += f"+{self.model_.companion_tag}"
            if self.context.vector_cache is not None:
                self.companion_cache_ = self.context.vector_cache(companion.encoder_.vector_key)
        return self

    def __call__(self, batch: Sequence[Analysed]) -> list[Analysed]:
        companion = self.model_.companion_
        texts = [s.text for a in batch for s in a.sentences] + [w for a in batch if (w := whole_text(a))]
        other = cached_vectors(companion, self.companion_cache_, texts) if companion is not None else {}
        return [a.add(annotations=self._annotate(a, other)) for a in batch]

    def _annotate(self, a: Analysed, companion: dict[str, np.ndarray]) -> list[Annotation]:
        probs, extra = self.sentence_probs(a, companion)
        out = []
        for s, p, more in zip(a.sentences, probs, extra):
            out.append(self.ann(a, "sentiment", LABELS[int(np.argmax(p))], p[2] - p[0], s.index, (s.start, s.end),
                                probs=[round(float(x), 4) for x in p], **more))
        comment, parts = self.comment_probs(a, probs, companion)
        out.append(self.ann(a, "sentiment", LABELS[int(np.argmax(comment))], comment[2] - comment[0], None,
                            (0, len(a.comment.text)), probs=_rounded(comment), **parts))
        return out

    def comment_probs(self, a: Analysed, probs: np.ndarray,
                      companion: dict[str, np.ndarray]) -> tuple[np.ndarray, dict[str, Any]]:
        """The comment's probabilities: its one sentence's, or (several sentences) ``WHOLE_SENTIMENT``
        times the head on the whole text plus the rest times the sentences' length-weighted mean;
        with the parts (``whole``, ``sentences``) as annotation data."""
        if not len(probs):
            return np.array([0.0, 1.0, 0.0]), {}
        weights = np.array([len(s.text) for s in a.sentences], np.float32)
        mean = (probs * weights[:, None]).sum(0) / weights.sum()
        if a.whole is None:
            return mean, {}
        whole = self.whole_probs(a, companion)
        return (WHOLE_SENTIMENT * whole + (1.0 - WHOLE_SENTIMENT) * mean,
                {"whole": _rounded(whole), "sentences": _rounded(mean)})

    def whole_probs(self, a: Analysed, companion: dict[str, np.ndarray]) -> np.ndarray:
        """The sentiment head (with the companion's mixed in) on the whole comment text."""
        other = None
        if self.model_.companion_ is not None:
            other = companion[text_hash(whole_text(a) or "")][None, :]
        return self.model_.sentiment(np.asarray(a.whole)[None, :], other)[0]

    def sentence_probs(self, a: Analysed,
                       companion: dict[str, np.ndarray]) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """Per sentence (negative, neutral, positive) probabilities and extra annotation data;
        ``companion``: the sentiment companion's vectors by text hash (empty without one)."""
        extra: list[dict[str, Any]] = [{} for _ in a.sentences]
        if a.vectors is None or not len(a.vectors):
            return np.zeros((0, len(LABELS)), np.float32), extra
        other = None
        if self.model_.companion_ is not None:
            other = np.stack([companion[text_hash(s.text)] for s in a.sentences])
        return self.model_.sentiment(a.vectors, other), extra


@register_stage
class SarcasmAwareSentimentStage(SharedSentimentStage):
    """``sentiment.shared.v1`` plus sarcastic praise: a positive sentence with a sarcasm marker
    (eye-roll emoji, "yeah right", "Great, another delay", see :mod:`voiceminer.flags.sarcasm`)
    has its positive and negative probabilities swapped; the marker is kept as ``sarcasm``."""

    name: ClassVar[str] = "sentiment.shared.v2"

    def sentence_probs(self, a: Analysed,
                       companion: dict[str, np.ndarray]) -> tuple[np.ndarray, list[dict[str, Any]]]:
        probs, extra = super().sentence_probs(a, companion)
        probs = probs.copy()
        for i, s in enumerate(a.sentences):
            if probs[i, 2] > probs[i, 0] and (marker := sarcasm_marker(s.text)):  # only positive ones can flip
                probs[i, [0, 2]] = probs[i, [2, 0]]
                extra[i] = {"sarcasm": marker}
        return probs, extra

    def whole_probs(self, a: Analysed, companion: dict[str, np.ndarray]) -> np.ndarray:
        """The whole text's probabilities, positive and negative swapped for sarcastic praise."""
        probs = super().whole_probs(a, companion).copy()
        if probs[2] > probs[0] and sarcasm_marker(a.comment.text):
            probs[[0, 2]] = probs[[2, 0]]
        return probs


@register_stage
class ComplaintStage(_HeadStage):
    """Complaint probability per sentence and comment, cues (churn, urgency, safety, legal,
    vulnerability) and a triage priority with its reasons."""

    name: ClassVar[str] = "complaint.shared.v1"
    rules: ClassVar[str] = f"w{WHOLE_COMPLAINT:g}"
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
        score, parts = self.comment_score(a, probs)
        cues = _cues(a.comment.text)
        out += [self.ann(a, "cue", c.kind, 1.0 if c.strength == "strong" else 0.5, None, c.span, phrase=c.phrase)
                for c in cues]
        sentiment = next((x.score for x in a.layer("sentiment") if x.sentence_index is None), 0.0)
        prio = prioritise(score, max(-1.0, min(1.0, sentiment)), cues, rating=a.comment.rating,
                          rating_scale=a.comment.rating_scale, rules=PriorityRules(complaint=threshold))
        out.append(self.ann(a, "complaint", "complaint" if score >= threshold else "not_complaint", score, None,
                            (0, len(a.comment.text)), priority=prio.level, priority_score=round(prio.score, 4),
                            reasons=list(prio.reasons), **parts))
        return out

    def comment_score(self, a: Analysed, probs: np.ndarray) -> tuple[float, dict[str, Any]]:
        """The comment's complaint probability: its one sentence's, or (several sentences)
        ``WHOLE_COMPLAINT`` times the head on the whole text plus the rest times the most
        complaining sentence's; with the parts (``whole``, ``sentences``) as annotation data."""
        top = float(probs.max()) if len(probs) else 0.0
        if a.whole is None:
            return top, {}
        whole = float(self.model_.predict(np.asarray(a.whole)[None, :], ("complaint",))["complaint"][0, 1])
        return (WHOLE_COMPLAINT * whole + (1.0 - WHOLE_COMPLAINT) * top,
                {"whole": round(whole, 4), "sentences": round(top, 4)})


@register_stage
class NeedsStage(_HeadStage):
    """Sentences that express an unmet need, wish or missing capability, with a short need statement.

    The need head is trained on data where praise of a satisfied need also counts as a
    need ("the driver was lovely"), and so do defects ("the app keeps logging me out"). An
    *unmet* need is a sentence with an explicit need cue ("I wish", "please add", "why
    can't I"), or one without a cue that the need head is very sure of (``IMPLICIT_NEED``),
    that is not positive, that the request-kind head does not read as a defect report
    (``DEFECT``) and that states a lack or an obstacle, which its statement says as the need
    (:func:`~voiceminer.flags.implicit.implicit_statement`): implicit needs such as "No notification
    when the order was on its way" -> "add notification when the order was on its way". Chosen on
    the RE'21 app reviews' train split: implicit sentences without such a reading were 16 defect
    reports, verdicts and stories to 4 feature requests, and their statements did not read as needs.
    Each need has a ``kind`` in its data: ``explicit`` when a need cue fired, else ``implicit``.
    Every comment also gets one ``need_scores`` annotation whose ``scores`` list holds the need
    head's probability for each sentence (the broader "tells us what customers need" signal,
    thresholded or not), its score the highest of them.
    Without a request-kind head (``request_kind/`` beside the shared model) there is no
    defect check. A sentence that head reads as a feature request is not taken as a need
    without a cue: on the demo corpus that rule also took complaints and sarcasm ("Support
    just copy-pastes a refusal.", P(feature) 0.67). Either way its statement must say what is needed
    (:func:`~voiceminer.flags.need_has_subject`): "Please fix." and "Can you look into this?"
    ask without naming a need.
    """

    name: ClassVar[str] = "needs.shared.v1"
    rules: ClassVar[str] = f"sd.k{NEEDS_VERSION}"  # subject, defect, kind checks; statements of flags.needs
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
        threshold = self.model_.thresholds["need"]
        scored = []  # per comment: (need probability, positive) per sentence
        for a in batch:
            polarity = {x.sentence_index: x.label for x in a.layer("sentiment")}
            scored.append([(float(p), polarity.get(s.index) == "positive")
                           for s, p in zip(a.sentences, self.probs(a, "need")[:, 1])])
        defects = self._defects(batch, [[implicit_candidate(p, threshold, pos) for p, pos in rows] for rows in scored])
        return [a.add(annotations=self._annotate(a, rows, d, threshold)) for a, rows, d in zip(batch, scored, defects)]

    def _defects(self, batch: Sequence[Analysed], candidates: list[list[bool]]) -> list[list[float]]:
        """Per comment, per sentence: P(defect) from the request-kind head, scored only for the
        implicit-need candidates (one call per batch); 0 elsewhere and without a head."""
        from ..models.request_kind import kind_proba

        out = [[0.0] * len(c) for c in candidates]
        where = [(i, j) for i, c in enumerate(candidates) for j, yes in enumerate(c) if yes]
        if self.kind_ is None or not where:
            return out
        vectors = np.stack([batch[i].vectors[j] for i, j in where])
        texts = [batch[i].sentences[j].text for i, j in where]
        for (i, j), p in zip(where, kind_proba(self.kind_, vectors, texts)["defect"].tolist()):
            out[i][j] = p
        return out

    def _annotate(self, a: Analysed, scored: list[tuple[float, bool]], defects: list[float],
                  threshold: float) -> list[Annotation]:
        out = []
        for s, (p, positive), defect in zip(a.sentences, scored, defects):
            if found := unmet_need(s.text, p, threshold, positive, defect):
                statement, cues = found
                out.append(self.ann(a, "need", statement, p, s.index, (s.start, s.end),
                                    kind="explicit" if cues else "implicit",
                                    cues=[[s.start + x, s.start + y] for x, y in cues]))
        scores = [round(p, 4) for p, _ in scored]
        out.append(self.ann(a, "need_scores", "need", max(scores, default=0.0), None, (0, len(a.comment.text)),
                            scores=scores, threshold=threshold))
        return out
