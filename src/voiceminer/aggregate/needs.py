"""Unmet needs: need sentences grouped into needs, ranked by volume and growth.

Need sentences are grouped by meaning (:func:`voiceminer.flags.group_needs`: average-linkage
clustering of their stored vectors and their statements' character n-grams). Each group is named by its most central statement,
ranked by volume in the window and growth (recent half against the earlier half, per
comment), and shows its most representative quotes (nearest the group's centre), the
segments that raise it more than their share, and the other listed needs close to it
(``related``: mean distance between the two groups' sentences under ``RELATED``; and
``related_comments``, the comments that raise the need or one of those, each counted once). One
customer need often comes out as a few groups ("pick a delivery slot", "choose my delivery
time", "change the delivery time once the order's placed"); the links let a reader see them
together without merging what the grouping keeps apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .frames import MAX_SENTENCES, load_vectors, sample_rows
from .stats import rate_test, trend_slope
from .themes import check_segments, segment_label

# Two listed needs are related when the mean distance between their sentences is under this
# (grouping merges under 0.5). Set on the demo corpus (no labeled need groups exist here): its
# delivery-time needs link at 0.51-0.61, "reach a human quickly" is 0.72 from anything else.
RELATED = 0.62


def group_needs(needs: pd.DataFrame, vectors: dict[str, np.ndarray], distance: float = 0.5) -> pd.Series:
    """A group id per need row (same index), from :func:`voiceminer.flags.group_needs`: by the
    sentences' stored vectors (when every row has one) and the statements' character n-grams.
    Rows are sorted canonically first, so the grouping does not depend on the store's order.
    ``distance`` (0.5) was set on the demo corpus, with both shipped encoders: no labeled data
    of need groups exists here; 0.55 (the earlier value, vectors alone) split its planted
    delivery-slot need across groups once the larger encoder came."""
    return _grouped(needs, vectors, distance)[0]


def _grouped(needs: pd.DataFrame, vectors: dict[str, np.ndarray],
             distance: float = 0.5) -> tuple[pd.Series, np.ndarray, pd.Series]:
    """(group id per need row, the grouped rows' pairwise distances, each row's position in them).

    At most ``MAX_SENTENCES["needs"]`` rows are grouped (their distances are a square matrix); in a
    larger range a uniform sample is grouped and every other row joins the group of its nearest
    sampled row (position NaN: it has no row in the distances)."""
    from ..flags import group_needs as group_statements
    from ..flags import need_distances, need_distances_between

    if needs.empty:
        return pd.Series([], dtype=int), np.zeros((0, 0)), pd.Series([], dtype=float)
    rows = needs.sort_values(["statement", "comment_id", "sentence_idx"], kind="stable")
    sample = rows[rows.index.isin(sample_rows(rows, MAX_SENTENCES["needs"]).index)]  # in the canonical order

    def features(part: pd.DataFrame) -> tuple[list[str], np.ndarray | None]:
        load_vectors(vectors, part["text_hash"])
        have = all(isinstance(h, str) and h in vectors for h in part["text_hash"])
        return part["statement"].tolist(), np.vstack([vectors[h] for h in part["text_hash"]]) if have else None

    statements, X = features(sample)
    dist = need_distances(statements, X)
    groups = pd.Series(-1, index=rows.index)
    for gid, group in enumerate(group_statements(statements, X, threshold=distance if X is not None else None,
                                                 distances=dist)):
        groups.loc[sample.index[group.members]] = gid
    rest = rows[~rows.index.isin(sample.index)]
    for start in range(0, len(rest), 2_000):  # the rows outside the sample, a chunk at a time
        part = rest.iloc[start:start + 2_000]
        texts, Xp = features(part)
        near = need_distances_between(texts, statements, Xp, X).argmin(axis=1)
        groups.loc[part.index] = groups.loc[sample.index].to_numpy()[near]
    position = pd.Series(np.arange(len(sample)), index=sample.index, dtype=float)
    return groups.reindex(needs.index).astype(int), dist, position.reindex(needs.index)


def unmet_needs(comments: pd.DataFrame, needs: pd.DataFrame, vectors: dict[str, np.ndarray],
                segment_cols: list[str], top: int = 10, quotes: int = 3, min_comments: int = 3) -> list[dict[str, Any]]:
    """The needs customers raise, largest and fastest-growing first."""
    if needs.empty:
        return []
    needs = needs.merge(comments[["id", "period", "text", *segment_cols]], left_on="comment_id", right_on="id")
    needs = needs.dropna(subset=["period"]).reset_index(drop=True)
    if needs.empty:
        return []
    needs["group"], dist, position = _grouped(needs, vectors)
    periods = sorted(comments["period"].dropna().unique())
    per_period = comments.groupby("period")["id"].nunique().reindex(periods, fill_value=0)
    half = periods[len(periods) // 2:] if len(periods) > 1 else periods
    n_recent = int(per_period.loc[half].sum())
    n_early = int(per_period.sum()) - n_recent
    out, members = [], {}  # each listed need's rows in ``dist`` and its comment ids (by id of its record)
    for gid, g in needs.groupby("group"):
        ids = g["comment_id"].unique()
        if len(ids) < min_comments:
            continue
        series = g.groupby("period")["comment_id"].nunique().reindex(periods, fill_value=0)
        recent, early = int(series.loc[half].sum()), int(series.sum()) - int(series.loc[half].sum())
        growth = ((recent + 0.5) / max(n_recent, 1)) / ((early + 0.5) / max(n_early, 1)) if n_early else None
        name, reps = _representatives(g, vectors, quotes)
        out.append({
            "statement": name, "comments": len(ids), "explicit_share": round(float(g["explicit"].mean()), 3),
            "series": [{"period": p, "comments": int(series[p])} for p in periods],
            "trend_per_period": trend_slope(series.tolist()),
            "growth_ratio": round(growth, 2) if growth else None,
            "growth_p_value": float(f"{rate_test(recent, n_recent, early, n_early):.3g}") if n_early else None,
            "statements": sorted(g["statement"].value_counts().head(5).index.tolist()),
            "quotes": reps, "segments": _segments(g, comments, segment_cols),
        })
        members[id(out[-1])] = (position.loc[g.index].dropna().astype(int).to_numpy(), set(ids))
    # rank: volume, with growth breaking near-ties and pulling growing needs up
    for rec in out:
        rec["rank_score"] = round(rec["comments"] * (1 + max(0.0, min((rec["growth_ratio"] or 1) - 1, 3)) / 3), 2)
    out.sort(key=lambda r: (-r["rank_score"], -r["comments"], r["statement"]))
    out = out[:top]
    for rec in out:
        near = sorted((float(dist[np.ix_(members[id(rec)][0], members[id(other)][0])].mean()), other["statement"])
                      for other in out if other is not rec)
        rec["related"] = [name for d, name in near if d < RELATED][:3]
    by_name = {rec["statement"]: rec for rec in out}
    for rec in out:  # comments raising this need or one of its related ones (each comment once)
        rec["related_comments"] = len(set().union(members[id(rec)][1], *(members[id(by_name[name])][1]
                                                                         for name in rec["related"])))
    return out


def _representatives(g: pd.DataFrame, vectors: dict[str, np.ndarray], n: int) -> tuple[str, list[dict[str, Any]]]:
    """The group's name (its most central statement) and its most representative quotes."""
    from .quotes import representative

    ordered = representative(g, vectors, len(g))
    # the most central statement that reads as a need (three words or more), else the central sentence
    names = [s for s in ordered["statement"] if len(str(s).split()) >= 3]
    if names:
        name = str(names[0])
    else:
        row = ordered.iloc[0]
        name = str(row["text"][int(row["start"]):int(row["end"])]).strip() if pd.notna(row["start"]) else str(row["statement"])
        name = name if len(name) <= 90 else name[:87].rstrip() + "..."
    picked = representative(g[g["text"].str.len().between(15, 400)], vectors, n)
    return name, [{"comment_id": r.comment_id, "period": r.period, "text": r.text,
                   "span": [int(r.start), int(r.end)] if pd.notna(r.start) else None} for r in picked.itertuples()]


