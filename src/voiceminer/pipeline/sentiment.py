"""Lexicon sentiment with VADER: the baseline the trained models must beat.

``sentiment.vader.v1`` scores each sentence (compound score in [-1, 1]) and the
comment (length-weighted mean of its sentences). Labels: compound >= 0.05 is
positive, <= -0.05 negative, otherwise neutral (VADER's own thresholds).

>>> stage = VaderSentimentStage().load()
>>> stage.label(stage.score("This is terrible."))
'negative'
"""

from __future__ import annotations

from typing import ClassVar, Sequence

from ..types import Annotation
from .base import Analysed, register_stage

POS, NEG = 0.05, -0.05


@register_stage
class VaderSentimentStage:
    """Per-sentence and per-comment polarity from the VADER lexicon."""

    name: ClassVar[str] = "sentiment.vader.v1"
    version: ClassVar[str] = "3.3.2"
    requires: ClassVar[tuple[str, ...]] = ("sentences",)
    produces: ClassVar[tuple[str, ...]] = ("sentiment",)

    def __init__(self) -> None:
        self.analyzer_ = None

    def load(self) -> "VaderSentimentStage":
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.analyzer_ = SentimentIntensityAnalyzer()
        return self

    def score(self, text: str) -> float:
        return float(self.analyzer_.polarity_scores(text)["compound"])

    @staticmethod
    def label(score: float) -> str:
        return "positive" if score >= POS else "negative" if score <= NEG else "neutral"

    def __call__(self, batch: Sequence[Analysed]) -> list[Analysed]:
        return [a.add(annotations=self._annotate(a)) for a in batch]

    def _annotate(self, a: Analysed) -> list[Annotation]:
        out, total, weight = [], 0.0, 0
        for s in a.sentences:
            score = self.score(s.text)
            out.append(self._ann(a.comment.id, score, s.index, (s.start, s.end)))
            total += score * len(s.text)
            weight += len(s.text)
        overall = total / weight if weight else 0.0
        out.append(self._ann(a.comment.id, overall, None, (0, len(a.comment.text))))
        return out

    def _ann(self, cid: str, score: float, idx: int | None, span: tuple[int, int]) -> Annotation:
        return Annotation(comment_id=cid, layer="sentiment", label=self.label(score), score=round(score, 4),
                          producer=self.name, producer_version=self.version, sentence_index=idx, span=span)
