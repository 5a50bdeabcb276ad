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

from pathlib import Path

from ..registry import collectors
from .base import FileTable, RawRecord
from .encoding import physical_lines, read_text

__all__ = ["read_txt", "TEXT_COLUMN"]

TEXT_COLUMN = "text"


@collectors.register("txt")
def read_txt(path: str | Path, *, encoding: str | None = None,
             delimiter: str | None = None) -> FileTable:
    """Read a plain-text file into a FileTable with one ``text`` column."""
    path = Path(path)
    text, used = read_text(path, encoding)
    table = FileTable(str(path), "txt", [TEXT_COLUMN], [], encoding=used)
    for number, line in enumerate(physical_lines(text), start=1):
        if line.strip():
            table.records.append(RawRecord(number, {TEXT_COLUMN: line}))
    return table