def _segments(g: pd.DataFrame, comments: pd.DataFrame, cols: list[str], min_count: int = 3) -> list[dict[str, Any]]:
    """Segment values that raise this need more than their share of all comments (lift > 1.2).
    ``cols`` come from :func:`~voiceminer.aggregate.themes.segment_columns`; a column VoiceMiner
    computes (priority, sentiment, ...) is refused (:func:`~voiceminer.aggregate.themes.check_segments`),
    so "raised most by" only names what customers, their channel or the export say."""
    check_segments(cols)
    out = []
    unique = g.drop_duplicates("comment_id")
    for col in cols:
        within = unique[col].dropna().astype(str).value_counts()
        overall = comments[col].dropna().astype(str).value_counts(normalize=True)
        total = within.sum()
        for value, count in within.items():
            if count < min_count or value not in overall:
                continue
            lift = (count / total) / overall[value]
            if lift >= 1.2:
                out.append({"segment": col, "segment_label": segment_label(col), "value": value,
                            "comments": int(count), "lift": round(float(lift), 2)})
    return sorted(out, key=lambda s: (-s["lift"], s["segment"], s["value"]))[:5]


def need_overview(comments: pd.DataFrame, needs: pd.DataFrame, listed: list[dict[str, Any]], examples: int = 5,
                  min_comments: int = 3) -> dict[str, Any]:
    """What the need statements of the range add up to beside the listed needs (:func:`unmet_needs`, which
    lists a need only when ``min_comments`` comments raise it alike): how many sentences and comments state
    a need, how many of those comments the listed needs hold, and, when none is listed, the ``examples``
    surest statements (explicit requests first) with their quotes, so a small range or one of scattered
    requests does not read as "no needs". ``needs`` is the range's need frame, as ``comments`` is its
    comment frame."""
    out: dict[str, Any] = {"sentences": int(len(needs)), "comments": int(needs["comment_id"].nunique()) if len(needs) else 0,
                           "listed_comments": int(sum(n["comments"] for n in listed)), "min_comments": min_comments,
                           "examples": []}
    if listed or needs.empty:
        return out
    rows = needs.merge(comments[["id", "period", "text"]], left_on="comment_id", right_on="id")
    rows = rows[rows["statement"].astype(str).str.split().str.len() >= 2]
    rows = rows.sort_values(["explicit", "score", "comment_id"], ascending=[False, False, True])
    for r in rows.drop_duplicates("statement").head(examples).itertuples():
        out["examples"].append({"statement": r.statement, "comment_id": r.comment_id, "period": r.period,
                                "text": r.text, "span": [int(r.start), int(r.end)] if pd.notna(r.start) else None})
    return out
