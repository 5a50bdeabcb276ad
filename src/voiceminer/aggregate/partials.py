"""A report's exact figures from chunks of its comments, so that its memory does not grow with the range.

A report reads its range :data:`~voiceminer.config.Settings.report_chunk` comments at a time (by comment
id, :func:`~voiceminer.aggregate.frames.id_chunks`). Of each chunk, :class:`RangeCounts` keeps only what
adds up across disjoint sets of comments: comments and sentiment labels per period and per channel,
comments mentioning each theme and cause per period with their sentiment counts, the ratings' counts, the
days that hold a comment, the first and last date, each promise's mentions (with its three most
negative quotes), the comments with a negative mention per theme and cause (:class:`~.causes.NegativeCounts`),
the segment counts (:class:`~.themes.SegmentCounts`) and the scored comments' profiles behind the drivers
(:class:`~.drivers.DriverCounts`). From those it gives the same figures as the functions
that read every comment at once (:func:`period_sentiment`, :func:`channel_breakdown`, :func:`overall`,
:func:`~.themes.theme_periods`, :func:`~.drivers.score_periods`, :func:`~.drivers.overall_scores`,
:func:`~.promises.promise_figures`, the counts of :func:`~.causes.root_causes`, the segment tables, :func:`~.drivers.driver_analysis`), so volumes,
sentiment, themes, causes, spikes, trends, promises, segments, drivers and the complaint counts of the root causes
are exact whatever the range holds; what it keeps
grows with the number of periods, channels, themes and days, not with the number of comments.
``tests/test_report_chunks.py`` checks a report read in chunks equals the one read at once.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from .causes import NegativeCounts
from .drivers import DriverCounts, overall_scores, score_periods
from .periods import partial_periods_of_days, period_days
from .promises import Promise, PromiseCounts, promise_counts, promise_figures, promise_records
from .summary import (
    LABELS,
    add_counts,
    channel_breakdown,
    channel_filled,
    largest_first,
    overall,
    period_sentiment,
    sentiment_counts,
    shares,
)
from .themes import (
    SegmentCounts,
    add_theme_counts,
    comment_sentiment,
    period_counts,
    theme_counts,
    theme_periods,
    theme_table,
)


class RangeCounts:
    """What adds up over chunks of a report's comments (each chunk's comment frame with its ``period``
    column, and the theme mentions of the same comments): :meth:`add` one chunk at a time."""

    def __init__(self, timezone: str, promises: list[Promise] | None = None) -> None:
        self.timezone = timezone
        self.promises = promises or []
        self.promise_found = [PromiseCounts() for _ in self.promises]
        self.negative = NegativeCounts()
        self.segments = SegmentCounts()
        self.drivers = DriverCounts()
        # the sums so far (each chunk's counts are added in at once, so these stay one small frame each)
        self.periods = add_counts([], "period")
        self.channels = add_counts([], "channel")
        self.themes = add_theme_counts([])
        self.causes = add_theme_counts([])
        self.ratings: Counter[tuple[Any, float, float]] = Counter()  # (period or None, scale, rating) -> comments
        self.sources: set[Any] = set()
        self.channel_names: set[Any] = set()
        self.days: set[tuple[str, date]] = set()
        self.first: pd.Timestamp | None = None
        self.last: pd.Timestamp | None = None
        self.labels: Counter[str] = Counter()
        self.comments = self.undated = self.undated_filed = self.analysed = self.mentions = 0

    def add(self, comments: pd.DataFrame, mentions: pd.DataFrame) -> None:
        self.periods = add_counts([self.periods, sentiment_counts(comments.dropna(subset=["period"]), "period")],
                                  "period")
        self.channels = add_counts([self.channels, sentiment_counts(channel_filled(comments), "channel")], "channel")
        cs = comment_sentiment(mentions, "theme")
        self.themes = add_theme_counts([self.themes, theme_counts(comments, mentions, "theme", cs)])
        self.segments.add(comments, cs)
        self.causes = add_theme_counts([self.causes, theme_counts(comments, mentions, "cause")])
        rated = comments[["period", "rating", "rating_scale"]].dropna(subset=["rating"])
        for (p, scale, rating), n in Counter(zip(rated["period"], rated["rating_scale"], rated["rating"])).items():
            self.ratings[(p if isinstance(p, str) else None, scale, rating)] += n
        self.sources.update(comments["source"].dropna().unique())
        self.channel_names.update(comments["channel"].dropna().unique())
        dated = comments["created_at"].dropna()
        if len(dated):
            self.first = dated.min() if self.first is None else min(self.first, dated.min())
            self.last = dated.max() if self.last is None else max(self.last, dated.max())
            local = dated.dt.tz_convert(self.timezone)
            self.days |= period_days(local, comments["period"])
        self.labels.update(comments["sentiment"].dropna().tolist())
        undated = ~comments["dated"].astype(bool)
        self.comments += len(comments)
        self.undated += int(undated.sum())
        self.undated_filed += int((undated & comments["created_at"].notna()).sum())
        self.analysed += int(comments["sentiment"].notna().sum())
        self.mentions += len(mentions)
        promise_counts(self.promises, comments, mentions, into=self.promise_found)
        self.negative.add(comments, mentions)
        self.drivers.add(comments, mentions)

    def promise_figures(self) -> list[dict[str, Any]]:
        return promise_records(self.promises, self.promise_found, self.comments, self.per_period())

    def period_sentiment(self) -> pd.DataFrame:
        return shares(self.periods, "period").reset_index(drop=True)

    def channel_breakdown(self) -> pd.DataFrame:
        return largest_first(shares(self.channels, "channel"))

    def per_period(self) -> pd.Series:
        return pd.Series(self.periods["comments"].to_numpy(), index=self.periods["period"].to_numpy()).astype(int)

    def theme_table(self, key: str) -> pd.DataFrame:
        return theme_table(self.themes if key == "theme" else self.causes, self.per_period())

    def _rated(self) -> pd.DataFrame:
        """One row per rating value and period, with the comments that gave it (a frame as small as the
        number of distinct ratings times periods), expanded for the score functions."""
        keys = list(self.ratings)
        if not keys:
            return pd.DataFrame({"period": pd.Series([], dtype=object), "rating": pd.Series([], dtype=float),
                                 "rating_scale": pd.Series([], dtype=float)})
        counts = np.fromiter((self.ratings[k] for k in keys), dtype=np.int64, count=len(keys))
        frame = pd.DataFrame(keys, columns=["period", "rating_scale", "rating"])
        return frame.loc[frame.index.repeat(counts)].reset_index(drop=True)

    def score_periods(self) -> list[dict[str, Any]]:
        return score_periods(self._rated())

    def overall_scores(self) -> dict[str, Any]:
        return overall_scores(self._rated())

    def overall(self) -> dict[str, Any]:
        total = self.comments
        return {
            "comments": total, "sources": len(self.sources), "channels": len(self.channel_names),
            "first": self.first.isoformat() if self.first is not None else None,
            "last": self.last.isoformat() if self.last is not None else None,
            "undated": self.undated, "undated_filed": self.undated_filed,
            **{f"{label}_share": round(float(self.labels.get(label, 0)) / total, 4) if total else 0.0
               for label in LABELS},
        }

    def local_bounds(self) -> tuple[date | None, date | None]:
        """The first and last local day that holds a dated comment."""
        if self.first is None or self.last is None:
            return None, None
        return self.first.tz_convert(self.timezone).date(), self.last.tz_convert(self.timezone).date()

    def partial_periods(self, periods: list[str], period: str, first: date | None, last: date | None,
                        since: date | None, until: date | None) -> dict[str, dict[str, int]]:
        return partial_periods_of_days(self.days, periods, period, first, last, since, until)


class FrameCounts:
    """The same figures as :class:`RangeCounts`, read from frames that hold the whole range (a range of one
    chunk): the functions that read every comment at once."""

    def __init__(self, comments: pd.DataFrame, mentions: pd.DataFrame, timezone: str,
                 promises: list[Promise] | None = None) -> None:
        self.c, self.m, self.timezone, self.promises = comments, mentions, timezone, promises or []
        self.negative = None  # root_causes counts the frames itself
        self.drivers = None  # so does driver_analysis
        self.theme_sentiment = comment_sentiment(mentions, "theme")
        self.segments = SegmentCounts().add(comments, self.theme_sentiment)
        self.mentions = len(mentions)
        self.analysed = int(comments["sentiment"].notna().sum())

    def promise_figures(self) -> list[dict[str, Any]]:
        return promise_figures(self.promises, self.c, self.m)

    def period_sentiment(self) -> pd.DataFrame:
        return period_sentiment(self.c)

    def channel_breakdown(self) -> pd.DataFrame:
        return channel_breakdown(self.c)

    def theme_table(self, key: str) -> pd.DataFrame:
        return theme_periods(self.c, self.m, key, self.theme_sentiment if key == "theme" else None)

    def score_periods(self) -> list[dict[str, Any]]:
        return score_periods(self.c)

    def overall_scores(self) -> dict[str, Any]:
        return overall_scores(self.c)

    def overall(self) -> dict[str, Any]:
        return overall(self.c)

    def local_bounds(self) -> tuple[date | None, date | None]:
        local = self.c["created_at"].dropna().dt.tz_convert(self.timezone)
        return (local.min().date(), local.max().date()) if len(local) else (None, None)

    def partial_periods(self, periods: list[str], period: str, first: date | None, last: date | None,
                        since: date | None, until: date | None) -> dict[str, dict[str, int]]:
        local = self.c["created_at"].dropna().dt.tz_convert(self.timezone)
        return partial_periods_of_days(period_days(local, self.c["period"]), periods, period, first, last, since,
                                       until)


__all__ = ["FrameCounts", "RangeCounts", "period_counts"]
