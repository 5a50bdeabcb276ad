"""Theme and cause figures per period: volume, share, net sentiment and change.

A comment counts once per theme and period however many of its sentences mention the
theme; a mention's sentiment is its sentence's. "Net sentiment" is the share of
positive minus the share of negative mentions, in points (-100..100).

>>> import pandas as pd
>>> comments = pd.DataFrame({"id": ["a", "b", "c", "d"], "period": ["w1", "w1", "w2", "w2"]})
>>> mentions = pd.DataFrame({"comment_id": ["a", "c", "c", "d"], "theme": ["x", "x", "x", "x"],
...                          "sentence_sentiment": ["negative", "negative", "positive", "negative"]})
>>> table = theme_periods(comments, mentions, "theme")
>>> table[["key", "period", "comments", "share", "negative", "positive", "net_sentiment"]].values.tolist()
[['x', 'w1', 1, 0.5, 1, 0, -100.0], ['x', 'w2', 2, 1.0, 2, 1, -50.0]]

(comment "c" is mixed about x: it counts as negative and as positive.)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .stats import trend_slope


def comment_sentiment(mentions: pd.DataFrame, key: str) -> pd.DataFrame:
    """One row per (comment, key): the comment's sentiment about that theme (the most negative of
    its mentions wins over neutral, then positive), and the number of mentioning sentences."""
    m = mentions[["comment_id", key, "sentence_sentiment"]].dropna(subset=[key])
    if m.empty:
        return pd.DataFrame(columns=["comment_id", "key", "label", "sentences"])
    order = {"negative": 0, "positive": 1, "neutral": 2}
    m = m.assign(_rank=m["sentence_sentiment"].map(order).fillna(3), _neg=m["sentence_sentiment"] == "negative",
                 _pos=m["sentence_sentiment"] == "positive")
    g = m.sort_values(["comment_id", key, "_rank"]).groupby(["comment_id", key], sort=False)
    out = g.agg(label=("sentence_sentiment", "first"), sentences=("_rank", "size"), _neg=("_neg", "max"),
                _pos=("_pos", "max")).reset_index()
    out = out.rename(columns={key: "key"})
    # a comment with both a negative and a positive mention of the theme counts on both sides
    out["mixed"] = out.pop("_neg") & out.pop("_pos")
    return out


THEME_COLUMNS = ["key", "period", "comments", "period_comments", "share", "negative", "positive", "neutral",
                 "net_sentiment"]
COUNTS = ["comments", "negative", "positive", "neutral", "labelled"]


def theme_periods(comments: pd.DataFrame, mentions: pd.DataFrame, key: str = "theme",
                  cs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per (theme or cause, period): comments mentioning it, their share of the period's
    comments, negative / positive counts and net sentiment. Periods with no mention are
    present with zeros (so trends and tests see them). ``cs``: :func:`comment_sentiment` of
    ``mentions`` by ``key``, when the caller has it already."""
    return theme_table(theme_counts(comments, mentions, key, cs), period_counts(comments))


def period_counts(comments: pd.DataFrame) -> pd.Series:
    """Comments per period (the dated ones)."""
    return comments[["id", "period"]].dropna(subset=["period"]).groupby("period")["id"].nunique()


def theme_counts(comments: pd.DataFrame, mentions: pd.DataFrame, key: str = "theme",
                 cs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per (theme or cause, period) that has a mention: the counts :func:`theme_table` turns into figures.
    Counts of disjoint sets of comments add up."""
    cs = comment_sentiment(mentions, key) if cs is None else cs
    if cs.empty:
        return pd.DataFrame(columns=["key", "period", *COUNTS])
    cs = cs.merge(comments[["id", "period"]], left_on="comment_id", right_on="id").dropna(subset=["period"])
    cs["negative"] = (cs["label"] == "negative") | cs["mixed"]
    cs["positive"] = (cs["label"] == "positive") | cs["mixed"]
    cs["neutral"] = cs["label"] == "neutral"
    cs["labelled"] = cs["label"].isin(["negative", "neutral", "positive"])  # no sentence sentiment: not neutral
    agg = cs.groupby(["key", "period"], observed=True).agg(
        comments=("comment_id", "nunique"), negative=("negative", "sum"), positive=("positive", "sum"),
        neutral=("neutral", "sum"), labelled=("labelled", "sum"))
    return agg.reset_index()


def add_theme_counts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """:func:`theme_counts` of disjoint chunks of comments, summed per (theme or cause, period)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=["key", "period", *COUNTS])
    return (pd.concat(parts, ignore_index=True).astype({"key": str}).groupby(["key", "period"])[COUNTS].sum()
            .reset_index())


