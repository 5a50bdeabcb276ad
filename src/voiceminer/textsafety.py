"""Making untrusted customer text safe where it leaves the system.

HTML output goes through Jinja2 with autoescaping; spreadsheet-bound output
(CSV, XLSX) goes through :func:`safe_cell`, which neutralises formulas
(OWASP "CSV injection"): a cell that starts with ``= + - @`` or a tab/CR is
prefixed with a single quote so spreadsheet programs show it as text.

>>> safe_cell('=HYPERLINK("http://x","y")')
'\\'=HYPERLINK("http://x","y")'
>>> safe_cell("-5"), safe_cell("fine")
('-5', 'fine')
"""

from __future__ import annotations

import re
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")


def safe_cell(value: Any) -> Any:
    """Return ``value`` unchanged unless it is a string a spreadsheet would run as a formula."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value
