"""Sentiment figures per period and per channel.

>>> import pandas as pd
>>> df = pd.DataFrame({"period": ["w1", "w1", "w2"], "sentiment": ["negative", "positive", "negative"]})
>>> period_sentiment(df)[["period", "comments", "negative_share"]].values.tolist()
[['w1', 2, 0.5], ['w2', 1, 1.0]]
"""

from __future__ import annotations

from typing import Any

import pandas as pd

LABELS = ("negative", "neutral", "positive")


def sentiment_counts(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per value of ``by``: comments (analysed or not) and the count of each sentiment label. Counts of
    disjoint sets of comments add up (:func:`add_counts`)."""
    counts = (frame.assign(sentiment=frame["sentiment"].fillna("unanalysed"))
              .groupby([by, "sentiment"]).size().unstack(fill_value=0))
    for label in LABELS:
        if label not in counts:
            counts[label] = 0
    counts["comments"] = counts.sum(axis=1)
    return counts.reset_index()[[by, "comments", *LABELS]]


def add_counts(parts: list[pd.DataFrame], by: str) -> pd.DataFrame:
    """:func:`sentiment_counts` of chunks of comments, summed per value of ``by`` (sorted by it).

    >>> a = sentiment_counts(pd.DataFrame({"p": ["w1"], "sentiment": ["negative"]}), "p")
    >>> b = sentiment_counts(pd.DataFrame({"p": ["w1", "w2"], "sentiment": ["positive", None]}), "p")
    >>> add_counts([a, b], "p").values.tolist()
    [['w1', 2, 1, 0, 1], ['w2', 1, 0, 0, 0]]
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=[by, "comments", *LABELS])
    cols = ["comments", *LABELS]
    return pd.concat(parts, ignore_index=True).groupby(by, sort=True)[cols].sum().reset_index()


def shares(counts: pd.DataFrame, by: str) -> pd.DataFrame:
    """:func:`sentiment_counts` with each label's share and the net sentiment."""
    out = counts.copy()
    for label in LABELS:
        out[f"{label}_share"] = (out[label] / out["comments"]).round(4)
    # net sentiment: share positive minus share negative, in percentage points
    out["net_sentiment"] = ((out["positive_share"] - out["negative_share"]) * 100).round(1)
    return out[[by, "comments", *LABELS, *(f"{x}_share" for x in LABELS), "net_sentiment"]]


def _shares(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    return shares(sentiment_counts(frame, by), by)


def period_sentiment(frame: pd.DataFrame) -> pd.DataFrame:
    """Per period: comments, counts and shares per sentiment label, net sentiment."""
    return _shares(frame.dropna(subset=["period"]), "period").sort_values("period").reset_index(drop=True)


def channel_breakdown(frame: pd.DataFrame) -> pd.DataFrame:
    """Per channel: the same figures as :func:`period_sentiment`, largest first."""
    return largest_first(_shares(channel_filled(frame), "channel"))


def channel_filled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(channel=frame["channel"].fillna("unknown"))


def largest_first(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values("comments", ascending=False).reset_index(drop=True)


def overall(frame: pd.DataFrame) -> dict[str, Any]:
    """Headline numbers for the summary."""
    dated = frame["created_at"].dropna()
    counts = frame["sentiment"].value_counts()
    total = len(frame)
    return {
        "comments": total,
        "sources": int(frame["source"].nunique()),
        "channels": int(frame["channel"].nunique()),
        "first": dated.min().isoformat() if len(dated) else None,
        "last": dated.max().isoformat() if len(dated) else None,
        "undated": int((~frame["dated"].astype(bool)).sum() if "dated" in frame else frame["created_at"].isna().sum()),
        # of those, from sources that give no dates: filed under the day they were collected
        "undated_filed": int((~frame["dated"].astype(bool) & frame["created_at"].notna()).sum()) if "dated" in frame else 0,
        **{f"{label}_share": round(float(counts.get(label, 0)) / total, 4) if total else 0.0
           for label in LABELS},
    }
