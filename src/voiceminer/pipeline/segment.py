"""Sentence and clause segmentation with character spans into the comment text.

``segment.sentencizer.v1`` uses spaCy's rule sentencizer on ``spacy.blank("en")``
(about 40x faster than the parser), splits on line breaks as well, and splits a
sentence into clauses where it turns ("..., but ...", "although", "however"),
because one sentence often mixes themes: "Delivery was late but the driver was
lovely" is two mentions. A clause that states what was promised or expected stays with the turn
that follows it: "The delivery window said 9-10am but it came at 6pm" is one complaint, the gap between
the two, and "The delivery window said 9-10am" alone reads as a remark about delivery times.

>>> seg = SentencizerStage().load()
>>> [s.text for s in seg.split("Delivery was late but the driver was lovely. Fine!")]
['Delivery was late', 'but the driver was lovely.', 'Fine!']
"""

from __future__ import annotations

import re
from typing import ClassVar, Iterator, Sequence

from ..types import Sentence
from .base import Analysed, register_stage

# A clause boundary: a contrast marker that starts a new clause. The marker stays
# with the clause it introduces.
_CONTRAST = re.compile(
    r"(?:,|;|\s-)?\s+(?=(?:but|although|though|however|whereas|except that|yet)\b)", re.IGNORECASE)
_MIN_CLAUSE_WORDS = 3
# A clause that sets up an expectation (a promise, an estimate, what a page or a person said) before the turn:
# the contrast is the complaint, so the two are not split.
_EXPECTATION = re.compile(
    r"\b(?:said|says|promised|promises|promise|supposed to|meant to|should have|should've|expected|expecting|"
    r"claimed|claims|told (?:me|us)|advertised|quoted|estimated|guaranteed|stated|assured|"
    r"show(?:s|ed)(?! up\b))\b",  # "the app shows delivered", not "it never showed up" (an arrival)
    re.IGNORECASE)
_PARAGRAPH = re.compile(r"[^\n]+")


@register_stage
class SentencizerStage:
    """Split comments into sentences and contrast clauses."""

    name: ClassVar[str] = "segment.sentencizer.v1"
    version: ClassVar[str] = "1.1.0"  # 1.1: an expectation clause stays with its turn
    requires: ClassVar[tuple[str, ...]] = ()
    produces: ClassVar[tuple[str, ...]] = ("sentences",)

    def __init__(self, split_clauses: bool = True) -> None:
        self.split_clauses = split_clauses
        self.nlp_ = None

    def load(self) -> "SentencizerStage":
        import spacy

        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        self.nlp_ = nlp
        return self

    def split(self, text: str, comment_id: str = "") -> list[Sentence]:
        """Sentences (and clauses) of one text, in order, with spans."""
        return list(self._segments(text, comment_id))

    def _segments(self, text: str, comment_id: str) -> Iterator[Sentence]:
        index = 0
        for para in _PARAGRAPH.finditer(text):
            doc = self.nlp_(para.group())
            for sent in doc.sents:
                start = para.start() + sent.start_char
                for s, e in self._clauses(text, start, para.start() + sent.end_char):
                    kind = "clause" if (s, e) != _trim(text, start, para.start() + sent.end_char) else "sentence"
                    yield Sentence(comment_id, index, s, e, text[s:e], kind)
                    index += 1

    def _clauses(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        bounds = [start]
        if self.split_clauses:
            turn = start  # where the text before this marker's turn begins
            for m in _CONTRAST.finditer(text, start, end):
                if m.start() > bounds[-1] and not _EXPECTATION.search(text, turn, m.start()):
                    bounds.append(m.end())
                turn = m.end()
        bounds.append(end)
        spans = [_trim(text, a, b) for a, b in zip(bounds, bounds[1:])]
        spans = [s for s in spans if s[1] > s[0]]
        if any(len(text[s:e].split()) < _MIN_CLAUSE_WORDS for s, e in spans):
            spans = [_trim(text, start, end)]
        return [s for s in spans if s[1] > s[0]]

    def __call__(self, batch: Sequence[Analysed]) -> list[Analysed]:
        return [a.add(sentences=self.split(a.comment.text, a.comment.id)) for a in batch]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span to exclude surrounding whitespace and a dangling leading comma."""
    while start < end and (text[start].isspace() or text[start] in ",;"):
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
