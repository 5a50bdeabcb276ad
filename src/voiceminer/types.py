"""Core value types shared by every layer. Standard library only.

All types are frozen dataclasses: stages return new objects and never mutate
what they were given.

>>> c = Comment(id="reviews:42", text="Late again.", source="reviews")
>>> c.with_(channel="review").channel
'review'
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Mapping

__all__ = [
    "Comment",
    "Reject",
    "Sentence",
    "Annotation",
    "RunRecord",
    "IngestCounts",
    "content_id",
    "text_hash",
    "normalize_text",
]


# Characters removed from comment text: C0/C1 controls other than tab and newline (NUL breaks
# PostgreSQL text columns), bidirectional overrides and isolates (they can reorder what a reader
# sees, "Trojan source" style), zero-width spaces and stray byte-order marks (they hide words from
# search). Zero-width joiners stay: emoji sequences need them.
_INVISIBLE = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127, *range(128, 160),
                            0x200B, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF])
_LINE_SEPARATORS = {0x2028: "\n", 0x2029: "\n", 0x85: "\n"}


def normalize_text(text: str) -> str:
    """Canonical form of comment text used for hashing and storage.

    NFC-normalises, converts Windows/Mac and Unicode line separators to newlines, removes
    control, bidirectional-override and zero-width-space characters (keeping emoji joiners),
    and strips outer whitespace.

    >>> normalize_text("  caf\\u0065\\u0301\\r\\n ")
    'café'
    >>> normalize_text("hel\\x00lo \\u202eevil\\u202c zero\\u200bwidth 👩\\u200d👧")
    'hello evil zerowidth 👩\\u200d👧'
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_LINE_SEPARATORS).translate(_INVISIBLE)
    return text.strip()


_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});")


def decode_entities(text: str) -> str:
    """The HTML character references exports escape text with (Twitter's API, many web forms and helpdesks:
    ``&amp;``, ``&lt;``, ``&#39;``, ...) as the characters they stand for, so that models read "&" and reports
    show it. Only references with their semicolon (:func:`html.unescape` would also read "&not" in "&notice"):
    "AT&T", "Q&A" and "&notice" stay as written. The result is customer text like any other (escaped wherever it
    is shown).

    >>> decode_entities("rude &amp; ignored us &lt;3 it&#39;s &#x1F600; AT&T &notice")
    "rude & ignored us <3 it's 😀 AT&T &notice"
    """
    if "&" not in text:
        return text
    import html

    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)


def text_hash(text: str) -> str:
    """sha256 hex digest of the normalised text (the encoder cache key).

    >>> len(text_hash("hello"))
    64
    """
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def content_id(source: str, text: str, created_at: datetime | None = None) -> str:
    """Stable id for a comment that has no id of its own in the export.

    Same source, same text and same timestamp give the same id, so ingesting
    an export twice is idempotent.

    >>> content_id("survey", "Great") == content_id("survey", " Great ")
    True
    """
    stamp = created_at.isoformat() if created_at else ""
    key = "\x1f".join([source, normalize_text(text).casefold(), stamp])
    return f"{source}:h:{hashlib.sha256(key.encode('utf-8')).hexdigest()[:20]}"


@dataclass(frozen=True)
class Comment:
    """One piece of customer feedback, as collected.

    ``created_at`` is timezone-aware UTC (or None when the export had no date).
    ``rating`` is the raw score and ``rating_scale`` its maximum (5 for stars,
    10 for NPS). ``metadata`` holds free fields (product, store, segment,
    customer_id, ...). ``source_file``/``source_line`` say where it came from.
    """

    id: str
    text: str
    source: str
    created_at: datetime | None = None
    channel: str | None = None
    rating: float | None = None
    rating_scale: float | None = None
    language: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source_file: str | None = None
    source_line: int | None = None
    source_id: str | None = None  # the export's own id of the row (``id`` adds the source), if it has one

    def __post_init__(self) -> None:
        if self.created_at is not None:
            if self.created_at.tzinfo is None:
                raise ValueError(f"Comment {self.id}: created_at must be timezone-aware")
            if self.created_at.utcoffset() != timezone.utc.utcoffset(None):
                object.__setattr__(self, "created_at", self.created_at.astimezone(timezone.utc))

    def with_(self, **changes: Any) -> "Comment":
        """Return a copy with some fields changed."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Reject:
    """An input row that could not become a Comment, and why.

    ``line`` is the 1-based physical line (text formats) or row number
    (spreadsheets, where the header is row 1).
    """

    source_file: str
    line: int
    reason: str
    field: str | None = None
    raw: str | None = None
    source_id: str | None = None  # the row's own id, when its id column could be read


@dataclass(frozen=True)
class Sentence:
    """A sentence or clause of a comment; ``start``/``end`` index into Comment.text."""

    comment_id: str
    index: int
    start: int
    end: int
    text: str
    kind: str = "sentence"  # "sentence" or "clause"

    @property
    def id(self) -> str:
        return f"{self.comment_id}#{self.index}"


@dataclass(frozen=True)
class Annotation:
    """A tag with its evidence and producer.

    ``layer`` is what kind of tag (sentiment, theme, need, complaint ...),
    ``label`` its value, ``score`` the model's confidence or signed score.
    ``sentence_index`` is None for comment-level annotations; the span is
    character offsets into the comment text.
    """

    comment_id: str
    layer: str
    label: str
    score: float
    producer: str
    producer_version: str
    sentence_index: int | None = None
    span: tuple[int, int] | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class IngestCounts:
    """Where every input row went. ``rows == stored + duplicate + rejected``."""

    rows: int = 0
    stored: int = 0
    duplicate: int = 0
    rejected: int = 0

    def add(self, other: "IngestCounts") -> None:
        self.rows += other.rows
        self.stored += other.stored
        self.duplicate += other.duplicate
        self.rejected += other.rejected

    @property
    def balanced(self) -> bool:
        return self.rows == self.stored + self.duplicate + self.rejected

    def as_dict(self) -> dict[str, int]:
        return {"rows": self.rows, "stored": self.stored, "duplicate": self.duplicate, "rejected": self.rejected}


@dataclass(frozen=True)
class RunRecord:
    """One job run as stored in the ``runs`` table."""

    id: str
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    counts: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
