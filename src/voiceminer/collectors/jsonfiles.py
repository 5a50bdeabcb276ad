"""JSON and JSON Lines readers.

JSON (parsed whole: use JSONL for big exports): a top-level array of objects, or an object holding exactly one list of
objects (under ``data``, ``records``, ``items``, ``results``, ``reviews`` ...,
or any single list-of-objects value). A record's "line" is its 1-based index
in that list; a record that is not an object becomes a reject.

JSONL / NDJSON streams (bounded memory); one object per physical line; a record's line is the physical
line number. Blank lines are NOT rows and are skipped silently (they carry no
data, so the ledger ``rows == comments + rejects`` counts non-blank lines).
Invalid JSON gives a reject "invalid JSON: <message>".

Columns are the union of the records' keys in order of first appearance. A nested object is
flattened into dotted keys, as help desks export it (``"via": {"channel": "email"}`` becomes the
column ``via.channel``), so its values can be mapped (``--map channel=via.channel``) and become
segments; lists stay as they are.

>>> flatten({"id": 1, "via": {"channel": "email", "source": {"rel": None}}, "tags": ["a"]})
{'id': 1, 'via.channel': 'email', 'via.source.rel': None, 'tags': ['a']}

>>> import tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "a.jsonl")
>>> _ = open(p, "w").write('{"text": "hi"}\\n\\n{oops\\n')
>>> [(r.line, r.error) for r in read_jsonl(p).records]
[(1, None), (3, 'invalid JSON: Expecting property name enclosed in double quotes (char 1)')]
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..registry import collectors
from .base import FileTable, RawRecord
from .encoding import TextSource, open_text, read_text

__all__ = ["read_json", "read_jsonl", "WRAPPER_KEYS"]

WRAPPER_KEYS = ("data", "records", "items", "results", "reviews", "responses", "tickets",
                "comments", "feedback", "rows", "entries")


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A record with its nested objects as dotted keys (an empty object stays as it is)."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _add_columns(columns: list[str], seen: set[str], record: dict[str, Any]) -> None:
    for key in record:
        if key not in seen:
            seen.add(key)
            columns.append(key)


def _records_list(document: Any, path: str) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in WRAPPER_KEYS:
            if isinstance(document.get(key), list):
                return document[key]
        lists = [v for v in document.values() if isinstance(v, list)
                 and any(isinstance(item, dict) for item in v)]
        if len(lists) == 1:
            return lists[0]
        if all(not isinstance(v, (list, dict)) for v in document.values()):
            return [document]  # a single record
    raise InputError("expected a JSON array of objects, or an object holding one list of "
                     "objects (e.g. under \"data\" or \"records\")", path=path)


@collectors.register("json")
def read_json(path: str | Path, *, encoding: str | None = None,
              delimiter: str | None = None) -> FileTable:
    """Read a JSON document into a FileTable (see the module docs for the shapes accepted).

    Limit: a single JSON document is parsed whole, so its size bounds the memory used (about
    ten times the file); big exports should come as JSON Lines, which stream.
    """
    path = Path(path)
    text, used = read_text(path, encoding)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg} (column {exc.colno})",
                         path=str(path), line=exc.lineno) from None
    del text
    table = FileTable(str(path), "json", [], [], encoding=used)
    seen: set[str] = set()
    records: list[RawRecord] = []
    for index, item in enumerate(_records_list(document, str(path)), start=1):
        if isinstance(item, dict):
            item = flatten(item)
            _add_columns(table.columns, seen, item)
            records.append(RawRecord(index, item))
        else:
            records.append(RawRecord(index, None, f"record is a {type(item).__name__}, "
                                     "not an object", raw=json.dumps(item)[:500]))
    table.rows = records
    return table


def _jsonl_items(source: TextSource) -> Iterator[tuple[int, Any, str]]:
    """(line number, parsed value or a JSONDecodeError, line) per non-blank physical line."""
    for number, line in enumerate(source.physical(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line), line
        except json.JSONDecodeError as exc:
            yield number, exc, line


def _jsonl_records(source: TextSource) -> Iterator[RawRecord]:
    for number, item, line in _jsonl_items(source):
        if isinstance(item, json.JSONDecodeError):
            yield RawRecord(number, None, f"invalid JSON: {item.msg} (char {item.pos})", raw=line[:500])
        elif isinstance(item, dict):
            yield RawRecord(number, flatten(item))
        else:
            yield RawRecord(number, None, f"record is a {type(item).__name__}, not an object", raw=line[:500])


@collectors.register("jsonl")
def read_jsonl(path: str | Path, *, encoding: str | None = None,
               delimiter: str | None = None) -> FileTable:
    """Open JSON Lines / NDJSON as a FileTable whose records stream from disk; blank lines are
    skipped, not counted. The columns (every key, in order of first appearance) take one pass."""
    path = Path(path)
    source = open_text(path, encoding)
    columns: list[str] = []
    seen: set[str] = set()
    for _, item, _ in _jsonl_items(source):
        if isinstance(item, dict):
            _add_columns(columns, seen, flatten(item))
    return FileTable(str(path), "jsonl", columns, lambda: _jsonl_records(source), encoding=source.encoding)
