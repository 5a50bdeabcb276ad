"""Resolving which column feeds which field: presets, explicit mappings, guessing.

Order of precedence for one file:

1. an explicit ``mapping`` (with an explicit ``preset``, the mapping overrides
   only the preset fields it sets; without one, unset fields stay unset, except
   a missing text column, which is guessed);
2. an explicit ``preset``;
3. auto-detection: the best-matching registered preset. A preset matches when
   its text column and at least one of id/date/rating are found and at least
   one matched id/text/date/rating/title column is *distinctive* (not a
   generic word such as ``id``, ``text`` or ``rating``), so a plain
   ``id,text,date,rating`` file is not mistaken for a review-site export. The
   best match has the most distinctive columns; ties go to the one with more
   matched columns; presets still tied that would name different channels
   leave the layout unrecognised (a ``review_id,review`` file is no more an
   app store's than a review site's: it gets step 4, its file name as source
   and no channel), others go by registration order;
4. a generic guess by column names (remaining columns become metadata).

>>> cols = ["response_id", "submitted", "nps_score", "comment", "plan", "region"]
>>> detect_preset(cols, list(BUILTIN_PRESETS.values())).name
'nps_survey'
>>> detect_preset(["id", "text", "date", "rating"], list(BUILTIN_PRESETS.values())) is None
True
>>> detect_preset(["review_id", "review"], list(BUILTIN_PRESETS.values())) is None
True

A preset whose text column is one of its own words ("reason", "why") does not match a file that
also has a column plainly named for the text: in ``id,text,reason`` the text is ``text`` and the
reason is metadata, not an NPS survey whose comment is the reason.

>>> detect_preset(["id", "text", "reason"], list(BUILTIN_PRESETS.values())) is None
True
>>> detect_preset(["response_id", "nps_score", "reason"], list(BUILTIN_PRESETS.values())).name
'nps_survey'
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import InputError
from .base import Binding, ColumnMapping, FileTable, find_column, header_key, snake_case
from .dates import parse_date
from .presets import BUILTIN_PRESETS, GENERIC_HEADER_KEYS, Preset  # noqa: F401 (doctests)

log = logging.getLogger(__name__)

__all__ = ["match_preset", "detect_preset", "guess_mapping", "bind"]

_SINGLE_FIELDS = ("id", "created_at", "rating", "title", "channel", "language")
_CORE_FIELDS = ("text", "id", "created_at", "rating", "title", "channel")  # fields that can identify a preset
TEXT_NAMES = ("text", "comment", "comments", "review", "body", "feedback", "message",
              "description", "content", "verbatim")
DATE_WORDS = ("date", "created", "timestamp", "submitted", "time")
RATING_WORDS = ("rating", "score", "stars")


def _first_match(columns: Sequence[str], aliases: Sequence[str]) -> str | None:
    keys = {header_key(c): c for c in reversed(columns)}  # first column wins on clashes
    return next((keys[header_key(a)] for a in aliases if header_key(a) in keys), None)


def match_preset(columns: Sequence[str], preset: Preset) -> dict[str, Any]:
    """Map each preset field to the file column it matches (fields not found are left out).

    >>> match_preset(["Review ID", "Star Rating", "Review"], BUILTIN_PRESETS["app_store"])
    {'text': 'Review', 'id': 'Review ID', 'rating': 'Star Rating'}
    """
    found: dict[str, Any] = {}
    text = _first_match(columns, preset.text)
    if text:
        found["text"] = text
    for name in _SINGLE_FIELDS:
        column = _first_match(columns, getattr(preset, name))
        if column:
            found[name] = column
    used = set(found.values())
    meta = tuple(c for c in columns if c not in used and any(
        header_key(c) == header_key(a) for a in preset.metadata))
    if meta:
        found["metadata"] = meta
    return found


def _score(found: dict[str, Any], columns: Sequence[str]) -> tuple[int, int] | None:
    if "text" not in found or not any(k in found for k in ("id", "created_at", "rating")):
        return None
    plain = {header_key(n) for n in TEXT_NAMES}
    if header_key(found["text"]) not in plain and any(
            header_key(c) in plain for c in columns if c not in _used(found)):
        return None  # the file names its text column plainly, and the preset would read another one
    distinctive = sum(1 for k in _CORE_FIELDS
                      if k in found and header_key(found[k]) not in GENERIC_HEADER_KEYS)
    if distinctive == 0:
        return None
    matched = len(found) - ("metadata" in found) + len(found.get("metadata", ()))
    return distinctive, matched


def _used(found: dict[str, Any]) -> set[str]:
    return {c for k, v in found.items() for c in ((v,) if isinstance(v, str) else v)}


def detect_preset(columns: Sequence[str], candidates: Sequence[Preset]) -> Preset | None:
    """The best-matching preset for these columns, or None (see the module docs)."""
    best, best_score, tied = None, (0, 0), False
    for preset in candidates:
        score = _score(match_preset(columns, preset), columns)
        if score is not None and score > best_score:
            best, best_score, tied = preset, score, False
        elif score is not None and score == best_score and best and preset.default_channel != best.default_channel:
            tied = True
    return None if tied else best


def _guess_text(table: FileTable, exclude: set[str]) -> str | None:
    named = _first_match([c for c in table.columns if c not in exclude], TEXT_NAMES)
    if named:
        return named
    best, best_len = None, 0.0
    sample = table.head(200)
    for column in table.columns:
        if column in exclude:
            continue
        lengths = [len(v) for r in sample if r.values
                   for v in [r.values.get(column)] if isinstance(v, str) and v.strip()
                   and not _numeric(v)]
        average = sum(lengths) / len(lengths) if lengths else 0.0
        if average > best_len:
            best, best_len = column, average
    return best


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    return float(str(value).replace(",", "."))


def _numeric(value: str) -> bool:
    try:
        _number(value)
    except ValueError:
        return False
    return True


def _words(column: str) -> list[str]:
    """A header's words: ``tweet_created`` -> tweet, created; ``createdAt`` -> created, at."""
    return snake_case(column).split("_")


