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


def driver_analysis(comments: pd.DataFrame, mentions: pd.DataFrame, labels: dict[str, str],
                    min_mentions: int = 15) -> dict[str, Any]:
    """Removal impact on NPS and on the 0-100 rating, and the regression view, per theme."""
    scored = comments[["id", "rating", "rating_scale"]].dropna(subset=["rating", "rating_scale"])  # not the texts
    scored["score100"] = [normalised_rating(r, s) for r, s in zip(scored["rating"], scored["rating_scale"])]
    scored = scored.dropna(subset=["score100"])
    if scored.empty or mentions.empty:
        return {"impact": [], "regression": None, "scored_comments": len(scored), "nps_responses": 0}
    m = mentions.loc[mentions["comment_id"].isin(scored["id"]), ["comment_id", "theme", "sentence_sentiment"]]
    any_mention = m.groupby("theme")["comment_id"].apply(set)
    neg_mention = m[m["sentence_sentiment"] == "negative"].groupby("theme")["comment_id"].apply(set)
    ten = scored[scored["rating_scale"] == 10]
    impact = []
    for theme in sorted(any_mention.index):
        members = any_mention[theme]
        if len(members) < min_mentions:
            continue
        has = scored["id"].isin(members)
        rec = {"theme": theme, "label": labels.get(theme, theme), "comments": int(has.sum()),
               "mean_score_with": round(float(scored.loc[has, "score100"].mean()), 1),
               "mean_score_without": round(float(scored.loc[~has, "score100"].mean()), 1) if (~has).any() else None,
               "rating_impact": removal_impact(scored["score100"].tolist(), has.tolist(), "mean")}
        if len(ten) >= 30:
            has10 = ten["id"].isin(members)
            rec["nps_comments"] = int(has10.sum())
            rec["nps_impact"] = removal_impact(ten["rating"].tolist(), has10.tolist(), "nps") if has10.any() else 0.0
        impact.append(rec)
    impact.sort(key=lambda r: (-(r["rating_impact"] or 0), r["theme"]))
    themes, columns, seen = [], [], set()
    for t in sorted(neg_mention.index):
        col = scored["id"].isin(neg_mention[t]).to_numpy(float)
        key = col.tobytes()
        # a theme needs enough negative mentions, and comments without it; identical columns
        # (themes that always come together) cannot be told apart, so the first one stands for both
        if len(neg_mention[t]) >= min_mentions and 0 < col.sum() < len(col) and key not in seen:
            seen.add(key)
            themes.append(t)
            columns.append(col)
    regression = None
    fitted = None
    if themes and len(scored) > len(themes) + 10:
        try:
            fitted = ols(scored["score100"].to_numpy(float), np.column_stack(columns), themes)
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
    return {"impact": impact, "regression": regression, "scored_comments": len(scored),
            "nps_responses": len(ten)}
