"""CSV/TSV and XLSX readers.

CSV: the csv module (quoted fields may hold delimiters and newlines). A
record's line is the PHYSICAL line where it starts; the header is line 1.
Completely blank lines are not rows and are skipped. A row with more fields
than the header (other than trailing empty ones) or fewer becomes a reject.

XLSX: the first (active) worksheet, read with openpyxl in read-only mode; a
record's line is its spreadsheet row number (header = row 1). Completely
empty rows are not rows and are skipped.

>>> import tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "a.csv")
>>> _ = open(p, "w").write('id,text\\n1,"two\\nlines"\\n2,next\\n')
>>> [(r.line, r.values["id"]) for r in read_csv(p).records]
[(2, '1'), (4, '2')]
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any, Iterator

from ..errors import InputError
from ..registry import collectors
from .base import FileTable, RawRecord, cell_text
from .encoding import detect_delimiter, read_text

__all__ = ["read_csv", "read_xlsx", "unique_headers"]

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long comments exceed the 128 KB default


def unique_headers(raw: list[Any]) -> list[str]:
    """Header cells as unique names: blanks become ``column_N``, repeats get ``_2``.

    >>> unique_headers(["id", "", "Text", "text", None])
    ['id', 'column_2', 'Text', 'text_2', 'column_5']
    """
    names: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(raw, start=1):
        name = cell_text(cell).strip().lstrip("\ufeff") or f"column_{index}"
        base, n = name, 2
        while name.casefold() in seen:
            name, n = f"{base}_{n}", n + 1
        seen.add(name.casefold())
        names.append(name)
    return names


def _record(columns: list[str], row: list[Any], line: int, raw: str) -> RawRecord:
    extra = row[len(columns):]
    if len(row) < len(columns) or any(cell_text(v).strip() for v in extra):
        return RawRecord(line, None, f"expected {len(columns)} fields, found {len(row)}", raw=raw)
    return RawRecord(line, dict(zip(columns, row)))


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str], str | None]]:
    """(start line, fields, error) per record; a csv.Error ends the file, and so does a quote
    left open (the csv module would read every later line into one field: that record is
    rejected instead, naming the line where the quote opened)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, [], f"malformed CSV: {exc}"
            return
        if reader.line_num > start and _open_quote(text, start):
            yield start, [], (f"unterminated quote: the field opened on line {start} runs to the end of the "
                              f"file (lines {start}-{reader.line_num})")
            return
        yield start, row, None
        start = reader.line_num + 1


def _open_quote(text: str, start: int) -> bool:
    """Whether the text from physical line ``start`` to the end holds an odd number of quotes
    (only checked for a record that spans several lines)."""
    offset = 0
    for _ in range(start - 1):
        offset = text.find("\n", offset) + 1
        if offset == 0:
            return False
    return text.count('"', offset) % 2 == 1


@collectors.register("csv")
def read_csv(path: str | Path, *, encoding: str | None = None,
             delimiter: str | None = None) -> FileTable:
    """Read a delimited text file (.csv, .tsv, .tab) into a FileTable."""
    path = Path(path)
    text, used = read_text(path, encoding)
    delim = delimiter or detect_delimiter(text, path.suffix)
    rows = _csv_rows(text, delim)
    table = FileTable(str(path), "csv", [], [], encoding=used, delimiter=delim)
    for line, row, error in rows:
        if error:
            table.records.append(RawRecord(line, None, error))
        elif len(row) == 1 and not row[0].strip() or not row:
            continue  # a blank line is not a row
        elif not table.columns:
            table.columns = unique_headers(row)
        else:
            table.records.append(_record(table.columns, row, line, delim.join(row)))
    return table


@collectors.register("xlsx")
def read_xlsx(path: str | Path, *, encoding: str | None = None,
              delimiter: str | None = None) -> FileTable:
    """Read the first worksheet of an .xlsx workbook into a FileTable.

    ``encoding`` and ``delimiter`` are accepted for a uniform signature and ignored.
    """
    from openpyxl import load_workbook

    path = Path(path)
    _check_expansion(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise InputError(f"cannot open as an .xlsx workbook: {exc}", path=str(path)) from None
    try:
        sheet = book.active
        sheet.reset_dimensions()
        table = FileTable(str(path), "xlsx", [], [])
        for number, row in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1):
            cells = list(row)
            if number == 1:
                table.columns = unique_headers(_trim(cells))
            elif any(cell_text(c).strip() for c in cells):
                raw = " | ".join(cell_text(c) for c in cells)
                table.records.append(_record(table.columns, _pad(cells, table.columns), number, raw))
        return table
    finally:
        book.close()


# An .xlsx is a zip: refuse one that would expand past these before parsing it (a zip bomb).
MAX_XLSX_EXPANDED = 1 << 30  # 1 GiB of XML
MAX_XLSX_RATIO = 200  # expanded / compressed, for any member over 1 MiB


def _check_expansion(path: Path) -> None:
    """Raise InputError when the workbook is not a zip or would expand too far."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"cannot open as an .xlsx workbook: {exc}", path=str(path)) from None
    total = sum(m.file_size for m in members)
    worst = max(((m.file_size / max(m.compress_size, 1), m.filename) for m in members if m.file_size > 1 << 20),
                default=(0.0, ""))
    if total > MAX_XLSX_EXPANDED or worst[0] > MAX_XLSX_RATIO:
        raise InputError(f"the workbook would expand to {total / 2**20:,.0f} MB ({worst[1] or 'all parts'} "
                         f"compressed {worst[0]:,.0f}:1); refusing it as a possible zip bomb: export it again "
                         "or save it as CSV", path=str(path))


def _trim(cells: list[Any]) -> list[Any]:
    while cells and cell_text(cells[-1]).strip() == "":
        cells.pop()
    return cells


def _pad(cells: list[Any], columns: list[str]) -> list[Any]:
    """Spreadsheet rows may be short (trailing blanks are not stored): pad them."""
    return cells + [None] * (len(columns) - len(cells))
