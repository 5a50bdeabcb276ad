"""Shared pieces of every collector: column mappings, raw records, row -> Comment.

A reader turns a file into a :class:`FileTable` (its columns and one
:class:`RawRecord` per data row). A :class:`Binding` says which actual column
feeds which Comment field; :func:`to_item` turns one record into exactly one
Comment or Reject.

>>> ColumnMapping.parse("text=body,id=review_id,meta=product;store").metadata
('product', 'store')
>>> header_key("Review ID"), snake_case("appVersion")
('reviewid', 'app_version')
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import Any, Mapping

from ..errors import InputError

__all__ = ["ColumnMapping", "RawRecord", "FileTable", "Binding", "header_key", "snake_case",
           "cell_text", "find_column"]

RAW_LIMIT = 500


def header_key(name: str) -> str:
    """Header comparison key: case-insensitive, no spaces, underscores or punctuation.

    >>> header_key("Star_Rating!") == header_key("star rating")
    True
    """
    return re.sub(r"[\W_]+", "", str(name).casefold())


def snake_case(name: str) -> str:
    """Metadata key for a column name.

    >>> snake_case("App Version"), snake_case("customerID"), snake_case("  Store #")
    ('app_version', 'customer_id', 'store')
    """
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name).strip())
    return re.sub(r"[\W_]+", "_", name.casefold()).strip("_") or "column"


def find_column(columns: list[str], wanted: str) -> str | None:
    """The column called ``wanted``: exact match first, then by :func:`header_key`.

    >>> find_column(["Review ID", "Body"], "review_id")
    'Review ID'
    """
    if wanted in columns:
        return wanted
    key = header_key(wanted)
    return next((c for c in columns if header_key(c) == key), None)


def cell_text(value: Any) -> str:
    """A cell value as text: integral floats lose ``.0``, dates become ISO.

    >>> cell_text(12345.0), cell_text(None), cell_text(" x ")
    ('12345', '', ' x ')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


_MAPPING_KEYS = {
    "text": "text", "id": "id", "created_at": "created_at", "date": "created_at",
    "rating": "rating", "title": "title", "channel": "channel", "language": "language",
    "lang": "language", "rating_scale": "rating_scale", "scale": "rating_scale",
    "rating_min": "rating_min", "meta": "metadata", "metadata": "metadata",
}


@dataclass(frozen=True)
class ColumnMapping:
    """Which columns feed which Comment fields.

    ``text`` is one column or several (joined with a newline); ``()`` means
    "not set" so a mapping can override only some fields of a preset.
    Unset fields are None. ``metadata`` columns are copied into
    Comment.metadata under snake_case keys.

    >>> m = ColumnMapping(text=("title", "body"), rating="stars", rating_scale=5, rating_min=1)
    >>> m.text_columns
    ('title', 'body')
    """

    text: str | tuple[str, ...] = ()
    id: str | None = None
    created_at: str | None = None
    rating: str | None = None
    title: str | None = None
    channel: str | None = None
    language: str | None = None
    rating_scale: float | None = None
    rating_min: float | None = None
    metadata: tuple[str, ...] = ()

    @property
    def text_columns(self) -> tuple[str, ...]:
        return (self.text,) if isinstance(self.text, str) else tuple(self.text)

    def set_fields(self) -> dict[str, Any]:
        """The fields this mapping sets (those not None / empty)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["text"] = self.text_columns
        return {k: v for k, v in values.items() if v not in (None, ())}

    @classmethod
    def parse(cls, spec: str) -> "ColumnMapping":
        """Parse the CLI's ``--map`` value: ``key=column`` pairs separated by commas.

        ``text`` and ``meta`` take several columns separated by ``;``. Keys:
        text, id, created_at (or date), rating, title, channel, language,
        rating_scale (or scale), rating_min, meta (or metadata).

        >>> ColumnMapping.parse("text=title;body, date=when, scale=10, rating_min=0")
        ColumnMapping(text=('title', 'body'), id=None, created_at='when', rating=None, title=None, channel=None, language=None, rating_scale=10.0, rating_min=0.0, metadata=())
        >>> ColumnMapping.parse("txt=body")
        Traceback (most recent call last):
        ...
        voiceminer.errors.InputError: field 'txt': unknown mapping key 'txt'; known keys: channel, created_at, date, id, lang, language, meta, metadata, rating, rating_min, rating_scale, scale, text, title
        """
        values: dict[str, Any] = {}
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            key, sep, value = (s.strip() for s in part.partition("="))
            name = _MAPPING_KEYS.get(key.casefold())
            if name is None:
                known = ", ".join(sorted(_MAPPING_KEYS))
                raise InputError(f"unknown mapping key {key!r}; known keys: {known}", field=key)
            if not sep or not value:
                raise InputError(f"mapping key {key!r} needs a value, as in {key}=column", field=key)
            if name in values:
                raise InputError(f"mapping key {key!r} is given twice", field=key)
            values[name] = _parse_value(name, key, value)
        if not values:
            raise InputError(f"empty column mapping {spec!r}; expected e.g. text=body,id=review_id")
        return cls(**values)


def _parse_value(name: str, key: str, value: str) -> Any:
    if name in ("text", "metadata"):
        columns = tuple(c.strip() for c in value.split(";") if c.strip())
        return columns[0] if name == "text" and len(columns) == 1 else columns
    if name in ("rating_scale", "rating_min"):
        try:
            return float(value)
        except ValueError:
            raise InputError(f"mapping key {key!r} needs a number, got {value!r}", field=key) from None
    return value


@dataclass(frozen=True)
class RawRecord:
    """One data row as read: its line/row number and values, or why it is unreadable."""

    line: int
    values: Mapping[str, Any] | None
    error: str | None = None
    field: str | None = None
    raw: str | None = None


@dataclass
class FileTable:
    """A file as read: its columns (in order) and its records (one per data row).

    ``rows`` is a list, or a function that reads the file again from the start and yields the
    records one at a time (what the readers give: a file is never held in memory whole, so a
    caller may pass over it twice, e.g. to decide its date order, in memory bounded by one row).

    >>> t = FileTable("x.csv", "csv", ["a"], lambda: iter([RawRecord(2, {"a": "1"})]))
    >>> [r.line for r in t.records], [r.line for r in t.records], t.head(5)[0].values
    ([2], [2], {'a': '1'})
    """

    path: str
    format: str
    columns: list[str]
    rows: Sequence[RawRecord] | Callable[[], Iterator[RawRecord]]
    encoding: str | None = None
    delimiter: str | None = None
    headerless: bool = False  # the first row was data: columns are column_1, column_2, ...

    @property
    def records(self) -> Iterator[RawRecord]:
        """A fresh pass over the records, in file order."""
        return iter(self.rows()) if callable(self.rows) else iter(self.rows)

    def head(self, n: int) -> list[RawRecord]:
        """The first ``n`` records."""
        records = self.records
        try:
            return list(islice(records, n))
        finally:
            if hasattr(records, "close"):
                records.close()


@dataclass(frozen=True)
class Binding:
    """A mapping resolved against one file's actual columns."""

    source: str
    text: tuple[str, ...]
    id: str | None = None
    created_at: str | None = None
    rating: str | None = None
    title: str | None = None
    channel: str | None = None
    language: str | None = None
    rating_scale: float | None = None
    rating_min: float | None = None
    default_channel: str | None = None
    metadata: tuple[str, ...] = field(default=())
    preset: str | None = None
