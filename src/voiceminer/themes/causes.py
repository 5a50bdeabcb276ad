"""Causes as evidence: character spans of cause clauses ("... because the courier lost it").

A cue ("because", "due to", "ever since", "thanks to" - often sarcastic - ...) opens
a cause clause that runs to the next clause boundary: sentence punctuation, a
comma or semicolon, or a turn word ("but", "although", "so", ...). The span
returned covers the cause itself, without the cue, so a report can show
"Delivery (cause: *the courier lost it*)".

>>> text = "I missed the meeting because the train was cancelled, again."
>>> [text[s:e] for s, e in cause_spans(text)]
['the train was cancelled']
>>> text = "Thanks to your useless app I was charged twice"
>>> [text[s:e] for s, e in cause_spans(text)]
['your useless app I was charged twice']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CUES", "CauseSpan", "cause_matches", "cause_spans"]

# Longest first, so "ever since" wins over "since" and "because of" over "because".
CUES = ("as a result of", "because of", "ever since", "caused by", "owing to", "thanks to", "due to",
        "because", "since", "after", "cos", "cuz", "bc")
_CUE = re.compile(r"\b(" + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in CUES) + r")\b", re.IGNORECASE)
_END = re.compile(r"[.!?;,:()\n]|\s[-–—]\s|\b(?:but|although|though|however|so|whereas|yet|because|since)\b",
                  re.IGNORECASE)
# "after all", "since then", "ever since then": cue words that are not causal here.
_NOT_CAUSAL = re.compile(r"^(?:all|then|that|this|which|when|last|yesterday|today|\d+(?:\s*(?:am|pm))?)$",
                         re.IGNORECASE)
_MAX_CHARS = 200


@dataclass(frozen=True)
class CauseSpan:
    """A cause clause: ``text[start:end]``, opened by ``cue`` (lower-case, spaces normalised)."""

    start: int
    end: int
    cue: str


def cause_matches(text: str) -> list[CauseSpan]:
    """Every cause clause in ``text``, in order, with its cue.

    >>> cause_matches("Ever since the update it crashes.")[0].cue
    'ever since'
    """
    out: list[CauseSpan] = []
    for m in _CUE.finditer(text):
        start = m.end()
        while start < len(text) and text[start].isspace():
            start += 1
        stop = _END.search(text, start)
        end = stop.start() if stop else len(text)
        end = min(end, start + _MAX_CHARS)
        while end > start and text[end - 1].isspace():
            end -= 1
        clause = text[start:end]
        if not clause or _NOT_CAUSAL.match(clause):
            continue
        if out and start < out[-1].end:  # nested cue inside the previous clause
            continue
        out.append(CauseSpan(start, end, " ".join(m.group(1).lower().split())))
    return out


def cause_spans(text: str) -> list[tuple[int, int]]:
    """Character ``(start, end)`` spans of the cause clauses in ``text``.

    >>> t = "Refund refused due to a 'policy change'; awful."
    >>> [t[s:e] for s, e in cause_spans(t)]
    ["a 'policy change'"]
    >>> cause_spans("After all, it is fine.")
    []
    """
    return [(c.start, c.end) for c in cause_matches(text)]
