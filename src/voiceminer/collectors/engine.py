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
from typing import Iterator, Sequence

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
    ctx = RowContext(path=str(path), dayfirst=_dayfirst(table, binding, options["dayfirst"]),
                     tz=options["tz"], channel=options["channel"])
    log.info("%s: %s, encoding %s, delimiter %r, preset %s", path, table.format,
             table.encoding, table.delimiter, binding.preset)
    rows = 0
    for record in table.records:
        rows += 1
        yield to_item(record, binding, ctx)
    log.info("%s: %d rows", path, rows)


def collect(inputs: Sequence[str | Path], *, preset: str | None = None,
            mapping: ColumnMapping | None = None, source: str | None = None,
            channel: str | None = None, encoding: str | None = None,
            delimiter: str | None = None, dayfirst: bool | None = None,
            timezone: str = "UTC") -> Iterator[Comment | Reject]:
    """Yield exactly one Comment or Reject per input data row, in file then row order.

    Inputs, the preset name and the time zone are checked when this is called
    (InputError); problems inside a file (undecodable bytes, an explicit preset
    or mapping that does not fit its columns) raise InputError when iteration
    reaches that file. Header rows and blank lines are not rows; nothing else
    is skipped, so ``rows == comments + rejects``. Duplicates are yielded.
    """
    files = expand_inputs(inputs)
    options = {"encoding": encoding, "delimiter": delimiter, "mapping": mapping,
               "source": source or None, "channel": channel or None, "dayfirst": dayfirst,
               "tz": get_timezone(timezone)}
    chosen = _preset(preset)
    if delimiter is not None and len(delimiter) != 1:
        raise InputError(f"delimiter must be one character, got {delimiter!r}", field="delimiter")
    candidates = _candidates() if chosen is None and mapping is None else []
    return _iterate(files, chosen, candidates, options)


def _iterate(files: list[Path], preset: Preset | None, candidates: list[Preset],
             options: dict) -> Iterator[Comment | Reject]:
    for path in files:
        yield from _collect_file(path, preset, candidates, options)
