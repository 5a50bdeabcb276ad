"""Sarcasm-ish praise: markers that turn a positive-looking sentence negative.

The sentiment head reads words, and "Great, another late delivery 🙄" is full of
praise words; the encoder's vocabulary has no eye-roll emoji at all. These rules catch
what customers use to say the opposite of their words:

- strong markers, sarcastic on their own: eye-roll and similar emoji (🙄 😒 😑 🙃 🤦),
  "yeah right", "thanks for nothing", "said no one ever", a trailing "/s";
- praise with a problem: a sentence that opens with a bare interjection ("Great, ...",
  "Oh wonderful, ...", "Perfect. ...", "Just what I needed, ...") and then names a problem
  ("late", "again", "another", "cancelled", "broken", "on hold", ...). Praise alone, and
  praise that is part of the sentence ("Great job fixing the late order"), are left alone.

``sentiment.shared.v2`` uses :func:`sarcasm_marker` to flip a positive sentence to
negative, keeping the marker as evidence.

>>> sarcasm_marker("Great, another late delivery 🙄")
'🙄'
>>> sarcasm_marker("Oh wonderful, my order is late again.")
'Oh wonderful'
>>> sarcasm_marker("Great service, fast delivery!") is None
True
"""

from __future__ import annotations

import re

__all__ = ["sarcasm_marker"]

_STRONG = re.compile(
    r"[\U0001F644\U0001F612\U0001F611\U0001F643\U0001F926]"      # 🙄 😒 😑 🙃 🤦
    r"|\byeah,?\s+right\b|\bthanks?\s+(?:a\s+lot\s+)?for\s+nothing\b|\bsaid\s+no\s*(?:one|body)\s+ever\b"
    r"|(?:^|\s)/s\s*$", re.IGNORECASE)
_PRAISE = re.compile(  # an interjection: the praise word stands alone before a comma, stop or "!"
    r"^\W*(?:(?:oh|ah|wow|well)[\s,]+)?(?:great|wonderful|brilliant|perfect|fantastic|lovely|awesome|fabulous|"
    r"super|terrific|marvell?ous|amazing|excellent|nice|cool|splendid|joy|just\s+what\s+i\s+(?:needed|wanted))"
    r"\s*[,.!\u2026]+", re.IGNORECASE)
_PROBLEM = re.compile(
    r"\b(?:another|again|late|later|delay(?:ed|s)?|cancel+(?:ed|led)?|broken|broke|lost|missing|stuck|"
    r"on\s+hold|wait(?:ed|ing)?|still\s+(?:no|not|waiting)|never|no\s+(?:one|refund|reply|response|show)|"
    r"crash(?:ed|es|ing)?|charged\s+twice|overcharged|down\s+again)\b", re.IGNORECASE)


def sarcasm_marker(text: str) -> str | None:
    """The phrase or emoji that marks ``text`` as sarcastic praise, or None."""
    if m := _STRONG.search(text):
        return m.group(0).strip()
    if (m := _PRAISE.search(text)) and _PROBLEM.search(text, m.end()):
        return m.group(0).strip(" ,.!")
    return None
