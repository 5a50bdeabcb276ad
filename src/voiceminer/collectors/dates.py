"""Date parsing for collected rows: day-first detection, time zones, epochs.

Every parsed value comes back timezone-aware in UTC. Naive values are read in
the caller's time zone (default UTC); ISO ``yyyy-mm-dd`` is always year-first;
digit-only values of 9+ digits are Unix epochs (seconds, or milliseconds when
above 10^11). A value missing its year or month is rejected rather than
completed from today's date.

>>> parse_date("28/09/2026 09:15", dayfirst=True).isoformat()
'2026-09-28T09:15:00+00:00'
>>> parse_date("2026-09-29T08:14:00+01:00").isoformat()
'2026-09-29T07:14:00+00:00'
>>> parse_date("1785000000").year
2026
>>> guess_dayfirst(["03/04/2026", "25/04/2026"])
True
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone, tzinfo
from typing import Any, Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateutil_parser

from ..errors import InputError

__all__ = ["parse_date", "guess_dayfirst", "get_timezone"]

_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{2,4})\b")
_YEAR_FIRST = re.compile(r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_ISO = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")
_DEFAULT_A = datetime(2000, 1, 1)
_DEFAULT_B = datetime(2001, 2, 2)


def get_timezone(name: str) -> tzinfo:
    """The zoneinfo zone called ``name``; InputError when there is none.

    >>> get_timezone("Europe/London").key
    'Europe/London'
    """
    if name.upper() == "UTC":
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone {name!r}; use an IANA name such as 'Europe/London'",
                         field="timezone") from None


def guess_dayfirst(values: Iterable[Any]) -> bool:
    """Decide day-first vs month-first for one file's date values.

    Day-first when any ``d/m/y`` value has a first number above 12; month-first
    when any has a second number above 12; otherwise month-first, except for
    dotted dates (``03.04.2026``), which are day-first by convention.

    >>> guess_dayfirst(["04/25/2026", "01/02/2026"])
    False
    >>> guess_dayfirst(["01.02.2026"])
    True
    """
    dotted = False
    second_big = False
    for value in values:
        match = _NUMERIC_DATE.match(value) if isinstance(value, str) else None
        if not match:
            continue
        first, sep, second = int(match.group(1)), match.group(2), int(match.group(3))
        if first > 12:
            return True
        second_big = second_big or second > 12
        dotted = dotted or sep == "."
    return dotted and not second_big


def parse_date(value: Any, *, dayfirst: bool = False, tz: tzinfo = timezone.utc) -> datetime | None:
    """Parse one cell into an aware UTC datetime; None for an empty cell.

    Raises ValueError for anything that is not a complete, possible date.

    >>> parse_date("Aug 03, 2026 14:22").isoformat()
    '2026-08-03T14:22:00+00:00'
    >>> parse_date("") is None
    True
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _to_utc(value, tz)
    if isinstance(value, date):
        return _to_utc(datetime.combine(value, time()), tz)
    if isinstance(value, bool):
        raise ValueError(f"not a date: {value!r}")
    if isinstance(value, (int, float)):
        return _from_epoch(float(value))
    text = str(value).strip()
    if not text:
        return None
    if text.isdigit() and len(text) >= 9:
        return _from_epoch(float(text))
    return _to_utc(_parse_text(text, dayfirst), tz)


def _parse_text(text: str, dayfirst: bool) -> datetime:
    if _ISO.match(text):
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    if text.isdigit() and len(text) != 8:  # "5", "2026": not a date on their own
        raise ValueError(f"not a date: {text!r}")
    yearfirst = bool(_YEAR_FIRST.match(text)) or text.isdigit()  # 20260801
    kwargs = {"dayfirst": dayfirst and not yearfirst, "yearfirst": yearfirst}
    try:
        first = dateutil_parser.parse(text, default=_DEFAULT_A, **kwargs)
        second = dateutil_parser.parse(text, default=_DEFAULT_B, **kwargs)
    except (ValueError, OverflowError) as exc:
        raise ValueError(str(exc)) from None
    if (first.year, first.month) != (second.year, second.month):
        raise ValueError(f"incomplete date: {text!r}")
    return first


def _from_epoch(number: float) -> datetime:
    if number < 1e9:
        raise ValueError(f"number {number:g} is not an epoch timestamp")
    if number > 1e11:
        number /= 1000.0
    try:
        return datetime.fromtimestamp(number, tz=timezone.utc)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(str(exc)) from None


def _to_utc(value: datetime, tz: tzinfo) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(timezone.utc)