def theme_table(counts: pd.DataFrame | list[pd.DataFrame], per_period: pd.Series) -> pd.DataFrame:
    """:func:`theme_periods` from :func:`theme_counts` (or a list of them, from disjoint chunks of comments,
    summed) and the comments per period (:func:`period_counts`)."""
    if isinstance(counts, list):
        counts = add_theme_counts(counts)
    if counts.empty or per_period.empty:
        return pd.DataFrame(columns=THEME_COLUMNS)
    agg = counts.set_index(["key", "period"])[COUNTS]
    keys = sorted(counts["key"].unique())
    full = pd.MultiIndex.from_product([keys, sorted(per_period.index)], names=["key", "period"])
    agg = agg.reindex(full, fill_value=0).reset_index()
    agg["period_comments"] = agg["period"].map(per_period).astype(int)
    agg["share"] = (agg["comments"] / agg["period_comments"]).round(4)
    with np.errstate(invalid="ignore", divide="ignore"):
        net = 100.0 * (agg["positive"] - agg["negative"]) / agg["labelled"]
    agg["net_sentiment"] = net.round(1).where(agg["labelled"] > 0)
    for col in COUNTS:
        agg[col] = agg[col].astype(int)
    return agg[THEME_COLUMNS + ["labelled"]]


def theme_summary(table: pd.DataFrame, current: str | None, baseline_periods: int = 8,
                  labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One record per theme for the window and its current period: totals, the current
    period against the previous one and against the mean of up to ``baseline_periods``
    earlier periods, and the trend (slope of the share per period)."""
    out = []
    labels = labels or {}
    for key, rows in table.groupby("key", sort=True):
        rows = rows.sort_values("period")
        total = int(rows["comments"].sum())
        neg, pos = int(rows["negative"].sum()), int(rows["positive"].sum())
        labelled = int(rows["labelled"].sum()) if "labelled" in rows else total
        rec: dict[str, Any] = {
            "id": key, "label": labels.get(key, key), "comments": total,
            "share": round(total / max(int(rows["period_comments"].sum()), 1), 4),
            "negative": neg, "positive": pos,
            "net_sentiment": round(100.0 * (pos - neg) / labelled, 1) if labelled else None,
            "trend_share_per_period": trend_slope(rows["share"].tolist()),
            "series": [{"period": r.period, "comments": int(r.comments), "share": float(r.share),
                        "net_sentiment": None if pd.isna(r.net_sentiment) else float(r.net_sentiment)}
                       for r in rows.itertuples()],
        }
        if current is not None and current in set(rows["period"]):
            now = rows[rows["period"] == current].iloc[0]
            before = rows[rows["period"] < current]
            prev = before.iloc[-1] if len(before) else None
            base = before.tail(baseline_periods)
            base_share = float(base["comments"].sum() / base["period_comments"].sum()) if len(base) and \
                base["period_comments"].sum() else None
            rec["current"] = {
                "period": current, "comments": int(now["comments"]), "share": float(now["share"]),
                "net_sentiment": None if pd.isna(now["net_sentiment"]) else float(now["net_sentiment"]),
                "previous_comments": int(prev["comments"]) if prev is not None else None,
                "change_vs_previous_pts": _points(float(now["share"]) - float(prev["share"]))
                if prev is not None else None,
                "baseline_share": round(base_share, 4) if base_share is not None else None,
                "baseline_periods": len(base),
                "change_vs_baseline_pts": _points(float(now["share"]) - base_share)
                if base_share is not None else None,
                "ratio_vs_baseline": round(float(now["share"]) / base_share, 2) if base_share else None,
            }
        out.append(rec)
    return sorted(out, key=lambda r: (-r["comments"], r["id"]))


class SegmentCounts:
    """What the segment figures count, added up over chunks of comments (:meth:`add` each chunk's comment
    frame and :func:`comment_sentiment` of its theme mentions): comments and negative ones per segment value,
    comments mentioning each theme per segment value (with their positive and negative counts) and overall.
    Only metadata fields that can be segments are kept: one with more than ``max_values`` distinct values is
    dropped (None: none is); ``columns`` limits it to those columns. It grows with the segment values and
    themes, not with the comments. :meth:`columns`, :meth:`table` and :meth:`by_theme` give
    :func:`segment_columns`, :func:`segment_table` and :func:`theme_by_segment`."""

    def __init__(self, columns: list[str] | None = None, max_values: int | None = 20) -> None:
        self.only, self.max_values = columns, max_values
        self.rows = 0
        self.nonnull: dict[str, int] = {}
        self.values: dict[str, dict[Any, list[int]]] = {}  # column -> value -> [comments, negative]
        self.dropped: set[str] = set()
        self.themes: dict[Any, int] = {}  # theme -> comments mentioning it
        self.cells: dict[str, dict[tuple[Any, Any], list[int]]] = {}  # column -> (value, theme) -> [comments, pos, neg]

    def _wanted(self, comments: pd.DataFrame) -> list[str]:
        if self.only is not None:
            return [c for c in self.only if c in comments and c not in self.dropped]
        metas = sorted(c for c in comments.columns if c.startswith("meta.") and c not in self.dropped)
        return [c for c in SEGMENT_BASES if c in comments] + metas

    def _drop(self, column: str) -> None:
        self.dropped.add(column)
        for store in (self.values, self.cells, self.nonnull):
            store.pop(column, None)

    def add(self, comments: pd.DataFrame, cs: pd.DataFrame | None = None) -> SegmentCounts:
        self.rows += len(comments)
        if cs is not None and len(cs):
            for key, n in cs.groupby("key", observed=True)["comment_id"].nunique().items():
                self.themes[key] = self.themes.get(key, 0) + int(n)
        for column in self._wanted(comments):
            seg = comments[[c for c in ("id", column, "sentiment") if c in comments]].dropna(subset=[column])
            found = seg[column].value_counts()
            if (self.max_values is not None and column.startswith("meta.") and len(found) > self.max_values
                    and seg[column].astype(str).nunique() > self.max_values):
                self._drop(column)  # too many values to be a segment (an id, a free-text field)
                continue
            values = self.values.setdefault(column, {})
            self.nonnull[column] = self.nonnull.get(column, 0) + len(seg)
            negative = (seg.loc[(seg["sentiment"] == "negative").to_numpy(), column].value_counts()
                        if "sentiment" in seg else pd.Series(dtype=int))
            for value, n in found.items():
                counts = values.setdefault(value, [0, 0])
                counts[0] += int(n)
                counts[1] += int(negative.get(value, 0))
            if (self.max_values is not None and column.startswith("meta.")
                    and len({str(v) for v in values}) > self.max_values):
                self._drop(column)  # too many values to be a segment (an id, a free-text field)
                continue
            if cs is None or cs.empty:
                continue
            joined = cs.merge(seg[["id", column]], left_on="comment_id", right_on="id")
            joined = joined.assign(neg=(joined["label"] == "negative") | joined["mixed"],
                                   pos=(joined["label"] == "positive") | joined["mixed"])
            cells = self.cells.setdefault(column, {})
            agg = joined.groupby([column, "key"], observed=True).agg(
                n=("comment_id", "nunique"), pos=("pos", "sum"), neg=("neg", "sum"))
            for (value, key), r in zip(agg.index, agg.itertuples(index=False)):
                cell = cells.setdefault((value, key), [0, 0, 0])
                cell[0] += int(r.n)
                cell[1] += int(r.pos)
                cell[2] += int(r.neg)
        return self

    def columns(self, max_values: int = 20, min_coverage: float = 0.2) -> list[str]:
        """:func:`segment_columns` of the comments added."""
        out = [c for c in SEGMENT_BASES if len(self.values.get(c, {})) > 1]
        for column in sorted(c for c in self.values if c.startswith("meta.")):
            distinct = len({str(v) for v in self.values[column]})
            if self.nonnull[column] >= min_coverage * self.rows and 2 <= distinct <= max_values:
                out.append(column)
        return out

    def table(self, column: str, top: int = 3, min_comments: int = 20,
              min_lift: float = 1.2) -> list[dict[str, Any]]:
        """:func:`segment_table` of the comments added."""
        check_segments([column])
        values = self.values.get(column)
        if not values:
            return []
        themes = sorted(self.themes)
        overall = pd.Series([self.themes[k] for k in themes], index=themes, dtype=float) / max(self.rows, 1)
        cells = self.cells.get(column, {})
        out = []
        for value in _sorted(values):
            n, negative = values[value]
            if n < min_comments:
                continue
            mine = sorted(k for v, k in cells if v == value)
            in_seg = pd.Series([cells[(value, k)][0] for k in mine], index=mine, dtype=float) / n
            lift = (in_seg / overall.reindex(in_seg.index)).dropna()
            lifted = [{"theme": k, "share": round(float(in_seg[k]), 4), "lift": round(float(v), 2)}
                      for k, v in lift.sort_values(ascending=False).items() if in_seg[k] * n >= 5 and v >= min_lift][:top]
            out.append({"segment": column, "segment_label": segment_label(column), "value": str(value),
                        "comments": int(n), "negative_share": round(negative / n, 4), "over_indexed_themes": lifted})
        return out

    def by_theme(self, columns: list[str], min_comments: int = 20) -> list[dict[str, Any]]:
        """:func:`theme_by_segment` of the comments added."""
        check_segments(columns)
        out = []
        for column in columns:
            sizes = self.values.get(column, {})
            cells = self.cells.get(column, {})
            for value in _sorted({v for v, _ in cells}):
                n = sizes.get(value, [0])[0]
                if n < min_comments:
                    continue
                for key in sorted(k for v, k in cells if v == value):
                    k, pos, neg = cells[(value, key)]
                    out.append({"segment": column, "segment_label": segment_label(column), "value": str(value),
                                "theme": key, "comments": k, "share": round(k / n, 4),
                                "net_sentiment": round(100.0 * (pos - neg) / k, 1)})
        return out


def _sorted(values: Any) -> list[Any]:
    """Segment values in the order pandas groups them (sorted; by their text when types mix)."""
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def segment_table(comments: pd.DataFrame, cs: pd.DataFrame, column: str, top: int = 3,
                  min_comments: int = 20, min_lift: float = 1.2) -> list[dict[str, Any]]:
    """Per value of a segment column (channel, source, meta.plan, ...): comments, negative share
    and the themes it over-indexes on (share in the segment / share overall, at least
    ``min_lift``, as for the needs: a segment that talks about nothing more than average lists
    none). ``cs`` is :func:`comment_sentiment` of the theme mentions."""
    check_segments([column])
    if column not in comments or comments[column].isna().all():
        return []
    counts = SegmentCounts([column], max_values=None).add(comments, cs)
    return counts.table(column, top, min_comments, min_lift)


def theme_by_segment(comments: pd.DataFrame, cs: pd.DataFrame, columns: list[str],
                     min_comments: int = 20) -> list[dict[str, Any]]:
    """Theme x segment value over the window: comments mentioning the theme, their share of the
    segment's comments and net sentiment (one record per cell with at least one mention).
    ``cs`` is :func:`comment_sentiment` of the theme mentions."""
    check_segments(columns)
    if cs.empty:
        return []
    return SegmentCounts(list(columns), max_values=None).add(comments, cs).by_theme(columns, min_comments)


# What VoiceMiner itself says about a comment (the comment frame's own columns, the tag output's
# fields). None of these is ever a segment: a segment is what the customer or the collector
# says (channel, source, the export's metadata), never a result of the analysis.
COMPUTED = frozenset({"sentiment", "sentiment_score", "is_complaint", "complaint", "priority", "priority_score",
                      "theme", "themes", "cause", "causes", "need", "needs", "need_score", "cue", "cues",
                      "reasons", "score", "cluster", "topic", "topics", "emerging", "urgency", "churn",
                      "language"})
SEGMENT_BASES = ("channel", "source")


def check_segments(columns: list[str]) -> None:
    """Refuse any segment column other than channel, source and the input's metadata
    (``meta.*``): the comment frame's own analysis columns (``priority``, ``sentiment``,
    ``is_complaint``, ...) are VoiceMiner's outputs, never a segment."""
    if bad := [c for c in columns if c not in SEGMENT_BASES and not c.startswith("meta.")]:
        raise ValueError(f"only input attributes (channel, source, meta.*) can be segments, not {bad}")