def _guess_by_words(columns: Sequence[str], words: Sequence[str],
                    fits: Callable[[str], bool] = lambda column: True) -> str | None:
    """The first column named by one of ``words`` (the whole name, then a word of it, or a word that starts
    with one: ``datetime``, ``timestamp``) whose values ``fits`` accepts. A word inside a word does not count:
    ``airline_sentiment`` holds "time" and ``operating_system`` holds "rating", and neither is one."""
    exact = _first_match(columns, words)
    named = ([exact] if exact else []) + [c for c in columns if c != exact and any(
        w.startswith(word) for w in _words(c) for word in words)]
    return next((c for c in named if fits(c)), None)


def _mostly(table: FileTable, column: str, parses: Callable[[Any], Any]) -> bool:
    """Whether half or more of the column's non-empty values in the first rows parse: a column named like a date
    whose values are labels ("negative") is not the date column, and every row would be rejected."""
    values = [v for r in table.head(200) if r.values for v in [r.values.get(column)]
              if v is not None and str(v).strip()]
    good = 0
    for v in values:
        try:
            parses(v)
            good += 1
        except (ValueError, TypeError, OverflowError):
            pass
    return not values or good * 2 >= len(values)


def guess_mapping(table: FileTable) -> dict[str, Any]:
    """Guess a generic mapping by column names; remaining columns become metadata.

    >>> t = FileTable("x.csv", "csv", ["review_id", "when_created", "body", "store"], [])
    >>> guess_mapping(t)
    {'id': 'review_id', 'created_at': 'when_created', 'text': ('body',), 'metadata': ('store',)}
    >>> guess_mapping(FileTable("t.csv", "csv", ["tweet_id", "airline_sentiment", "text", "tweet_created"], []))
    {'id': 'tweet_id', 'created_at': 'tweet_created', 'text': ('text',), 'metadata': ('airline_sentiment',)}
    """
    cols = table.columns
    found: dict[str, Any] = {}
    ident = find_column(cols, "id") or next((c for c in cols if c.casefold().endswith("_id")
                                             or c.casefold().endswith(" id")), None)
    dated = _guess_by_words(cols, DATE_WORDS, lambda c: _mostly(table, c, parse_date))
    named = _guess_by_words(cols, DATE_WORDS)
    if named and not dated:
        example = next((v for r in table.head(200) if r.values for v in [r.values.get(named)] if v), "")
        log.warning("%s: column %r is named like a date but its values are not dates (e.g. %r), so the rows are "
                    "read without one (--map created_at=COLUMN names the date column)", table.path, named,
                    str(example)[:40])
    rated = _guess_by_words(cols, RATING_WORDS, lambda c: _mostly(table, c, _number))
    for name, column in (("id", ident), ("created_at", dated), ("rating", rated),
                         ("channel", find_column(cols, "channel")),
                         ("language", find_column(cols, "language") or find_column(cols, "lang"))):
        if column and column not in found.values():
            found[name] = column
    text = _guess_text(table, set(found.values()))
    if text:
        found["text"] = (text,)
    used = set(found.values()) | {text}
    found["metadata"] = tuple(c for c in cols if c not in used)
    return found


