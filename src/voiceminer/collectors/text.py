"""Plain-text reader: one comment per non-blank line.

Blank (or whitespace-only) lines are NOT rows and are skipped silently; a
record's line is its physical line number. The single column is ``text``.

>>> import tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "a.txt")
>>> _ = open(p, "w").write("Too slow.\\n\\nLoved it\\n")
>>> [(r.line, r.values["text"]) for r in read_txt(p).records]
[(1, 'Too slow.'), (3, 'Loved it')]
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..registry import collectors
from .base import FileTable, RawRecord
from .encoding import TextSource, open_text

__all__ = ["read_txt", "TEXT_COLUMN"]

TEXT_COLUMN = "text"


@collectors.register("txt")
def read_txt(path: str | Path, *, encoding: str | None = None,
             delimiter: str | None = None) -> FileTable:
    """Open a plain-text file as a FileTable with one ``text`` column, its records streamed."""
    path = Path(path)
    source = open_text(path, encoding)
    return FileTable(str(path), "txt", [TEXT_COLUMN], lambda: _records(source), encoding=source.encoding)


def _records(source: TextSource) -> Iterator[RawRecord]:
    for number, line in enumerate(source.physical(), start=1):
        if line.strip():
            yield RawRecord(number, {TEXT_COLUMN: line})
