"""What the company promises or cares about, measured against what customers say.

A team lists its promises (brand promise, service standards, internal concerns) in a
YAML file (``promises`` in the settings)::

    promises:
      - id: plastic_free
        label: 100% plastic-free packaging
        kind: brand promise
        description: Every order arrives without plastic packaging.
        keywords: [plastic, packaging, "packag*", recyclable, compostable]
        themes: []                      # taxonomy themes or causes that also count
      - id: one_hour_window
        label: Delivery within your 1-hour window
        keywords: ["1-hour window", "one hour window", "time slot"]
        themes: [delivery.late]

A comment mentions a promise when its text matches a keyword (whole words, case-
insensitive; ``*`` ends a prefix) or one of its sentences carries a listed theme.
For each promise: mentions, share, sentiment, trend and a verdict: "never raised"
(with the 95% upper bound on the true share: below 3/n for 0 mentions in n comments),
"rarely raised", "raised and going badly" (the gap between promise and delivery) or
"raised, mostly positive / mixed".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..errors import ConfigError
from .stats import benjamini_hochberg, rate_test, rule_of_three, share_upper_bound, trend_slope


@dataclass(frozen=True)
class Promise:
    id: str
    label: str
    description: str = ""
    kind: str = "promise"
    keywords: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    pattern: re.Pattern | None = field(default=None, compare=False, repr=False)


def load_promises(path: str | Path | None) -> list[Promise]:
    """Read a promises YAML file; clear errors name the file and the entry."""
    if path is None:
        return []
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"promises file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"promises file {path}: not valid YAML ({exc})") from None
    items = raw.get("promises") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f"promises file {path}: expected a top-level 'promises:' list")
    out, seen = [], set()
    for i, item in enumerate(items, start=1):
        where = f"promises file {path}, entry {i}"
        if not isinstance(item, dict) or not item.get("id") or not item.get("label"):
            raise ConfigError(f"{where}: each promise needs an 'id' and a 'label'")
        if item["id"] in seen:
            raise ConfigError(f"{where}: duplicate id {item['id']!r}")
        seen.add(item["id"])
        keywords = tuple(str(k) for k in item.get("keywords") or ())
        themes = tuple(str(k) for k in item.get("themes") or ())
        if not keywords and not themes:
            raise ConfigError(f"{where} ({item['id']}): give 'keywords' or 'themes' to recognise mentions")
        out.append(Promise(str(item["id"]), str(item["label"]), str(item.get("description", "")),
                           str(item.get("kind", "promise")), keywords, themes, _pattern(keywords)))
    return out


def _pattern(keywords: tuple[str, ...]) -> re.Pattern | None:
    if not keywords:
        return None
    parts = []
    for k in keywords:
        k = k.strip().casefold()
        if k.endswith("*"):
            parts.append(re.escape(k[:-1]) + r"\w*")
        else:
            parts.append(re.escape(k))
    return re.compile(r"(?<!\w)(?:" + "|".join(sorted(parts, key=len, reverse=True)) + r")(?!\w)", re.IGNORECASE)


def promise_figures(promises: list[Promise], comments: pd.DataFrame, mentions: pd.DataFrame,
                    min_mentions: int = 5) -> list[dict[str, Any]]:
    """Mentions, share, sentiment, trend and verdict of each promise over the window."""
    periods = sorted(comments["period"].dropna().unique())
    per_period = comments.groupby("period")["id"].nunique().reindex(periods, fill_value=0)
    return promise_records(promises, promise_counts(promises, comments, mentions), len(comments), per_period,
                           min_mentions)


class PromiseCounts:
    """What a promise's figures need of the comments that raise it, added up over chunks of comments:
    how many, how many negative and positive, how many per period, and the three most negative."""

    def __init__(self) -> None:
        self.mentions = self.negative = self.positive = 0
        self.per_period: dict[str, int] = {}
        self.quotes = pd.DataFrame(columns=["id", "period", "text", "sentiment", "sentiment_score"])

    def add(self, sel: pd.DataFrame) -> PromiseCounts:
        self.mentions += len(sel)
        self.negative += int((sel["sentiment"] == "negative").sum())
        self.positive += int((sel["sentiment"] == "positive").sum())
        for period, n in sel.groupby("period")["id"].nunique().items():
            self.per_period[period] = self.per_period.get(period, 0) + int(n)
        both = pd.concat([q for q in (self.quotes, sel) if len(q)], ignore_index=True) if len(sel) else self.quotes
        self.quotes = both.sort_values(["sentiment_score", "id"]).head(3)
        return self


def promise_counts(promises: list[Promise], comments: pd.DataFrame, mentions: pd.DataFrame,
                   into: list[PromiseCounts] | None = None) -> list[PromiseCounts]:
    """Per promise, :class:`PromiseCounts` of the comments that raise it: by its keywords in their text or
    by a mention of one of its themes. ``into``: the counts of earlier chunks, added to."""
    out = into if into is not None else [PromiseCounts() for _ in promises]
    for p, counts in zip(promises, out):
        hit = pd.Series(False, index=comments.index)
        if p.pattern is not None:
            hit |= comments["text"].str.contains(p.pattern, na=False)
        if p.themes:
            wanted = set(p.themes)
            by_theme = mentions[mentions["theme"].isin(wanted) | mentions["cause"].isin(wanted)]["comment_id"]
            hit |= comments["id"].isin(set(by_theme))
        counts.add(comments.loc[hit, ["id", "period", "text", "sentiment", "sentiment_score"]])
    return out


def promise_records(promises: list[Promise], found: list[PromiseCounts], n: int, per_period: pd.Series,
                    min_mentions: int = 5) -> list[dict[str, Any]]:
    """The figures of :func:`promise_figures` from :func:`promise_counts` of the range, its number of comments
    ``n`` and its comments per period."""
    periods = list(per_period.index)
    out = []
    for p, c in zip(promises, found):
        k, neg, pos = c.mentions, c.negative, c.positive
        series = pd.Series(c.per_period, dtype=float).reindex(periods, fill_value=0).astype(int)
        shares = (series / per_period.where(per_period > 0)).fillna(0)
        rec: dict[str, Any] = {
            "id": p.id, "label": p.label, "kind": p.kind, "description": p.description,
            "comments": n, "mentions": k, "share": round(k / n, 4) if n else None,
            "negative": neg, "positive": pos,
            "negative_share": round(neg / k, 3) if k else None,
            "net_sentiment": round(100.0 * (pos - neg) / k, 1) if k else None,
            "share_upper_95": round(share_upper_bound(k, n), 6) if n else None,
            "rule_of_three": round(rule_of_three(n), 6) if (n and k == 0) else None,
            "series": [{"period": pr, "mentions": int(series[pr])} for pr in periods],
            "trend_share_per_period": trend_slope(shares.tolist()),
            "matched_by": {"keywords": list(p.keywords), "themes": list(p.themes)},
            "quotes": [{"comment_id": r.id, "period": r.period, "text": r.text} for r in c.quotes.itertuples()],
        }
        rec["verdict"], rec["explanation"] = _verdict(rec, min_mentions)
        if len(periods) >= 2:  # the current (last) period against all earlier ones
            x, n_now = int(series.iloc[-1]), int(per_period.iloc[-1])
            bx, bn = int(series.iloc[:-1].sum()), int(per_period.iloc[:-1].sum())
            rec["current"] = {"period": periods[-1], "mentions": x,
                              "ratio_vs_before": round(((x + .5) / max(n_now, 1)) / ((bx + .5) / max(bn, 1)), 2),
                              "p_value": rate_test(x, n_now, bx, bn)}
        out.append(rec)
    with_current = [r for r in out if "current" in r]
    for r, q in zip(with_current, benjamini_hochberg([r["current"]["p_value"] for r in with_current])):
        r["current"]["p_value"] = float(f"{r['current']['p_value']:.3g}")
        r["current"]["q_value"] = float(f"{q:.3g}")
    order = {"raised and going badly": 0, "never raised": 1, "rarely raised": 2, "raised, mixed": 3,
             "raised, mostly positive": 4}
    return sorted(out, key=lambda r: (order[r["verdict"]], r["id"]))


def _verdict(r: dict[str, Any], min_mentions: int) -> tuple[str, str]:
    n, k = r["comments"], r["mentions"]
    if n == 0:
        return "never raised", "No comments in this range."
    if k == 0:
        return "never raised", (f"0 of {n:,} comments mention it: at 95% confidence fewer than "
                                f"{r['rule_of_three']:.2%} of customers raise it (3/n). Silence is not proof "
                                "that the promise is kept: ask customers about it directly.")
    if k < min_mentions:
        return "rarely raised", (f"{k} of {n:,} comments ({k / n:.2%}); the true share is below "
                                 f"{r['share_upper_95']:.2%} at 95% confidence.")
    if (r["negative_share"] or 0) >= 0.5:
        return "raised and going badly", (f"{k} comments ({k / n:.1%}), {r['negative_share']:.0%} negative: "
                                          "customers say the promise is not being kept.")
    if (r["net_sentiment"] or 0) > 20:
        return "raised, mostly positive", f"{k} comments ({k / n:.1%}), net sentiment {r['net_sentiment']:+.0f}."
    return "raised, mixed", f"{k} comments ({k / n:.1%}), net sentiment {r['net_sentiment']:+.0f}."
