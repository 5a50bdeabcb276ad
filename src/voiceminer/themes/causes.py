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
['your useless app']

"Due to", "because of" and the like take a noun phrase: the cause ends where a verb of the sentence
starts. Short forms count too ("bc of SDF weather").

>>> text = "Cancelled due to winter weather is totally understandable"
>>> [text[s:e] for s, e in cause_spans(text)]
['winter weather']
>>> text = "flight cut bc of SDF weather"
>>> [text[s:e] for s, e in cause_spans(text)]
['SDF weather']
>>> text = "delayed due to the fact that you don't have enough crew"
>>> [text[s:e] for s, e in cause_spans(text)]
["the fact that you don't have enough crew"]
>>> text = "All because of staff who were rude"
>>> [text[s:e] for s, e in cause_spans(text)]
['staff who were rude']

"since" and "after" also tell time. Followed by a point in time ("since Thursday", "since 7am",
"after August 7", "since last night I keep getting cut off") or by a single word ("five hours after
planned"), or for "after" behind a duration ("2 hours after the window"), they open no cause; followed
by an event they do ("after waiting two hours", "since you changed the menu").

>>> text = "On hold since last night and still no answer"
>>> cause_spans(text)
[]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CUES", "RULES_VERSION", "CauseSpan", "cause_matches", "cause_spans"]

# Longest first, so "ever since" wins over "since" and "because of" over "because".
CUES = ("as a result of", "because of", "ever since", "caused by", "owing to", "thanks to", "due to",
        "because", "since", "after", "cos of", "cuz of", "bc of", "b/c of", "cos", "cuz", "bc", "b/c")
# Cues that take a noun phrase, not a clause: the cause ends where a verb of its own sentence starts
# ("due to winter weather is totally understandable", "thanks to your useless app I was charged twice").
_PREPOSITIONAL = frozenset({"as a result of", "because of", "caused by", "owing to", "thanks to", "due to",
                            "cos of", "cuz of", "bc of", "b/c of"})
_NP_END = re.compile(r"\s(?:(?<!who\s)(?<!which\s)(?<!that\s)(?:is|was|are|were|isn['’]t|wasn['’]t|aren['’]t|"
                     r"weren['’]t|has|have|had|will|would|won['’]t|can|can['’]t|could|couldn['’]t)|"
                     r"i|we|they|he|she|when|while)\b", re.IGNORECASE)
_CLAUSE_NOUN = re.compile(r"the\s+fact\b", re.IGNORECASE)  # "due to the fact that you don't ...": a clause
_CUE = re.compile(r"\b(" + "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in CUES) + r")\b", re.IGNORECASE)
_END = re.compile(r"[.!?;,:()\n]|\s[-–—]\s|\b(?:but|although|though|however|so|whereas|yet|because|since|if)\b",
                  re.IGNORECASE)
# "after all", "since then", "ever since then": cue words that are not causal here.
_NOT_CAUSAL = re.compile(r"^(?:all|then|that|this|which|when|last|yesterday|today|\d+(?:\s*(?:am|pm))?)$",
                         re.IGNORECASE)
_MAX_CHARS = 200
_DANGLING = re.compile(r"\s+(?:and|or|&)$", re.IGNORECASE)
RULES_VERSION = "5"  # 2: "since" and "after" before a point in time or a single word are not causal;
# 3: nor "after" behind a duration ("2 hours after the window"); 4: nor a denied cue ("not because ..."),
# nor "since" behind a duration ("2.5 hours since we ordered"), nor a duration that opens a new clause
# ("after 18 months the button broke"); "if" ends a clause; 5: "bc of", "b/c"; a prepositional cue's cause ends
# at the sentence's own verb or subject
# "Not because you are the Four Seasons", "it wasn't due to the weather": the writer denies that cause
# ("not just because" and "not only because" still give one, and so does "I can't because my flight is
# in progress", whose verb is left out, and "... and what not because it is a netbook")
_DENIED = re.compile(r"(?:(?<!what )\bnot|\bnever|\b(?:is|was|are|were)n[’']t)\s*$", re.IGNORECASE)
# Cues that also tell time, and the points in time that make them temporal ("since Thursday", "after 7pm").
_TEMPORAL_CUES = frozenset({"since", "ever since", "after"})
_WEEKDAY = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sun)(?:day)?|saturday"
_MONTH = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
          r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_TIME_POINT = re.compile(
    r"^(?:" + _WEEKDAY + r"|(?:" + _MONTH + r")\.?\s*\d|january|february|march|april|june|july|august|september|"
    r"october|november|december|last|yesterday|today|tonight|tomorrow|earlier|early|noon|midnight|mid\w*night|"
    r"dawn|breakfast|lunch|dinner|forever|ages|"
    r"(?:this|the)\s+(?:morning|afternoon|evening|night|weekend|week|month|year|beginning|start)|"
    r"\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.|a|p)|\d{4}|\d{1,2}(?:st|nd|rd|th)|\d+/\d+)\b"
    r"(?!['’]s\b)",  # "after today's landing gear failure" is an event
    re.IGNORECASE)
