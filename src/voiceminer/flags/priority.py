"""Triage priority from the complaint head, the sentiment head, the rating and the cues.

``flags.priority.v1`` is a short list of rules a support lead can read and argue with.
"Complaint" means ``complaint_score >= rules.complaint`` (0.5 by default).

======  ==================================================================================
level   when (first rule that fires wins)
======  ==================================================================================
high    any **safety** or **legal** cue (complaint or not: a reported allergic reaction
        or a threatened lawsuit is always looked at today)
high    strong **churn** cue and a complaint
high    **urgency** cue and a complaint, made worse by a **vulnerability** cue, strongly
        negative sentiment (<= -0.6) or the lowest rating
medium  strong churn cue without a complaint ("how do I cancel?")
medium  weak churn (one cancelled order, unsubscribe) and a complaint
medium  urgency cue and a complaint
medium  vulnerability cue and a complaint
medium  complaint with strongly negative sentiment (<= -0.6) or the lowest rating
low     everything else: a plain complaint, cues without a complaint, or "no complaint"
======  ==================================================================================

"Lowest rating" is ``rating <= rating_scale * 0.2`` (1 of 5, 0-2 of 10); without a
``rating_scale`` the scale is guessed from the rating (<= 5: five stars, else 10).

The score orders the queue: within each level it grows with the evidence
(``raw`` = complaint, negativity, low rating and cue weights, capped at 1) and the
bands never overlap: high is 0.7-1.0, medium 0.4-0.7, low 0.0-0.4.

Every fired condition adds a short reason ("safety cue: 'food poisoning'",
"churn risk: 'switching to Ocado'", "strongly negative (-0.82)", "1/5 rating").

>>> from voiceminer.flags.cues import find_cues
>>> p = prioritise(0.9, -0.8, find_cues("Switching to Ocado."), rating=1, rating_scale=5)
>>> p.level, p.reasons
('high', ["churn risk: 'Switching to Ocado'", 'complaint (0.90)', 'strongly negative (-0.80)', '1/5 rating'])
>>> prioritise(0.1, 0.6, []).reasons
['no complaint']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from .cues import Cue

__all__ = ["NAME", "VERSION", "Priority", "PriorityRules", "prioritise"]

NAME = "flags.priority.v1"
VERSION = "1.0.0"
Level = Literal["high", "medium", "low"]
_BANDS = {"high": (0.7, 1.0), "medium": (0.4, 0.7), "low": (0.0, 0.4)}
_CUE_WEIGHT = {"safety": 0.5, "legal": 0.45, "churn": 0.35, "urgency": 0.2, "vulnerability": 0.15}
_WEAK_CHURN_WEIGHT = 0.15


@dataclass(frozen=True)
class PriorityRules:
    """The thresholds of the rules above; a changed default is a new rules version.

    >>> PriorityRules().complaint
    0.5
    """

    complaint: float = 0.5  # complaint_score at or above this is a complaint
    strongly_negative: float = -0.6  # sentiment at or below this is "strongly negative"
    lowest_rating_share: float = 0.2  # rating <= scale * this is "the lowest rating"


@dataclass(frozen=True)
class Priority:
    """A triage decision: level, a sortable score in [0, 1] and the reasons for it.

    >>> Priority("low", 0.1, ["no complaint"]).level
    'low'
    """

    level: Level
    score: float
    reasons: list[str] = field(default_factory=list)


def _check(name: str, value: float, low: float, high: float) -> float:
    if not low <= value <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], got {value!r}")
    return float(value)


def _lowest_rating(rating: float | None, scale: float | None, share: float) -> str | None:
    """The reason text ("1/5 rating") when the rating is at the bottom of its scale."""
    if rating is None:
        return None
    scale = scale or (5.0 if rating <= 5 else 10.0)
    if rating > scale * share:
        return None
    return f"{rating:g}/{scale:g} rating"


def _phrases(cues: Sequence[Cue], kind: str, strength: str | None = None) -> list[str]:
    seen: list[str] = []
    for c in cues:
        if c.kind == kind and (strength is None or c.strength == strength) and c.phrase not in seen:
            seen.append(c.phrase)
    return seen


def _cue_reason(label: str, phrases: list[str]) -> str:
    shown = ", ".join(f"'{p}'" for p in phrases[:3])
    more = f" (+{len(phrases) - 3} more)" if len(phrases) > 3 else ""
    return f"{label}: {shown}{more}"


def _raw(complaint: float, sentiment: float, low_rating: bool, cues: Sequence[Cue]) -> float:
    """Evidence strength in [0, 1]: orders items within a level."""
    kinds = {c.kind: c for c in cues}
    weight = sum(_CUE_WEIGHT[k] for k in kinds if k != "churn")
    churn = _phrases(cues, "churn", "strong")
    weight += _CUE_WEIGHT["churn"] if churn else _WEAK_CHURN_WEIGHT if "churn" in kinds else 0.0
    raw = 0.35 * complaint + 0.15 * max(0.0, -sentiment) + (0.1 if low_rating else 0.0) + weight
    return min(1.0, raw)


def prioritise(complaint_score: float, sentiment_score: float, cues: Sequence[Cue], *,
               rating: float | None = None, rating_scale: float | None = None,
               rules: PriorityRules = PriorityRules()) -> Priority:
    """Triage level, score and human-readable reasons for one comment (or sentence).

    ``complaint_score`` is the complaint probability in [0, 1], ``sentiment_score``
    the polarity in [-1, 1]; ``cues`` come from :func:`voiceminer.flags.cues.find_cues`.
    Raises ``ValueError`` for scores outside their ranges.

    >>> from voiceminer.flags.cues import find_cues
    >>> p = prioritise(0.2, -0.1, find_cues("My son got food poisoning."))
    >>> p.level, p.reasons
    ('high', ["safety cue: 'food poisoning'"])
    >>> p = prioritise(0.8, -0.3, find_cues("Still waiting after 3 weeks"), rating=2, rating_scale=5)
    >>> p.level, p.reasons
    ('medium', ["urgency: 'Still waiting'", 'complaint (0.80)'])
    >>> prioritise(0.7, -0.2, []).level
    'low'
    """
    complaint = _check("complaint_score", complaint_score, 0.0, 1.0)
    sentiment = _check("sentiment_score", sentiment_score, -1.0, 1.0)
    is_complaint = complaint >= rules.complaint
    rating_reason = _lowest_rating(rating, rating_scale, rules.lowest_rating_share)
    negative = sentiment <= rules.strongly_negative
    found = {kind: _phrases(cues, kind) for kind in ("safety", "legal", "urgency", "vulnerability")}
    churn, weak_churn = _phrases(cues, "churn", "strong"), _phrases(cues, "churn", "weak")

    reasons = [_cue_reason(label, found[kind]) for kind, label in
               (("safety", "safety cue"), ("legal", "legal cue")) if found[kind]]
    if churn:
        reasons.append(_cue_reason("churn risk", churn))
    elif weak_churn:
        reasons.append(_cue_reason("weak churn", weak_churn))
    for kind, label in (("urgency", "urgency"), ("vulnerability", "vulnerable customer")):
        if found[kind]:
            reasons.append(_cue_reason(label, found[kind]))
    reasons.append(f"complaint ({complaint:.2f})" if is_complaint else "no complaint")
    if is_complaint and negative:
        reasons.append(f"strongly negative ({sentiment:.2f})")
    if is_complaint and rating_reason:
        reasons.append(rating_reason)

    aggravated = bool(found["vulnerability"]) or negative or rating_reason is not None
    if found["safety"] or found["legal"] or (churn and is_complaint) or \
            (found["urgency"] and is_complaint and aggravated):
        level: Level = "high"
    elif churn or (is_complaint and (weak_churn or found["urgency"] or found["vulnerability"]
                                     or negative or rating_reason)):
        level = "medium"
    else:
        level = "low"
    if level != "low":  # a high safety item needs no "no complaint" beside it
        reasons = [r for r in reasons if r != "no complaint"]
    low, high = _BANDS[level]
    raw = _raw(complaint, sentiment, rating_reason is not None and is_complaint, cues)
    return Priority(level, round(low + (high - low) * raw, 4), reasons)
