"""``themes.keywords.v1``: the cheap themes stage, with no encoder: a sentence takes a top-level
theme of the taxonomy when it holds a (stemmed) word of that theme's label or description
(:class:`voiceminer.themes.lexical.KeywordThemes`, "any" mode).

It is far less precise than ``themes.v1`` (see the README's bare-taxonomy rows: keywords against
zero-shot) and gives no causes; it exists for runs where time matters more than precision: the
``pipeline = "lexical"`` setting (segmenter + VADER sentiment + these themes) mines a million
comments in minutes on two cores.

>>> stage = KeywordThemesStage().load()
>>> from voiceminer.types import Comment
>>> from voiceminer.pipeline import Pipeline
>>> from voiceminer.pipeline.segment import SentencizerStage
>>> [a] = Pipeline([SentencizerStage().load(), stage]).run([Comment(id="c1", text="The delivery was late.", source="s")])
>>> sorted({x.label for x in a.layer("theme")}) != []
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ..types import Annotation
from .base import Analysed, StageContext, register_stage


@register_stage
class KeywordThemesStage:
    """Top-level themes per sentence from the taxonomy's own words (no model, no causes)."""

    name: ClassVar[str] = "themes.keywords.v1"
    version: str = "1"
    requires: ClassVar[tuple[str, ...]] = ("sentences",)
    produces: ClassVar[tuple[str, ...]] = ("themes",)

    def __init__(self, context: StageContext | None = None) -> None:
        self.context = context or StageContext()
        self.keywords_: Any = None
        self.labels_: dict[str, str] = {}

    def load(self) -> KeywordThemesStage:
        from ..themes import load_taxonomy
        from ..themes.lexical import KeywordThemes

        taxonomy = load_taxonomy(self.context.taxonomy)
        self.keywords_ = KeywordThemes(taxonomy, "any")
        self.labels_ = {t.id: t.label for t in taxonomy}
        self.version = f"1:{taxonomy.sha256[:10]}"  # another taxonomy redoes the results
        return self

    def __call__(self, batch: Sequence[Analysed]) -> list[Analysed]:
        out = []
        for a in batch:
            found = self.keywords_.predict([s.text for s in a.sentences])
            anns = [Annotation(comment_id=a.comment.id, layer="theme", label=theme, score=1.0, producer=self.name,
                               producer_version=self.version, sentence_index=s.index, span=(s.start, s.end),
                               data={"label": self.labels_.get(theme, theme), "cause": None, "cause_label": None,
                                     "cause_score": None, "cause_evidence": None})
                    for s, themes in zip(a.sentences, found) for theme in themes]
            out.append(a.add(annotations=anns))
        return out
