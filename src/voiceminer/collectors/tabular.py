"""CSV/TSV and XLSX readers; both stream their rows from disk (CSV in bounded memory; XLSX see below).

CSV: the csv module (quoted fields may hold delimiters and newlines). A
record's line is the PHYSICAL line where it starts; the header is line 1, unless
the first row holds a number or a date (:func:`headerless`): then the file has
no header, its columns are ``column_1``, ``column_2``, ... and line 1 is a row.
Completely blank lines are not rows and are skipped. A row with more fields
than the header (other than trailing empty ones) or fewer becomes a reject.

XLSX: the first (active) worksheet, read with openpyxl in read-only mode (rows stream, but openpyxl
holds the workbook's shared-strings table: memory grows with the distinct cell texts); a
record's line is its spreadsheet row number (header = row 1, unless row 1 holds a
number or a date, as for CSV). Completely empty rows are not rows and are skipped.

>>> import tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "a.csv")
>>> _ = open(p, "w").write('id,text\\n1,"two\\nlines"\\n2,next\\n')
>>> [(r.line, r.values["id"]) for r in read_csv(p).records]   # records stream: read on iteration
[(2, '1'), (4, '2')]
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path
from typing import Any, Iterator

from ..errors import InputError
from ..registry import collectors
from .base import FileTable, RawRecord, cell_text
from .encoding import SNIFF_BYTES, TextSource, detect_delimiter, open_text

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


class _Counted:
    """The lines of a text source, counting the quote characters of the lines handed out so far."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines, self.quotes = lines, 0

    def __iter__(self) -> "_Counted":
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.quotes += line.count('"')
        return line

    def close(self) -> None:
        if hasattr(self.lines, "close"):
            self.lines.close()


def _csv_rows(source: TextSource, delimiter: str) -> Iterator[tuple[int, list[str], str | None]]:
    """(start line, fields, error) per record, streamed; a csv.Error ends the file, and so does a
    quote left open (the csv module would read every later line into one field: that record is
    rejected instead, naming the line where the quote opened).

    A record that spans several lines has its quote left open when the text from its first line to
    the end of the file holds an odd number of quotes: the file's total (counted when its encoding
    was checked) less those of the lines before the record.
    """
    lines = _Counted(source.lines())
    reader = csv.reader(lines, delimiter=delimiter)  # reads one line at a time, never ahead
    start = 1
    try:
        while True:
            before = lines.quotes
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield start, [], f"malformed CSV: {exc}"
                return
            if reader.line_num > start and (source.quotes - before) % 2 == 1:
                yield start, [], (f"unterminated quote: the field opened on line {start} runs to the end of the "
                                  f"file (lines {start}-{reader.line_num})")
                return
            yield start, row, None
            start = reader.line_num + 1
    finally:
        lines.close()


def _blank(row: list[str]) -> bool:
    return not row or len(row) == 1 and not row[0].strip()


# A header cell is a name; a number or a date in the first row means the file has no header row
# ("25550410899005441,@FC_Help I need to check my order,0,apparel"): reading that row as column names
# would lose it and name the columns after one customer's data.
_DATA_CELL = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$|^\d{4}-\d{2}-\d{2}|^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b")


def headerless(row: list[Any]) -> bool:
    """Whether a file's first row is data, not a header: one of its cells is a number or a date.

    >>> headerless(["25550410899005441", "@FC_Help where is my order", "0", "apparel"])
    True
    >>> headerless(["id", "How likely are you to recommend us?", "Q3 (2026)", "date"])
    False
    """
    return any(_DATA_CELL.match(cell_text(c).strip()) for c in row)


def header_columns(first: list[Any]) -> tuple[list[str], bool]:
    """The columns a file's first row gives, and whether that row is data (:func:`headerless`): then the
    columns are ``column_1`` ... and the row is read as a record."""
    if headerless(first):
        return [f"column_{i}" for i in range(1, len(first) + 1)], True
    return unique_headers(first), False


def _csv_header(source: TextSource, delimiter: str) -> tuple[list[str], bool]:
    """The header, the first row that is neither blank nor broken ([] when there is none), and
    whether that row is data instead (:func:`headerless`: the columns are then ``column_1`` ...)."""
    rows = _csv_rows(source, delimiter)
    try:
        for _, row, error in rows:
            if not error and not _blank(row):
                return header_columns(row)
        return [], False
    finally:
        rows.close()


def _csv_records(source: TextSource, delimiter: str, columns: list[str], has_header: bool = True) -> Iterator[RawRecord]:
    header_seen = not has_header
    for line, row, error in _csv_rows(source, delimiter):
        if error:
            yield RawRecord(line, None, error)
        elif _blank(row):
            continue  # a blank line is not a row
        elif not header_seen:
            header_seen = True
        else:
            yield _record(columns, row, line, delimiter.join(row))


@collectors.register("csv")
def read_csv(path: str | Path, *, encoding: str | None = None,
             delimiter: str | None = None) -> FileTable:
    """Open a delimited text file (.csv, .tsv, .tab) as a FileTable whose records stream from disk.

    The encoding is checked (every byte decoded once) and the delimiter detected from the first
    64 KB here; the records are read when iterated, one at a time.
    """
    path = Path(path)
    source = open_text(path, encoding, count_quotes=True)
    delim = delimiter or detect_delimiter(source.head(SNIFF_BYTES + 1), path.suffix)
    columns, no_header = _csv_header(source, delim)
    return FileTable(str(path), "csv", columns, lambda: _csv_records(source, delim, columns, not no_header),
                     encoding=source.encoding, delimiter=delim, headerless=no_header)


@collectors.register("xlsx")
def read_xlsx(path: str | Path, *, encoding: str | None = None,
              delimiter: str | None = None) -> FileTable:
    """Open the first worksheet of an .xlsx workbook as a FileTable whose records stream
    (openpyxl's read-only mode: one row in memory at a time).

    ``encoding`` and ``delimiter`` are accepted for a uniform signature and ignored.
    """
    path = Path(path)
    _check_expansion(path)
    rows = _xlsx_rows(path)
    try:
        header = next(rows, (1, ()))[1]
    finally:
        rows.close()
    first = _trim(list(header))
    columns, no_header = header_columns(first)
    return FileTable(str(path), "xlsx", columns, lambda: _xlsx_records(path, columns, 0 if no_header else 1),
                     headerless=no_header)


def _xlsx_rows(path: Path) -> Iterator[tuple[int, tuple[Any, ...]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise InputError(f"cannot open as an .xlsx workbook: {exc}", path=str(path)) from None
    try:
        sheet = book.active
        sheet.reset_dimensions()
        yield from enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
    finally:
        book.close()


def _xlsx_records(path: Path, columns: list[str], header_rows: int = 1) -> Iterator[RawRecord]:
    for number, row in _xlsx_rows(path):
        cells = list(row)
        if number > header_rows and any(cell_text(c).strip() for c in cells):
            raw = " | ".join(cell_text(c) for c in cells)
            yield _record(columns, _pad(cells, columns), number, raw)


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
