"""Collectors: feedback exports (CSV/TSV, XLSX, JSON, JSONL, TXT) -> Comments and Rejects.

Public API::

    from voiceminer.collectors import collect, expand_inputs, ColumnMapping, PRESET_NAMES

``collect`` yields exactly one :class:`~voiceminer.types.Comment` or
:class:`~voiceminer.types.Reject` per input data row, so a caller's ledger
balances (``rows == comments + rejects``).

Modules:

- ``inputs``    files / folders / globs -> file list; supported extensions
- ``encoding``  encoding and delimiter detection, :func:`sniff_file`
- ``tabular``   CSV/TSV and XLSX readers
- ``jsonfiles`` JSON and JSONL readers
- ``text``      plain-text reader
- ``presets``   built-in export layouts (registered in ``registry.presets``)
- ``resolve``   preset detection, explicit mappings, generic guessing
- ``dates``     date parsing, day-first detection, time zones
- ``base``      ColumnMapping, records, bindings; ``rows`` turns a record into one item
- ``engine``    :func:`collect`

Readers are registered in ``registry.collectors`` under their format name
(``csv``, ``xlsx``, ``json``, ``jsonl``, ``txt``).

>>> "nps_survey" in PRESET_NAMES
True
"""

from __future__ import annotations

from . import jsonfiles, tabular, text  # noqa: F401  (registers the readers)
from .base import ColumnMapping
from .encoding import FileInfo, sniff_file
from .engine import collect, read_table
from .inputs import SUPPORTED_EXTENSIONS, expand_inputs
from .presets import PRESET_NAMES, Preset

__all__ = [
    "collect",
    "expand_inputs",
    "ColumnMapping",
    "PRESET_NAMES",
    "Preset",
    "FileInfo",
    "sniff_file",
    "read_table",
    "SUPPORTED_EXTENSIONS",
]
