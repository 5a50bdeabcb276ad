"""Test-only stage ``test.flags.v1``: cheap keyword themes, a complaint priority from the rating and a churn
cue, so that runs of the lexicon pipeline open triage cases and report themes without loading a model.

Used by the crash-safety and concurrency tests; a `mine` process started by a test registers it with
``python -c "import sys; sys.path.insert(0, 'tests'); import flag_stages; ..."`` (see :data:`MINE_COMMAND`).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from voiceminer.config import LEXICON_PIPELINE
from voiceminer.pipeline.base import Analysed, register_stage
from voiceminer.types import Annotation

PIPELINE = (*LEXICON_PIPELINE, "test.flags.v1")
THEMES = {"late": ("delivery", "delivery.late"), "refund": ("billing", "billing.refund_delay"),
          "crash": ("digital", "digital.crash"), "expensive": ("price", "price.expensive")}
TEXTS = ["Delivery was late again.", "Lovely fresh veg, thank you!", "The app crash at checkout is back.",
         "Support answered fast but the refund is still missing.", "Too expensive for what you get.",
         "Late twice this month, I will cancel my box.", "Great recipes. The courier was friendly."]
# `voiceminer` with this stage registered: prefix of a subprocess command line (then the CLI's arguments)
MINE_COMMAND = ["-c", ("import sys; sys.path.insert(0, {tests!r}); import flag_stages; "
                       "from voiceminer.cli.main import main; sys.argv[0] = 'voiceminer'; main()")]


def mine_command(python: str) -> list[str]:
    """The command line prefix that runs the CLI with this module's stage registered."""
    return [python, MINE_COMMAND[0], MINE_COMMAND[1].format(tests=str(Path(__file__).parent))]


@register_stage
class FlagsStage:
    """Keyword themes per sentence, a comment-level complaint priority from the rating, 'cancel' a churn cue."""

    name: ClassVar[str] = "test.flags.v1"
    version: ClassVar[str] = "1"
    requires: ClassVar[tuple[str, ...]] = ("sentences",)
    produces: ClassVar[tuple[str, ...]] = ("complaint", "theme", "cue")

    def load(self) -> FlagsStage:
        return self

    def __call__(self, batch: Sequence[Analysed]) -> list[Analysed]:
        return [a.add(annotations=self._annotate(a)) for a in batch]

    def _annotate(self, a: Analysed) -> list[Annotation]:
        cid, text, out = a.comment.id, a.comment.text, []
        for s in a.sentences:
            for word, (theme, cause) in THEMES.items():
                if word in s.text.lower():
                    out.append(Annotation(cid, "theme", theme, 0.8, self.name, self.version, sentence_index=s.index,
                                          span=(s.start, s.end), data={"cause": cause}))
        rating = a.comment.rating if a.comment.rating is not None else 3
        priority = "high" if rating <= 1 else "medium" if rating <= 2 else "low"
        out.append(Annotation(cid, "complaint", "complaint" if rating <= 2 else "none", 0.9, self.name,
                              self.version, data={"priority": priority, "priority_score": round(1 - rating / 5, 2),
                                                  "reasons": [f"rating {rating:g}"]}))
        if "cancel" in text.lower():
            at = text.lower().index("cancel")
            out.append(Annotation(cid, "cue", "churn", 1.0, self.name, self.version, span=(at, at + 6)))
        return out


def write_export(path: Path, n: int = 300, prefix: str = "RV") -> int:
    """A review CSV over four weeks of October 2026: every 25th row has no text (rejected), every 40th
    repeats an earlier row's id and text (a duplicate inside the file). Returns the number of data rows."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["review_id", "date", "rating", "title", "review_text", "product"])
        for i in range(n):
            j = i - 17 if i % 40 == 39 else i
            text = "" if j % 25 == 24 else f"{TEXTS[j % len(TEXTS)]} (order {j})"
            w.writerow([f"{prefix}-{j:05d}", f"2026-10-{1 + j % 28:02d}", 1 + j % 5, "t", text, "kit"])
    return n


def rejected_rows(n: int) -> int:
    """How many rows of :func:`write_export`'s file are rejected (no text)."""
    return sum(1 for i in range(n) if (i - 17 if i % 40 == 39 else i) % 25 == 24)
