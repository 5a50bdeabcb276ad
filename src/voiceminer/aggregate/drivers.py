"""Scores (NPS, CSAT) per period and the themes that drive them.

Two views of each theme's weight, over the comments that carry a score:

- impact: how much the score would change if the comments mentioning the theme were
  removed (NPS points for 0-10 surveys; points on a 0-100 rating scale otherwise).
  Positive means the theme pulls the score down.
- regression: least squares of the 0-100 rating on "has a negative mention of the theme"
  indicators (all themes with enough mentions together), with standard errors and 95%
  confidence intervals, so that overlapping themes are not counted twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .stats import csat, normalised_rating, nps, ols, removal_impact


def score_periods(comments: pd.DataFrame) -> list[dict[str, Any]]:
    """NPS of 0-10 answers and CSAT / mean rating of 1-5 ratings, per period (where present)."""
    out = []
    for period, g in comments[["period", "rating", "rating_scale"]].dropna(subset=["period"]).groupby("period", sort=True):
        rec: dict[str, Any] = {"period": period}
        ten = g[g["rating_scale"] == 10]["rating"].dropna()
        five = g[g["rating_scale"] == 5]["rating"].dropna()
        if len(ten):
            rec["nps"] = nps(ten.tolist())
        if len(five):
            rec["csat"] = csat(five.tolist(), 5)
        if len(rec) > 1:
            out.append(rec)
    return out


def overall_scores(comments: pd.DataFrame) -> dict[str, Any]:
    ten = comments["rating"][comments["rating_scale"] == 10].dropna()
    five = comments["rating"][comments["rating_scale"] == 5].dropna()
    return {"nps": nps(ten.tolist()) if len(ten) else None, "csat": csat(five.tolist(), 5) if len(five) else None}


Profile = tuple[float, float | None, frozenset, frozenset]  # score 0-100, 0-10 answer, themes, negative themes


class DriverCounts:
    """The scored comments as profiles (the 0-100 score, the 0-10 answer where the scale is 10, the themes
    the comment mentions and those it mentions negatively) with how many comments share each: what
    :func:`driver_analysis` needs, added up over chunks of comments (:meth:`add` each chunk's comment and
    mention frames). Profiles repeat (a few score values, a few themes a comment), so this grows with the
    scores and themes, not with the comments."""

    def __init__(self) -> None:
        self.profiles: dict[Profile, int] = {}
        self.any_mentions = False  # a mention in the range, scored or not

    def add(self, comments: pd.DataFrame, mentions: pd.DataFrame) -> DriverCounts:
        self.any_mentions |= not mentions.empty
        scored = comments[["id", "rating", "rating_scale"]].dropna(subset=["rating", "rating_scale"])  # not the texts
        if scored.empty:
            return self
        m = mentions.loc[mentions["comment_id"].isin(scored["id"]), ["comment_id", "theme", "sentence_sentiment"]]
        themes = m.groupby("comment_id", observed=True)["theme"].agg(frozenset).to_dict()
        negative = m[m["sentence_sentiment"] == "negative"].groupby("comment_id", observed=True)["theme"].agg(
            frozenset).to_dict()
        none: frozenset = frozenset()
        for cid, rating, scale in zip(scored["id"], scored["rating"], scored["rating_scale"]):
            score = normalised_rating(rating, scale)
            if score is None:
                continue
            key = (score, float(rating) if scale == 10 else None, themes.get(cid, none), negative.get(cid, none))
            self.profiles[key] = self.profiles.get(key, 0) + 1
        return self


def driver_analysis(comments: pd.DataFrame, mentions: pd.DataFrame, labels: dict[str, str],
                    min_mentions: int = 15, counts: DriverCounts | None = None) -> dict[str, Any]:
    """Removal impact on NPS and on the 0-100 rating, and the regression view, per theme. ``counts``: the
    range's :class:`DriverCounts` (by default, counted in the frames)."""
    counts = counts if counts is not None else DriverCounts().add(comments, mentions)
    keys = sorted(counts.profiles, key=lambda p: (p[0], -1 if p[1] is None else p[1], sorted(p[2]), sorted(p[3])))
    w = np.array([counts.profiles[p] for p in keys], float)
    n_scored = int(w.sum())
    if not keys or not counts.any_mentions:
        return {"impact": [], "regression": None, "scored_comments": n_scored, "nps_responses": 0}
    y = np.array([p[0] for p in keys], float)
    is_ten = np.array([p[1] is not None for p in keys])
    ten_y, ten_w = np.array([p[1] if p[1] is not None else np.nan for p in keys])[is_ten], w[is_ten]
    n_ten = int(ten_w.sum())
    impact = []
    for theme in sorted(set().union(*(p[2] for p in keys))):
        has = np.array([theme in p[2] for p in keys])
        members = int(w[has].sum())
        if members < min_mentions:
            continue
        rec = {"theme": theme, "label": labels.get(theme, theme), "comments": members,
               "mean_score_with": round(float((w * y)[has].sum() / w[has].sum()), 1),
               "mean_score_without": round(float((w * y)[~has].sum() / w[~has].sum()), 1) if (~has).any() else None,
               "rating_impact": removal_impact(y, has, "mean", weights=w)}
        if n_ten >= 30:
            has10 = has[is_ten]
            rec["nps_comments"] = int(ten_w[has10].sum())
            rec["nps_impact"] = removal_impact(ten_y, has10, "nps", weights=ten_w) if has10.any() else 0.0
        impact.append(rec)
    impact.sort(key=lambda r: (-(r["rating_impact"] or 0), r["theme"]))
    themes, columns, seen = [], [], set()
    for t in sorted(set().union(*(p[3] for p in keys))):
        col = np.array([t in p[3] for p in keys], float)
        key = col.tobytes()
        with_t = float(w[col > 0].sum())
        # a theme needs enough negative mentions, and comments without it; identical columns
        # (themes that always come together) cannot be told apart, so the first one stands for both
        if with_t >= min_mentions and 0 < with_t < n_scored and key not in seen:
            seen.add(key)
            themes.append(t)
            columns.append(col)
    regression = None
    fitted = None
    if themes and n_scored > len(themes) + 10:
        try:
            fitted = ols(y, np.column_stack(columns), themes, weights=w)
        except ValueError:  # still collinear (e.g. one theme = the sum of two others): no regression view
            fitted = None
    if fitted is not None:
        intercept, coefs, fit = fitted
        rows = []
        for c in coefs:
            d = c.as_dict()
            d["label"] = labels.get(c.name, c.name)
            rows.append(d)
        rows.sort(key=lambda r: (r["estimate"], r["name"]))
        regression = {"outcome": "rating on a 0-100 scale (0-10 surveys x10; 1-5 ratings (r-1)x25)",
                      "predictors": "has a negative mention of the theme (0/1)",
                      "intercept": round(intercept, 2), **fit, "coefficients": rows}
    return {"impact": impact, "regression": regression, "scored_comments": n_scored, "nps_responses": n_ten}
