"""You said, we did: per theme and period, the cases resolved, the actions taken (grouped, with
counts) and the time to resolve. Computed from the store's cases, like every other figure.

>>> import pandas as pd
>>> f = pd.DataFrame({"theme": ["delivery", "delivery", "price"],
...                   "action": ["Refunded the order.", "refunded the order", "Explained pricing"],
...                   "opened_at": pd.to_datetime(["2026-09-28T08:00Z"] * 3),
...                   "resolved_at": pd.to_datetime(["2026-09-28T10:00Z", "2026-09-28T14:00Z", "2026-09-29T08:00Z"])})
>>> rows = you_said_we_did(f, "week", "UTC")
>>> rows[0]["theme"], rows[0]["resolved"], rows[0]["actions"][0], rows[0]["median_hours_to_resolve"]
('delivery', 2, {'action': 'Refunded the order.', 'count': 2}, 4.0)
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from ..storage import Store
from ..storage import schema as t
from .periods import assign_period


def resolved_frame(store: Store, since: datetime | None = None, until: datetime | None = None) -> pd.DataFrame:
    """One row per resolved case: confirmed theme (or the model's), cause, action, reply, times."""
    c = t.cases.c
    query = (sa.select(c.id, sa.func.coalesce(c.root_theme, c.theme).label("theme"),
                       sa.func.coalesce(c.root_cause, c.cause).label("cause"), c.action, c.reply, c.opened_at,
                       c.resolved_at).where(c.status == "resolved", c.resolved_at.is_not(None)))
    if since is not None:
        query = query.where(c.resolved_at >= since)
    if until is not None:
        query = query.where(c.resolved_at < until)
    frame = pd.DataFrame(store.query(query), columns=["id", "theme", "cause", "action", "reply", "opened_at",
                                                       "resolved_at"])
    for col in ("opened_at", "resolved_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def _action_key(text: str) -> str:
    return re.sub(r"[^\w ]+", "", re.sub(r"\s+", " ", (text or "").strip().lower()))


def you_said_we_did(frame: pd.DataFrame, period: str, timezone: str, top_actions: int = 5) -> list[dict[str, Any]]:
    """Per (period, theme), newest period first and then most resolved: resolved cases, actions
    grouped by their normalised text (shown as first written, with counts), and the median and
    90th percentile hours from opening to resolving."""
    if frame.empty:
        return []
    f = frame.copy()
    f["theme"] = f["theme"].fillna("(no theme)")
    if "cause" not in f:
        f["cause"] = None
    f["period"] = assign_period(f["resolved_at"], period, timezone)
    f["hours"] = (f["resolved_at"] - f["opened_at"]).dt.total_seconds() / 3600.0
    f["key"] = f["action"].map(_action_key)
    out = []
    for (per, theme), g in f.groupby(["period", "theme"], sort=False):
        actions = (g.groupby("key").agg(action=("action", "first"), count=("key", "size"))
                   .sort_values(["count", "action"], ascending=[False, True]).head(top_actions))
        out.append({"period": per, "theme": theme, "resolved": int(len(g)),
                    "actions": [{"action": a, "count": int(n)} for a, n in zip(actions["action"], actions["count"])],
                    "causes": {str(k): int(v) for k, v in g["cause"].dropna().value_counts().items()},
                    "median_hours_to_resolve": round(float(g["hours"].median()), 1),
                    "p90_hours_to_resolve": round(float(g["hours"].quantile(0.9)), 1)})
    return sorted(out, key=lambda r: (r["period"], r["resolved"]), reverse=True)
