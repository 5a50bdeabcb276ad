"""Calendar periods (day, week, month, quarter) in a configurable time zone.

>>> import pandas as pd
>>> s = pd.Series(pd.to_datetime(["2026-09-28T23:30:00Z"], utc=True))
>>> assign_period(s, "week", "UTC").iloc[0]
'2026-09-28'
>>> assign_period(s, "week", "Pacific/Auckland").iloc[0]   # already Tuesday there, same ISO week
'2026-09-28'
"""

from __future__ import annotations

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
