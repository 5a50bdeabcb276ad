"""Spikes, themes gone quiet and emerging clusters, with controlled false alarms.

A spike is a period in which a theme's (or cause's) volume, or its negative share, is
significantly above its own baseline (the mean of up to ``baseline_periods`` earlier
periods). Every theme and cause is tested in each period; the p-values of one period
are adjusted together (Benjamini-Hochberg) - over every period of the range for the
history, over the current period alone for its alerts - and a spike also needs
``min_volume`` mentions and a ``min_ratio`` rise, so a quiet theme going from 1 to 3
mentions is not an alarm.

>>> import pandas as pd
>>> rows = [("x", f"w{i}", c, 100, 0) for i, c in enumerate([10, 11, 9, 10, 40])]
>>> table = pd.DataFrame(rows, columns=["key", "period", "comments", "period_comments", "negative"])
>>> [(s["key"], s["period"], s["test"]) for s in find_spikes(table)]
[('x', 'w4', 'volume')]
>>> quiet = pd.DataFrame([("y", f"w{i}", c, 100, 0) for i, c in enumerate([1, 0, 1, 1, 3])],
...                      columns=table.columns)
>>> find_spikes(quiet)
[]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .stats import benjamini_hochberg, drop_test, rate_test, share_increase_test


@dataclass(frozen=True)
class SpikeRules:
    baseline_periods: int = 8
    min_baseline_periods: int = 3
    min_volume: int = 10
    min_ratio: float = 1.5
    alpha: float = 0.05


def find_spikes(table: pd.DataFrame, rules: SpikeRules = SpikeRules(), level: str = "theme",
                only: str | None = None) -> list[dict[str, Any]]:
    """Significant (period, key) spikes in a :func:`theme_periods` table. The p-values of all
    periods tested are adjusted together; ``only`` tests one period (e.g. the current one).
    Themes and causes can be tested as one family: give the table a ``level`` column (keys
    must then be unique across levels, as taxonomy ids are); otherwise ``level`` names them."""
    if table.empty:
        return []
    table = table.sort_values(["key", "period"])
    periods = sorted(table["period"].unique())
    tests = []
    for i, period in enumerate(periods):
        if i < rules.min_baseline_periods or (only is not None and period != only):
            continue
        base_periods = periods[max(0, i - rules.baseline_periods):i]
        now = table[table["period"] == period].set_index("key")
        base = table[table["period"].isin(base_periods)].groupby("key")[["comments", "period_comments",
                                                                          "negative"]].sum()
        for key, r in now.iterrows():
            lvl = r["level"] if "level" in now.columns else level
            b = base.loc[key] if key in base.index else None
            if b is None:
                continue
            x, n = int(r["comments"]), int(r["period_comments"])
            bx, bn = int(b["comments"]), int(b["period_comments"])
            rate, base_rate = x / n if n else 0.0, bx / bn if bn else 0.0
            ratio = (x + 0.5) / max(n, 1) / ((bx + 0.5) / max(bn, 1))
            tests.append(dict(key=key, level=lvl, period=period, baseline_periods=len(base_periods), test="volume",
                              p=rate_test(x, n, bx, bn), count=x, n=n, value=rate, baseline=base_rate, ratio=ratio))
            neg, bneg = int(r["negative"]), int(b["negative"])
            nshare, bshare = (neg / x if x else 0.0), (bneg / bx if bx else 0.0)
            tests.append(dict(key=key, level=lvl, period=period, baseline_periods=len(base_periods),
                              test="negative_share",
                              p=share_increase_test(neg, x, bneg, bx), count=neg, n=x, value=nshare,
                              baseline=bshare, ratio=(nshare + 0.01) / (bshare + 0.01)))
    out: list[dict[str, Any]] = []
    for t, q in zip(tests, benjamini_hochberg([t["p"] for t in tests])):
        enough = t["count"] >= rules.min_volume and t["ratio"] >= rules.min_ratio
        if enough and q <= rules.alpha:
            out.append({"level": t["level"], "key": t["key"], "period": t["period"], "test": t["test"],
                        "count": t["count"], "of": t["n"], "value": round(t["value"], 4),
                        "baseline": round(t["baseline"], 4), "ratio": round(t["ratio"], 2),
                        "p_value": float(f"{t['p']:.3g}"), "q_value": float(f"{q:.3g}"),
                        "baseline_periods": t["baseline_periods"]})
    return out


def gone_quiet(table: pd.DataFrame, recent_periods: int = 4, min_peak: float = 5.0, max_fraction: float = 0.3,
               alpha: float = 0.05, coverage: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    """Themes that were talked about and have (almost) stopped: the mean of the last
    ``recent_periods`` is at most ``max_fraction`` of the theme's peak level (its busiest
    run of ``recent_periods`` earlier periods, at least ``min_peak`` a period) and the drop
    is significant (exact rate test, Benjamini-Hochberg across themes). ``coverage``: the share of
    their days that partial periods hold (:func:`~voiceminer.aggregate.periods.coverage`); their
    counts are scaled to a whole period for the levels (the test compares rates, which need no scaling).

    >>> rows = [("login", f"w{i:02d}", c, 100) for i, c in enumerate([17, 18, 18, 20, 9, 4, 1, 0, 1, 1, 0, 1])]
    >>> t = pd.DataFrame(rows, columns=["key", "period", "comments", "period_comments"])
    >>> [(q["key"], q["state"], q["peak_mean"], q["recent_mean"]) for q in gone_quiet(t)]
    [('login', 'faded', 18.25, 0.75)]
    """
    if table.empty:
        return []
    periods = sorted(table["period"].unique())
    if len(periods) < 2 * recent_periods:
        return []
    recent = periods[-recent_periods:]
    scale = pd.Series([(coverage or {}).get(p, 1.0) for p in periods], index=periods)
    cands = []
    for key, rows in table.groupby("key", sort=True):
        lvl = rows["level"].iloc[0] if "level" in rows.columns else None
        rows = rows.set_index("period").reindex(periods, fill_value=0)
        counts = rows["comments"].astype(float)
        exposure = rows["period_comments"].astype(float)
        level = counts / scale  # per whole period
        earlier = level.loc[periods[:-recent_periods]]
        rolling = earlier.rolling(recent_periods).mean().dropna()
        if rolling.empty:
            continue
        peak_end = rolling.idxmax()
        peak_mean = float(rolling.max())
        recent_mean = float(level.loc[recent].mean())
        if peak_mean < min_peak or recent_mean > max_fraction * peak_mean:
            continue
        peak_window = periods[periods.index(peak_end) - recent_periods + 1:periods.index(peak_end) + 1]
        p = drop_test(int(counts.loc[recent].sum()), int(exposure.loc[recent].sum()),
                      int(counts.loc[peak_window].sum()), int(exposure.loc[peak_window].sum()))
        cands.append({"key": key, "level": lvl, "state": "silent" if recent_mean == 0 else "faded",
                      "peak_periods": [peak_window[0], peak_window[-1]], "peak_mean": round(peak_mean, 2),
                      "recent_periods": [recent[0], recent[-1]], "recent_mean": round(recent_mean, 2),
                      "last_seen": max((pr for pr in periods if counts.loc[pr] > 0), default=None),
                      "p_value": p})
    qs = benjamini_hochberg([c["p_value"] for c in cands])
    out = []
    for c, q in zip(cands, qs):
        if q <= alpha:
            c["p_value"] = float(f"{c['p_value']:.3g}")
            c["q_value"] = float(f"{q:.3g}")
            out.append(c)
    return out


def emerging_clusters(texts: list[str], vectors: np.ndarray, periods: list[str], current: str,
                      rules: SpikeRules = SpikeRules(), min_cluster_size: int = 8,
                      background: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Cluster sentences no theme covers (deterministic discovery) and list the clusters that
    grow: the current period's count against the earlier periods', per period of exposure.
    A cluster without a shared topic (no key phrase held by a tenth of it) is listed, last,
    but never called emerging: there is nothing to name.

    ``periods[i]`` is the period of ``texts[i]``; ``background``: sentences the taxonomy covers, which the
    clusters' labels are compared with (see :func:`voiceminer.themes.cluster_text.key_phrases`).
    """
    from ..themes import discover
    from ..themes.cluster_text import NO_TOPIC

    if len(texts) < 2 * min_cluster_size:
        return []
    found = discover(texts, vectors, min_cluster_size=min_cluster_size, background=background)
    all_periods = sorted(set(periods))
    n_current = sum(1 for p in periods if p == current)
    n_before = sum(1 for p in periods if p < current)
    tests = []
    for cluster in found.clusters:
        members = [periods[i] for i, a in enumerate(found.assignments) if a == cluster.id]
        x = sum(1 for p in members if p == current)
        bx = sum(1 for p in members if p < current)
        p_value = rate_test(x, n_current, bx, n_before) if n_before else 1.0
        ratio = ((x + 0.5) / max(n_current, 1)) / ((bx + 0.5) / max(n_before, 1)) if n_before else None
        tests.append({"id": cluster.id, "label": cluster.label, "topical": cluster.label != NO_TOPIC,
                      "label_share": cluster.label_share, "size": cluster.size,
                      "key_phrases": list(cluster.key_phrases), "examples": list(cluster.examples[:3]),
                      "current": x, "before": bx, "ratio": round(ratio, 2) if ratio else None, "p_value": p_value,
                      "series": [sum(1 for p in members if p == pr) for pr in all_periods]})
    qs = benjamini_hochberg([t["p_value"] for t in tests])
    out = []
    for t, q in zip(tests, qs):
        t["q_value"] = float(f"{q:.3g}")
        t["p_value"] = float(f"{t['p_value']:.3g}")
        t["emerging"] = bool(t["topical"] and t["current"] >= rules.min_volume // 2
                             and (t["ratio"] or 0) >= rules.min_ratio and q <= rules.alpha)
        out.append(t)
    return sorted(out, key=lambda t: (not t["emerging"], not t["topical"], -t["current"], t["id"]))