def _columns_list(table: FileTable) -> str:
    return ", ".join(repr(c) for c in table.columns) or "none"


def _from_preset(table: FileTable, preset: Preset, explicit: bool) -> dict[str, Any]:
    found = match_preset(table.columns, preset)
    if explicit and "text" not in found:
        aliases = ", ".join(repr(a) for a in preset.text)
        raise InputError(
            f"preset {preset.name!r} needs a text column (one of {aliases}) but the file "
            f"has columns: {_columns_list(table)}; pass --map text=<column>",
            path=table.path, field="text")
    found["text"] = (found["text"],) if "text" in found else ()
    found.update(rating_min=preset.rating_min, rating_scale=preset.rating_scale,
                 default_channel=preset.default_channel, preset=preset.name)
    return found


def _from_mapping(table: FileTable, mapping: ColumnMapping) -> dict[str, Any]:
    def resolve(field: str, column: str) -> str:
        actual = find_column(table.columns, column)
        if actual is None:
            raise InputError(f"mapping {field}={column!r} names a column the file does not have; "
                             f"columns: {_columns_list(table)}", path=table.path, field=field)
        return actual

    found: dict[str, Any] = {}
    for name, value in mapping.set_fields().items():
        if name in ("text", "metadata"):
            found[name] = tuple(resolve(name, c) for c in value)
        elif name in ("rating_scale", "rating_min"):
            found[name] = value
        else:
            found[name] = resolve(name, value)
    return found


def bind(table: FileTable, *, source: str | None, preset: Preset | None,
         mapping: ColumnMapping | None, candidates: Sequence[Preset]) -> Binding:
    """Resolve the mapping for one file into a :class:`Binding`.

    Raises InputError when an explicit preset or mapping does not fit the file.
    """
    if preset is None and mapping is None:
        preset = detect_preset(table.columns, candidates)
        found = _from_preset(table, preset, False) if preset else guess_mapping(table)
    else:
        found = _from_preset(table, preset, True) if preset else {}
        if mapping is not None:
            found.update(_from_mapping(table, mapping))
    if not found.get("text"):
        guessed = _guess_text(table, set())
        if guessed is None:
            raise InputError(f"cannot tell which column holds the comment text; columns: "
                             f"{_columns_list(table)}; pass --map text=<column>",
                             path=table.path, field="text")
        found["text"] = (guessed,)
    name = source or (preset.name if preset else None) or Path(table.path).stem
    return Binding(source=name, **found)