_SINCE_NUMBER = re.compile(r"^\d")  # "since 130", "since 2012": a clock time or a year
_UNITS = r"(?:hours?|hrs?|minutes?|mins?|days?|weeks?|months?|years?|seconds?|secs?)"
# "still no refund after a week": a bare duration is how long, not why
_BARE_DURATION = re.compile(rf"^(?:(?:over|about|almost|nearly|more\s+than|only|just)\s+)?"
                            rf"(?:an?|one|two|three|four|five|six|seven|eight|nine|ten|a\s+few|few|several|many|"
                            rf"\d+(?:\.\d+)?)\s*{_UNITS}(?:\s+(?:later|now|ago))?$", re.IGNORECASE)
# "after 18 months the button doesn't work": a duration, then a new clause, is when, not why; "after two
# hours of waiting", "after 4 hours on hold" name what happened
_LEADING_DURATION = re.compile(rf"^(?:(?:over|about|almost|nearly|more\s+than|only|just)\s+)?"
                               rf"(?:an?|one|two|three|four|five|six|seven|eight|nine|ten|a\s+few|few|several|"
                               rf"many|\d+(?:\.\d+)?)\s*{_UNITS}\b(?:['’]s?)?(?!\s+(?:of|on|in|spent|stuck|waiting|"
                               rf"delays?|waits?|drive|flight|layover|journey|trip|queue|hold|ride)\b)",
                               re.IGNORECASE)
_NUMBER = r"(?:\d+(?:\.\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|few|several|many)"
# "3 weeks since complaint submitted": a counted duration before "since" ("this year since ..." is causal)
_COUNTED_BEFORE = re.compile(rf"\b{_NUMBER}\s*{_UNITS}\s*$", re.IGNORECASE)
# "2 hours after the window", "a week after ordering": an interval measured from a point, not a cause
_DURATION_BEFORE = re.compile(rf"\b{_UNITS}\s*$", re.IGNORECASE)
# ... but "on hold for 7 hours after my flight was cancelled": a wait that the event started
_WAIT_FOR = re.compile(rf"\bfor\s+(?:over\s+|about\s+|almost\s+|nearly\s+|more\s+than\s+)?\S+\s*{_UNITS}\s*$",
                       re.IGNORECASE)


def _temporal(cue: str, clause: str) -> bool:
    """Whether ``clause``, opened by ``cue``, places something in time rather than giving its cause.

    >>> _temporal("since", "Thursday and keep getting cut off"), _temporal("after", "waiting two hours")
    (True, False)
    >>> _temporal("after", "planned"), _temporal("because", "rain")
    (True, False)
    """
    if cue not in _TEMPORAL_CUES:
        return False
    if len(clause.split()) < 2 or _TIME_POINT.match(clause) or _BARE_DURATION.match(clause) \
            or _LEADING_DURATION.match(clause):
        return True
    return cue != "after" and bool(_SINCE_NUMBER.match(clause))


def _after_duration(before: str) -> bool:
    """Whether the text ``before`` an "after" ends with a duration that it measures from a point ("2 hours after
    the window"), not a wait that the event started ("on hold for 7 hours after my flight was cancelled")."""
    return bool(_DURATION_BEFORE.search(before)) and not _WAIT_FOR.search(before)


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
        cue = " ".join(m.group(1).lower().split())
        verb = _NP_END.search(text, start, end) if cue in _PREPOSITIONAL and not _CLAUSE_NOUN.match(
            text, start) else None
        if verb and verb.start() > start:
            end = verb.start()
        dangling = _DANGLING.search(text, start, end)  # "bad weather and" before a clause that ended it
        if dangling:
            end = dangling.start()
        clause = text[start:end]
        if not clause or _NOT_CAUSAL.match(clause) or _temporal(cue, clause):
            continue
        before = text[max(0, m.start() - 40):m.start()]
        if cue == "after" and _after_duration(before) or cue == "since" and _COUNTED_BEFORE.search(before):
            continue
        if _DENIED.search(text[max(0, m.start() - 12):m.start()]):
            continue
        if out and start < out[-1].end:  # nested cue inside the previous clause
            continue
        out.append(CauseSpan(start, end, cue))
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
