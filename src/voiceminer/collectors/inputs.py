"""Turning command-line inputs (files, folders, glob patterns) into a file list.

>>> SUPPORTED_EXTENSIONS
('.csv', '.json', '.jsonl', '.ndjson', '.tab', '.tsv', '.txt', '.xlsx')
>>> format_of("reviews.TSV")
'csv'
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Sequence

from ..errors import InputError

__all__ = ["SUPPORTED_EXTENSIONS", "EXTENSION_FORMATS", "format_of", "expand_inputs"]

EXTENSION_FORMATS = {
    ".csv": "csv", ".tsv": "csv", ".tab": "csv", ".xlsx": "xlsx", ".json": "json",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "txt",
}
SUPPORTED_EXTENSIONS = tuple(sorted(EXTENSION_FORMATS))
_GLOB_CHARS = set("*?[")


def _supported_list() -> str:
    return " ".join(SUPPORTED_EXTENSIONS)


def format_of(path: str | Path) -> str:
    """The reader format for a file name; InputError for an unsupported extension.

    >>> format_of("old.xls")
    Traceback (most recent call last):
    ...
    voiceminer.errors.InputError: file old.xls: .xls (old Excel) files are not supported: open it in Excel or LibreOffice and save it as .xlsx
    """
    suffix = Path(path).suffix.lower()
    if suffix in EXTENSION_FORMATS:
        return EXTENSION_FORMATS[suffix]
    if suffix == ".xls":
        raise InputError(".xls (old Excel) files are not supported: open it in Excel or "
                         "LibreOffice and save it as .xlsx", path=str(path))
    raise InputError(f"unsupported file type {suffix or '(no extension)'!r}; supported: "
                     f"{_supported_list()}", path=str(path))


def _wanted(path: Path) -> bool:
    """Files picked up from folders and globs: supported, not hidden, not Office lock files."""
    name = path.name
    return (path.suffix.lower() in EXTENSION_FORMATS and not name.startswith((".", "~$"))
            and path.is_file())


def _expand_one(item: str | Path) -> list[Path]:
    path = Path(item)
    if path.is_file():
        format_of(path)
        return [path]
    if path.is_dir():
        found = [p for p in path.rglob("*") if _wanted(p)]
        if not found:
            raise InputError(f"folder holds no supported files ({_supported_list()})", path=str(path))
        return found
    if _GLOB_CHARS & set(str(item)):
        matches = [Path(m) for m in glob.glob(os.path.expanduser(str(item)), recursive=True)]
        found = [p for p in matches if _wanted(p)]
        for folder in (p for p in matches if p.is_dir()):
            found.extend(p for p in folder.rglob("*") if _wanted(p))
        if not found:
            raise InputError(f"pattern matched no supported files ({_supported_list()})",
                             path=str(item))
        return found
    raise InputError("no such file or folder", path=str(item))


def expand_inputs(inputs: Sequence[str | Path]) -> list[Path]:
    """Files, folders (recursive) and glob patterns -> sorted unique files.

    Folders and patterns pick up supported files only (hidden files and ``~$``
    lock files are ignored); a file named explicitly must have a supported
    extension. Raises InputError when an input matches nothing, does not exist
    or has an unsupported extension.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> for n in ("b.csv", "a.jsonl", "notes.md"): _ = open(os.path.join(d, n), "w").write("x")
    >>> [p.name for p in expand_inputs([d, os.path.join(d, "*.csv")])]
    ['a.jsonl', 'b.csv']
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    if not inputs:
        raise InputError("no input files given")
    seen: dict[str, Path] = {}
    for item in inputs:
        for path in _expand_one(item):
            seen.setdefault(os.path.normcase(str(path.resolve())), path)
    return sorted(seen.values(), key=lambda p: str(p))