def segment_columns(comments: pd.DataFrame, max_values: int = 20, min_coverage: float = 0.2) -> list[str]:
    """Columns to break figures down by: channel, source and metadata fields (``meta.*``, as the
    input carried them) with few distinct values that cover at least ``min_coverage`` of the
    comments (ids and free text are skipped). The frame's own analysis columns (sentiment,
    complaint, priority, ...) are never candidates: see :func:`segment_label` for an input
    field that shares a name with one of them."""
    return SegmentCounts(max_values=max_values).add(comments).columns(max_values, min_coverage)


def segment_label(column: str) -> str:
    """How a segment column is named in the report.

    ``channel`` and ``source`` as they are; a metadata field by its own name ("plan",
    "region", "app version"). A metadata field named like something VoiceMiner computes
    (a helpdesk export's ticket ``priority``, a survey tool's ``sentiment``) is the input's
    own value, set by the customer, an agent or the source system, not VoiceMiner's: a manager
    reading "priority: low" next to VoiceMiner's triage priority would take one for the other,
    so it is named "priority (from the export)".

    >>> [segment_label(c) for c in ("channel", "meta.plan", "meta.app_version", "meta.priority", "meta.Sentiment")]
    ['channel', 'plan', 'app version', 'priority (from the export)', 'Sentiment (from the export)']
    """
    name = column.removeprefix("meta.")
    if not column.startswith("meta."):
        return name
    readable = name.replace("_", " ").strip()
    if readable.lower().replace(" ", "_").replace("-", "_") in COMPUTED:
        return f"{readable} (from the export)"
    return readable


def _points(change: float) -> float:
    """A change of share in percentage points, one decimal, never "-0.0" (a fall too small to show is none).

    >>> _points(-0.0004), _points(0.0123)
    (0.0, 1.2)
    """
    return round(100 * change, 1) + 0.0
