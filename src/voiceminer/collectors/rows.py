"""Turning one raw record into exactly one Comment or Reject.

>>> from datetime import timezone
>>> b = Binding(source="s", text=("body",), rating="stars", rating_min=1, rating_scale=5)
>>> ctx = RowContext(path="f.csv", dayfirst=False, tz=timezone.utc)
>>> to_item(RawRecord(2, {"body": " Slow ", "stars": "4/5"}), b, ctx).rating
4.0
>>> to_item(RawRecord(3, {"body": "ok", "stars": "6"}), b, ctx).reason
'rating 6 outside 1-5'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

from ..types import Comment, Reject, content_id, decode_entities, normalize_text
from .base import RAW_LIMIT, Binding, RawRecord, cell_text, snake_case
from .dates import parse_date

__all__ = ["RowContext", "to_item", "parse_rating", "EARLIEST", "FUTURE_TOLERANCE", "MAX_TEXT_CHARS"]

# A comment dated before this, or more than FUTURE_TOLERANCE after the run, is a broken date (an
# epoch-zero default, a typo, a placeholder like 2099-12-31): quarantined with its reason, so it can
# never become a report's "current period".
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
FUTURE_TOLERANCE = timedelta(days=2)
# A comment longer than this is not feedback but a pasted log or a broken export: quarantined (the
# longest real reviews here run to a few thousand characters).
MAX_TEXT_CHARS = 100_000

_RATING = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*(?:/\s*(\d+(?:[.,]\d+)?))?\s*$")


@dataclass(frozen=True)
class RowContext:
    """Per-file settings for row conversion."""

    path: str
    dayfirst: bool
    tz: tzinfo
    channel: str | None = None
    now: datetime | None = None  # "now" for the plausible-date check (None: the clock)


class _RowError(Exception):
    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def _fmt(number: float) -> str:
    return f"{number:g}"


def parse_rating(value: Any, low: float | None, high: float | None) -> float | None:
    """Parse a rating cell ("4", "4.0", "4,5", "4/5", 4); None when empty.

    Raises ValueError with the reject reason when it is not a number, or lies
    outside ``low``-``high`` (a missing ``low`` means 0).

    >>> parse_rating("4/5", 1, 5), parse_rating("", 1, 5)
    (4.0, None)
    >>> parse_rating("11", 0, 10)
    Traceback (most recent call last):
    ...
    ValueError: rating 11 outside 0-10
    """
    if isinstance(value, bool):
        raise ValueError(f"rating {value!r} is not a number")
    if isinstance(value, (int, float)):
        number, scale = float(value), None
    else:
        text = cell_text(value).strip()
        if not text:
            return None
        match = _RATING.match(text)
        if not match:
            raise ValueError(f"rating {text!r} is not a number")
        number = float(match.group(1).replace(",", "."))
        scale = float(match.group(2).replace(",", ".")) if match.group(2) else None
    if number != number:  # NaN from a spreadsheet
        return None
    if scale is not None and high is not None and scale != high:
        raise ValueError(f"rating {_fmt(number)}/{_fmt(scale)} is not on the {_fmt(high)}-point scale")
    if high is not None and not ((low or 0.0) <= number <= high):
        raise ValueError(f"rating {_fmt(number)} outside {_fmt(low or 0.0)}-{_fmt(high)}")
    return number


def _text(values: Any, binding: Binding) -> str:
    parts = []
    for column in binding.text:
        if column not in values:
            raise _RowError(column, f"missing field {column!r}")
        value = values[column]
        if isinstance(value, (dict, list)):
            raise _RowError(column, f"field {column!r} holds a {type(value).__name__}, not text")
        part = normalize_text(cell_text(value))
        if part:
            parts.append(part)
    text = normalize_text("\n".join(parts))
    if not text:
        raise _RowError(binding.text[0], "empty text")
    if len(text) > MAX_TEXT_CHARS:
        raise _RowError(binding.text[0], f"text is {len(text):,} characters, over the limit of {MAX_TEXT_CHARS:,}")
    return text


def _date(values: Any, binding: Binding, ctx: RowContext) -> datetime | None:
    column = binding.created_at
    if column is None:
        return None
    value = values.get(column)
    try:
        parsed = parse_date(value, dayfirst=ctx.dayfirst, tz=ctx.tz)
    except ValueError:
        raise _RowError(column, f"unparseable date {cell_text(value).strip()!r}") from None
    if parsed is None:
        return None
    now = ctx.now or datetime.now(timezone.utc)
    if parsed > now + FUTURE_TOLERANCE:
        raise _RowError(column, f"date {cell_text(value).strip()!r} is in the future")
    if parsed < EARLIEST:
        raise _RowError(column, f"date {cell_text(value).strip()!r} is implausibly old "
                                f"(before {EARLIEST:%Y-%m-%d})")
    return parsed


def _rating(values: Any, binding: Binding) -> float | None:
    column = binding.rating
    if column is None:
        return None
    try:
        return parse_rating(values.get(column), binding.rating_min, binding.rating_scale)
    except ValueError as exc:
        raise _RowError(column, str(exc)) from None


def _plain(values: Any, column: str | None) -> str | None:
    if column is None:
        return None
    text = cell_text(values.get(column)).strip()
    return text or None


def _meta_value(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    return value


def _metadata(values: Any, binding: Binding) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    title = _plain(values, binding.title)
    if title:
        meta["title"] = title
    for column in binding.metadata:
        value = _meta_value(values.get(column))
        if value not in (None, "", [], {}):
            meta.setdefault(snake_case(column), value)
    return meta


def _comment(record: RawRecord, binding: Binding, ctx: RowContext) -> Comment:
    values = record.values or {}
    text = _text(values, binding)
    created_at = _date(values, binding, ctx)
    rating = _rating(values, binding)
    source_id = _plain(values, binding.id)
    cid = f"{binding.source}:{source_id}" if source_id else content_id(binding.source, text, created_at)
    # HTML character references as characters, after the id: a row without an id keeps the id it had
    # before references were decoded, so an export mined again is still recognised as a duplicate
    text = normalize_text(decode_entities(text)) or text
    channel = ctx.channel or _plain(values, binding.channel) or binding.default_channel
    return Comment(
        id=cid, text=text, source=binding.source, created_at=created_at, channel=channel,
        rating=rating, rating_scale=binding.rating_scale, language=_plain(values, binding.language),
        metadata=_metadata(values, binding), source_file=ctx.path, source_line=record.line, source_id=source_id,
    )


def _raw(record: RawRecord) -> str | None:
    if record.raw is not None:
        return record.raw[:RAW_LIMIT]
    if record.values is None:
        return None
    return " | ".join(cell_text(v) for v in record.values.values())[:RAW_LIMIT]


def to_item(record: RawRecord, binding: Binding, ctx: RowContext) -> Comment | Reject:
    """Convert one record; every failure becomes a Reject naming file, line and field."""
    if record.error is not None:
        return Reject(ctx.path, record.line, record.error, record.field, _raw(record))
    try:
        return _comment(record, binding, ctx)
    except _RowError as exc:
        source_id = _plain(record.values or {}, binding.id) if isinstance(record.values, dict) else None
        return Reject(ctx.path, record.line, exc.reason, exc.field, _raw(record), source_id)
