"""collect(): files in, exactly one Comment or Reject per data row out.

Each file is streamed: its rows are read twice from disk (once to decide day-first
vs month-first dates for the file, once to convert them row by row), never held in
memory together, so memory does not grow with the file. Files are processed in
:func:`expand_inputs` order; rows in file order.

>>> import tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "survey.csv")
>>> _ = open(p, "w").write("id,comment,score\\n7,Too slow,3\\n8,,9\\n")
>>> [type(x).__name__ for x in collect([p])]
['Comment', 'Reject']
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from ..errors import InputError
from ..registry import collectors as collector_registry
from ..registry import presets as preset_registry
from ..types import Comment, Reject
from .base import Binding, ColumnMapping, FileTable
from .dates import get_timezone, guess_dayfirst
from .inputs import expand_inputs, format_of
from .presets import PRESET_NAMES, Preset
from .resolve import bind
from .rows import RowContext, to_item

__all__ = ["collect", "read_table"]

log = logging.getLogger(__name__)


def _preset(name: str | None) -> Preset | None:
    if name is None:
        return None
    if name not in preset_registry:
        known = ", ".join(preset_registry.names()) or ", ".join(PRESET_NAMES)
        raise InputError(f"unknown preset {name!r}; known presets: {known}", field="preset")
    return preset_registry.get(name)


def _candidates() -> list[Preset]:
    return [preset_registry.get(n) for n in preset_registry.names()
            if isinstance(preset_registry.get(n), Preset)]


def read_table(path: str | Path, *, encoding: str | None = None,
               delimiter: str | None = None) -> FileTable:
    """Open one file with the registered reader for its extension (its records stream on iteration)."""
    reader = collector_registry.get(format_of(path))
    table = reader(Path(path), encoding=encoding, delimiter=delimiter)
    table.path = str(path)
    return table


def _dayfirst(table: FileTable, binding: Binding, dayfirst: bool | None) -> bool:
    if dayfirst is not None or binding.created_at is None:
        return bool(dayfirst)
    column = binding.created_at
    records = table.records
    try:
        return guess_dayfirst(r.values.get(column) for r in records if r.values)
    finally:
        if hasattr(records, "close"):
            records.close()


def _collect_file(path: Path, preset: Preset | None, candidates: list[Preset], options: dict,
                  ) -> Iterator[Comment | Reject]:
    table = read_table(path, encoding=options["encoding"], delimiter=options["delimiter"])
    if not table.head(1):
        return
    if table.headerless:
        log.warning("%s has no header row (its first row holds a number or a date, so it is read as data): its "
                    "columns are column_1 to column_%d (e.g. --map text=column_2)", path, len(table.columns))
    binding = bind(table, source=options["source"], preset=preset, mapping=options["mapping"],
                   candidates=candidates)
    if options.get("on_layout"):
        options["on_layout"](layout(path, binding, table.headerless))
    ctx = RowContext(path=str(path), dayfirst=_dayfirst(table, binding, options["dayfirst"]),
                     tz=options["tz"], channel=options["channel"])
    log.info("%s: %s, encoding %s, delimiter %r, preset %s, text from %s, dates from %s", path, table.format,
             table.encoding, table.delimiter, binding.preset, ", ".join(map(repr, binding.text)) or "nothing",
             repr(binding.created_at) if binding.created_at else "nothing")
    rows = 0
    for record in table.records:
        rows += 1
        yield to_item(record, binding, ctx)
    log.info("%s: %d rows", path, rows)


def layout(path: Path, binding: Binding, headerless: bool = False) -> dict[str, Any]:
    """How one file's columns are read: its preset (None for a generic guess or a mapping), the
    text column(s), and the id, date, rating and title columns (None where it has none).

    >>> b = Binding(source="tweets", text=("text",), id="id", metadata=("reason",))
    >>> layout(Path("in/tweets.csv"), b)["text"], layout(Path("in/tweets.csv"), b)["metadata"]
    (['text'], ['reason'])
    """
    return {"file": path.name, "preset": binding.preset, "text": list(binding.text), "id": binding.id,
            "created_at": binding.created_at, "rating": binding.rating, "title": binding.title,
            "channel": binding.channel,
            "metadata": list(binding.metadata), "headerless": headerless}


def describe_layout(layout: dict[str, Any]) -> str:
    """One line for people: which column fed which field.

    >>> describe_layout({"file": "t.csv", "preset": None, "text": ["text"], "id": "id", "created_at": None,
    ...                  "rating": None, "title": None, "metadata": ["reason"], "headerless": False})
    "t.csv: text from 'text', id 'id', no date column; also kept: 'reason'"
    """
    parts = [f"text from {' + '.join(map(repr, layout['text'])) or 'no column'}"]
    parts += [f"{name} {layout[key]!r}" for key, name in (("id", "id"), ("created_at", "date"), ("rating", "rating"),
                                                          ("title", "title"), ("channel", "channel"))
              if layout.get(key)]
    if not layout["created_at"]:
        parts.append("no date column")
    head = f"{layout['file']}" + (f" ({layout['preset']} export)" if layout["preset"] else "")
    meta = layout["metadata"]
    kept = (f"; also kept: {', '.join(map(repr, meta[:6]))}" + (f" and {len(meta) - 6} more" if len(meta) > 6 else "")
            if meta else "")
    return f"{head}: {', '.join(parts)}{kept}"


def collect(inputs: Sequence[str | Path], *, preset: str | None = None,
            mapping: ColumnMapping | None = None, source: str | None = None,
            channel: str | None = None, encoding: str | None = None,
            delimiter: str | None = None, dayfirst: bool | None = None,
            timezone: str = "UTC", on_layout: Callable[[dict[str, Any]], None] | None = None,
            ) -> Iterator[Comment | Reject]:
    """Yield exactly one Comment or Reject per input data row, in file then row order.

    Inputs, the preset name and the time zone are checked when this is called
    (InputError); problems inside a file (undecodable bytes, an explicit preset
    or mapping that does not fit its columns) raise InputError when iteration
    reaches that file. Header rows and blank lines are not rows; nothing else
    is skipped, so ``rows == comments + rejects``. Duplicates are yielded.
    ``on_layout`` is called once per file, before its rows, with how its columns
    were read (:func:`layout`), so a caller can tell people which column was the text.
    """
    files = expand_inputs(inputs)
    options = {"encoding": encoding, "delimiter": delimiter, "mapping": mapping,
               "source": source or None, "channel": channel or None, "dayfirst": dayfirst,
               "tz": get_timezone(timezone), "on_layout": on_layout}
    chosen = _preset(preset)
    if delimiter is not None and len(delimiter) != 1:
        raise InputError(f"delimiter must be one character, got {delimiter!r}", field="delimiter")
    candidates = _candidates() if chosen is None and mapping is None else []
    return _iterate(files, chosen, candidates, options)


def _iterate(files: list[Path], preset: Preset | None, candidates: list[Preset],
             options: dict) -> Iterator[Comment | Reject]:
    for path in files:
        yield from _collect_file(path, preset, candidates, options)
