"""Calendar periods (day, week, month, quarter) in a configurable time zone.

>>> import pandas as pd
>>> s = pd.Series(pd.to_datetime(["2026-09-28T23:30:00Z"], utc=True))
>>> assign_period(s, "week", "UTC").iloc[0]
'2026-09-28'
>>> assign_period(s, "week", "Pacific/Auckland").iloc[0]   # already Tuesday there, same ISO week
'2026-09-28'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import pandas as pd

_FREQ = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q"}


def assign_period(timestamps: pd.Series, period: str, timezone: str) -> pd.Series:
    """Label each UTC timestamp with the start date (ISO) of its period in ``timezone``.

    Weeks start on Monday. Missing timestamps give missing labels.
    """
    if period not in _FREQ:
        raise ValueError(f"period must be one of {', '.join(_FREQ)}, got {period!r}")
    local = timestamps.dt.tz_convert(timezone).dt.tz_localize(None)
    starts = local.dt.to_period(_FREQ[period]).dt.start_time
    return starts.dt.strftime("%Y-%m-%d").where(timestamps.notna())


def period_bounds(label: str, period: str) -> tuple[date, date]:
    """The first day of the period that starts on ``label`` and the first day after it.

    >>> period_bounds("2015-02-23", "week")
    (datetime.date(2015, 2, 23), datetime.date(2015, 3, 2))
    >>> period_bounds("2026-10-01", "quarter")[1]
    datetime.date(2027, 1, 1)
    """
    if period not in _FREQ:
        raise ValueError(f"period must be one of {', '.join(_FREQ)}, got {period!r}")
    start = pd.Period(label, freq=_FREQ[period])
    return start.start_time.date(), (start + 1).start_time.date()


def period_name(label: str, period: str, preposition: bool = False) -> str:
    """A period as people say it, with its preposition when asked ("spiked on ...", "spiked in ...").

    >>> [period_name("2026-10-01", p) for p in ("day", "week", "month", "quarter")]
    ['2026-10-01', 'the week of 2026-10-01', 'October 2026', 'Q4 2026']
    >>> period_name("2015-02-22", "day", preposition=True), period_name("2015-02-23", "week", preposition=True)
    ('on 2015-02-22', 'in the week of 2015-02-23')
    """
    if period == "week":
        name = f"the week of {label}"
    elif period in ("month", "quarter"):
        start = pd.Period(label, freq=_FREQ[period])
        name = start.start_time.strftime("%B %Y") if period == "month" else f"Q{start.quarter} {start.year}"
    else:
        name = label
    return f"{'on' if period == 'day' else 'in'} {name}" if preposition else name


def partial_periods(periods: Sequence[str], period: str, first_day: date | None,
                    last_day: date | None) -> dict[str, dict[str, int]]:
    """The periods that the range ``first_day`` .. ``last_day`` (inclusive) covers only in part, each with
    ``{"days": days covered, "of": days in the period}``: the first and the last can be. A week whose data
    runs from Monday to Tuesday has 2 of its 7 days, so its counts are not comparable with a full week's.

    >>> partial_periods(["2015-02-16", "2015-02-23"], "week", date(2015, 2, 16), date(2015, 2, 24))
    {'2015-02-23': {'days': 2, 'of': 7}}
    >>> partial_periods(["2026-08-03"], "week", date(2026, 8, 3), date(2026, 8, 9))
    {}
    """
    out: dict[str, dict[str, int]] = {}
    if not periods or first_day is None or last_day is None:
        return out
    for label in dict.fromkeys((periods[0], periods[-1])):
        start, end = period_bounds(label, period)
        covered = (min(end, last_day + timedelta(days=1)) - max(start, first_day)).days
        total = (end - start).days
        if 0 < covered < total:
            out[label] = {"days": covered, "of": total}
    return out


def daily_share(days_with_data: Mapping[str, int], periods: Sequence[str], period: str, leave_out: str) -> float:
    """The share of days that hold at least one comment, over ``periods`` other than ``leave_out``
    (``days_with_data``: period -> such days). Near 1 when comments come every day, so that data ending
    mid-period means the period is not over; low for a survey sent once a week.

    >>> daily_share({"2015-02-16": 7, "2015-02-23": 2}, ["2015-02-16", "2015-02-23"], "week", "2015-02-23")
    1.0
    >>> round(daily_share({"w1": 1, "w2": 1}, ["2026-08-03", "2026-08-10"], "week", "2026-08-10"), 3)
    0.0
    """
    held = total = 0
    for label in periods:
        if label != leave_out:
            start, end = period_bounds(label, period)
            held += days_with_data.get(label, 0)
            total += (end - start).days
    return held / total if total else 0.0


def coverage(partial: Mapping[str, Mapping[str, int]]) -> dict[str, float]:
    """Per partial period, the share of its days covered (:func:`partial_periods`); other periods: 1.

    >>> coverage({"2015-02-23": {"days": 2, "of": 7}})
    {'2015-02-23': 0.2857142857142857}
    """
    return {label: p["days"] / p["of"] for label, p in partial.items()}


def partial_text(held: Mapping[str, int]) -> str:
    """How much of a partial period the data holds (an entry of :func:`partial_periods`).

    >>> partial_text({"days": 2, "of": 7})
    'data for 2 of its 7 days'
    """
    return f"data for {held['days']} of its {held['of']} days"


def range_partial_periods(local: pd.Series, labels: pd.Series, periods: Sequence[str], period: str,
                          first_day: date | None, last_day: date | None, since: date | None,
                          until: date | None) -> dict[str, dict[str, int]]:
    """The report's partial periods (:func:`partial_periods` of ``first_day`` .. ``last_day``). Where the range's
    edge came from the data, not from ``since``/``until``, a period counts as partial only if comments come on
    most days (:func:`daily_share` at least a half): data that stops on a Tuesday then means the week is not
    over, while a survey sent on Wednesdays says nothing about Thursday. ``local``: the comments' local
    timestamps; ``labels``: their periods (same index)."""
    return partial_periods_of_days(period_days(local, labels), periods, period, first_day, last_day, since, until)


def period_days(local: pd.Series, labels: pd.Series) -> set[tuple[str, date]]:
    """The (period, local day) pairs that hold a comment (``local``, ``labels``: see
    :func:`range_partial_periods`); pairs of chunks of comments join as sets."""
    return set(zip(labels.loc[local.index].values, local.dt.date.values))


def partial_periods_of_days(days: set[tuple[str, date]], periods: Sequence[str], period: str,
                            first_day: date | None, last_day: date | None, since: date | None,
                            until: date | None) -> dict[str, dict[str, int]]:
    """:func:`range_partial_periods` from :func:`period_days`."""
    partial = partial_periods(periods, period, first_day, last_day)
    if not partial:
        return partial
    held: dict[str, int] = {}
    for label, _ in days:
        if isinstance(label, str):
            held[label] = held.get(label, 0) + 1
    for label in list(partial):
        explicit = (since and label == periods[0]) or (until and label == periods[-1])
        if not explicit and daily_share(held, periods, period, label) < 0.5:
            del partial[label]
    return partial
