"""Explainable, rule-based flags around the trained heads' scores.

- :mod:`.cues` (``flags.cues.v1``): churn, urgency, safety, legal and vulnerability
  phrases with character spans.
- :mod:`.priority` (``flags.priority.v1``): high/medium/low triage from the complaint
  and sentiment scores, the rating and the cues, with human-readable reasons.
- :mod:`.needs` (``flags.needs.v1``): explicit need cues, canonical need statements
  ("I wish I could pick a slot" -> "pick a slot") and deterministic grouping.
- :mod:`.implicit`: the need an obstacle or lack implies ("the straps are impossible to
  tighten" -> "make the straps easier to tighten"), for needs found without a cue.

Pure functions only: the pipeline stages that call them own the annotations.

>>> from voiceminer.flags import find_cues, prioritise
>>> prioritise(0.9, -0.7, find_cues("Found glass in my salad")).level
'high'
"""

from .cues import KINDS, Cue, find_cues
from .implicit import implicit_statement
from .needs import (
    NeedGroup,
    group_needs,
    need_cues,
    need_distances,
    need_distances_between,
    need_has_subject,
    need_statement,
)
from .priority import Priority, PriorityRules, prioritise

__all__ = [
           "KINDS",
           "Cue",
           "NeedGroup",
           "Priority",
           "PriorityRules",
           "find_cues",
           "group_needs",
           "implicit_statement",
           "need_cues",
           "need_distances", "need_distances_between",
           "need_has_subject",
           "need_statement",
           "prioritise",
]
