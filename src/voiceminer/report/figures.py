"""Compute every figure of a report from the store: the JSON of all figures is the report's
single source; HTML, Markdown, CSV and XLSX are views of it.

The last period in the range is the "current" period; every earlier period is history
it is compared with. The same store and bounds always give the same figures.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ..aggregate import assign_period, channel_breakdown, overall, period_sentiment
from ..aggregate.causes import root_causes
from ..aggregate.drivers import driver_analysis, overall_scores, score_periods
from ..aggregate.frames import comment_frame, mention_frame, need_frame, sentence_frame, stored_vectors
from ..aggregate.needs import unmet_needs
from ..aggregate.outcomes import resolved_frame, you_said_we_did
from ..aggregate.promises import load_promises, promise_figures
from ..aggregate.signals import SpikeRules, emerging_clusters, find_spikes, gone_quiet
from ..aggregate.themes import (
    comment_sentiment,
    segment_columns,
    segment_table,
    theme_by_segment,
    theme_periods,
    theme_summary,
)
from ..config import Settings
from ..models.shared import shared_key
from ..storage import Store


def _bound(day: date | None, tz: str) -> datetime | None:
    """Midnight of ``day`` in ``tz``, as UTC (the store keeps UTC; SQLite drops the zone of a bound)."""
    return None if day is None else datetime.combine(day, time.min, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def _labels(settings: Settings) -> dict[str, str]:
    """Theme id -> label from the configured taxonomy (a broken taxonomy file is a clear ConfigError)."""
    from ..themes.taxonomy import load_taxonomy

    return {t.id: t.label for t in load_taxonomy(settings.taxonomy)}


def compute_figures(settings: Settings, store: Store, since: date | None, until: date | None,
                    period: str) -> dict[str, Any]:
    tz = settings.timezone
    lo, hi = _bound(since, tz), _bound(until, tz)
    comments = comment_frame(store, lo, hi)
    comments["period"] = assign_period(comments["created_at"], period, tz)
    mentions = mention_frame(store, lo, hi)
    sentences = sentence_frame(store, lo, hi)
    vectors = stored_vectors(store, sentences["text_hash"].tolist(), shared_key(settings.models_dir, settings.shared_model))
    needs = need_frame(store, lo, hi, sentences)
    labels = _labels(settings)
    periods = sorted(comments["period"].dropna().unique())
    current = periods[-1] if periods else None
    rules = SpikeRules(baseline_periods=settings.baseline_periods, min_volume=settings.min_volume)

    sent = period_sentiment(comments)
    scores = {s["period"]: s for s in score_periods(comments)}
    period_rows = sent.to_dict(orient="records")  # NaN -> None in json_safe
    for row in period_rows:
        row.update({k: v for k, v in scores.get(row["period"], {}).items() if k != "period"})

    theme_table = theme_periods(comments, mentions, "theme")
    cause_table = theme_periods(comments, mentions, "cause")
    themes = theme_summary(theme_table, current, settings.baseline_periods, labels)
    causes = theme_summary(cause_table, current, settings.baseline_periods, labels)
    # themes and causes are tested as one family (taxonomy ids are unique across levels)
    both = pd.concat([theme_table.assign(level="theme"), cause_table.assign(level="cause")], ignore_index=True)
    spikes = find_spikes(both, rules)  # every theme and cause in every period
    spikes.sort(key=lambda s: (s["period"], s["q_value"], s["level"], s["key"]))
    # the current period's alerts: its own tests form the family (a weekly job tests one week)
    current_spikes = find_spikes(both, rules, only=current) if current else []
    quiet = gone_quiet(both)
    for s in spikes + current_spikes + quiet:
        s["label"] = labels.get(s["key"], s["key"])
    mentioned = set(theme_table["key"]) if not theme_table.empty else set()
    top_level = [t for t in labels if "." not in t]
    never = [{"id": t, "label": labels[t]} for t in top_level if t not in mentioned] if len(mentions) else []

    seg_cols = segment_columns(comments)
    theme_sentiment = comment_sentiment(mentions, "theme")  # one row per (comment, theme), for the segments
    emerging, emerging_note = _emerging(comments, sentences, mentions, vectors, current, rules)

    promises = promise_figures(load_promises(settings.promises), comments, mentions)
    causes_view = root_causes(comments, mentions, cause_table, spikes, labels)
    need_view = unmet_needs(comments, needs, vectors, seg_cols)
    drivers = driver_analysis(comments, mentions, labels)

    first_day = since.isoformat() if since else (periods[0] if periods else None)
    last_day = until.isoformat() if until else (periods[-1] if periods else None)
    local = comments["created_at"].dropna().dt.tz_convert(tz)
    first_date = since.isoformat() if since else (local.min().date().isoformat() if len(local) else None)
    last_date = (until - timedelta(days=1)).isoformat() if until else \
        (local.max().date().isoformat() if len(local) else None)
    figures: dict[str, Any] = {
        "meta": {"period": period, "timezone": tz, "first_day": first_day, "last_day": last_day,
                 "first_date": first_date, "last_date": last_date,
                 "since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
                 "periods": periods, "current_period": current,
                 "previous_period": periods[-2] if len(periods) > 1 else None,
                 "baseline_periods": settings.baseline_periods, "min_volume": settings.min_volume,
                 "promises_file": str(settings.promises) if settings.promises else None,
                 "service_url": settings.service_url.rstrip("/") or None},
        "overall": {**overall(comments), **overall_scores(comments)},
        "periods": period_rows,
        "channels": channel_breakdown(comments).to_dict(orient="records"),
        "themes": themes,
        "causes": causes,
        "spikes": spikes,
        "alerts": _alerts(current_spikes, emerging, promises, current, causes_view),
        "gone_quiet": quiet,
        "never_mentioned_themes": never,
        "emerging": emerging, "emerging_note": emerging_note,
        "promises": promises,
        "root_causes": causes_view,
        "needs": need_view,
        "drivers": drivers,
        "segments": [row for col in seg_cols for row in segment_table(comments, theme_sentiment, col)],
        "theme_by_segment": theme_by_segment(comments, theme_sentiment, seg_cols),
        "you_said_we_did": _outcomes(store, lo, hi, period, tz, labels),
        "quotes": _theme_quotes(comments, mentions, sentences, vectors, themes[:8]),
        "voices": _voices(comments, current),
        "data_quality": {"input_rows": store.input_rows_summary(),
                         "analysed_comments": int(comments["sentiment"].notna().sum()),
                         "undated_comments": int(comments["created_at"].isna().sum())},
        "producers": _producers(store),
    }
    return json_safe(figures)


def json_safe(value: Any) -> Any:
    """Figures as strict JSON: NaN and infinities become None, numpy scalars plain numbers.

    >>> json_safe({"a": [float("nan"), np.float64(1.5), np.int64(2)], "b": None})
    {'a': [None, 1.5, 2], 'b': None}
    """
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _alerts(spikes: list[dict[str, Any]], emerging: list[dict[str, Any]] | None,
            promises: list[dict[str, Any]], current: str | None,
            causes: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """What needs attention in the current period: its spikes (with the words that set a cause's
    spike apart), emerging clusters, and broken promises raised more than before."""
    terms = {c["id"]: c["distinctive_terms"] for rc in causes or [] for c in rc["causes"]
             if c.get("spike") and c["spike"]["period"] == current}
    out = []
    for s in spikes:
        if s["period"] != current:
            continue
        what = "mentions" if s["test"] == "volume" else "negative share"
        why = f"; they name {', '.join(repr(t) for t in terms[s['key']][:3])}" if terms.get(s["key"]) else ""
        out.append({"kind": "spike", "level": s["level"], "key": s["key"], "label": s["label"], "test": s["test"],
                    "severity": "high" if s["ratio"] >= 2 else "medium",
                    "message": f"{s['label']}: {what} {s['ratio']:.1f}x the baseline "
                               f"({s['count']} of {s['of']}; q={s['q_value']:.2g}){why}"})
    for e in emerging or []:
        if e["emerging"]:
            out.append({"kind": "emerging", "key": f"cluster-{e['id']}", "label": e["label"], "severity": "medium",
                        "message": f"New topic outside the taxonomy: \"{e['label']}\" ({e['current']} sentences "
                                   f"this period, {e['ratio']:.1f}x before)"})
    for p in promises:  # a broken promise is in the report every week; it alerts when it is raised more
        c = p.get("current") or {}
        if p["verdict"] == "raised and going badly" and c.get("q_value", 1) <= 0.05 and c["ratio_vs_before"] >= 1.5:
            out.append({"kind": "promise", "key": p["id"], "label": p["label"], "severity": "medium",
                        "message": f"Promise \"{p['label']}\": {c['mentions']} mentions this period, "
                                   f"{c['ratio_vs_before']:.1f}x the rate before; {p['negative_share']:.0%} "
                                   "negative overall"})
    return out


def _emerging(comments: pd.DataFrame, sentences: pd.DataFrame, mentions: pd.DataFrame,
              vectors: dict[str, np.ndarray], current: str | None, rules: SpikeRules) -> tuple[list[dict[str, Any]] | None, str]:
    from ..themes import is_small_talk

    if current is None or sentences.empty:
        return None, "No analysed sentences in this range."
    covered = set(zip(mentions["comment_id"], mentions["sentence_idx"]))
    free = sentences[[(c, i) not in covered for c, i in zip(sentences["comment_id"], sentences["idx"])]]
    free = free[free["text_hash"].isin(vectors.keys())]
    if free.empty:
        return None, "Emerging topics need sentence vectors in the store (the default model pipeline stores them)."
    info = comments.set_index("id")
    texts = [info.at[c, "text"][s:e] for c, s, e in zip(free["comment_id"], free["start"], free["end"])]
    chat = [is_small_talk(t) for t in texts]
    keep = [len(t.split()) >= 3 and not c for t, c in zip(texts, chat)]
    free = free[keep]
    texts = [t for t, k in zip(texts, keep) if k]
    periods = [info.at[c, "period"] for c in free["comment_id"]]
    ok = [isinstance(p, str) for p in periods]
    X = np.vstack([vectors[h] for h in free["text_hash"]])[ok] if len(free) else np.zeros((0, len(next(iter(vectors.values())))))
    texts = [t for t, k in zip(texts, ok) if k]
    periods = [p for p in periods if isinstance(p, str)]
    found = emerging_clusters(texts, X, periods, current, rules)
    n_chat = sum(chat)
    return found, (f"{len(texts):,} sentences outside the taxonomy were clustered"
                   + (f"; {n_chat:,} without a topic of their own (greetings, thanks, order numbers, bare "
                      "verdicts such as \"Not good enough.\") were left out." if n_chat else "."))


def _outcomes(store: Store, lo: datetime | None, hi: datetime | None, period: str, tz: str,
              labels: dict[str, str]) -> list[dict[str, Any]]:
    """You said, we did: per period (of resolving) and theme, the cases resolved in the range, the
    actions taken and the hours to resolve (see :mod:`voiceminer.aggregate.outcomes`)."""
    rows = you_said_we_did(resolved_frame(store, lo, hi), period, tz)
    for r in rows:
        r["label"] = labels.get(r["theme"], r["theme"])
        r["causes"] = [{"id": k, "label": labels.get(k, k), "cases": n} for k, n in r["causes"].items()]
    return rows


def _voices(comments: pd.DataFrame, current: str | None, n: int = 3) -> dict[str, list[dict[str, Any]]]:
    """The current period's clearest comments: strongest sentiment among readable lengths."""
    pool = comments[(comments["period"] == current) & comments["text"].str.len().between(20, 400)
                    & comments["sentiment_score"].notna()].drop_duplicates("text")
    out = {}
    for label, ascending in (("negative", True), ("positive", False)):
        top = pool[pool["sentiment"] == label].sort_values(["sentiment_score", "id"], ascending=[ascending, True])
        out[label] = [{"comment_id": r.id, "text": r.text, "channel": r.channel, "period": r.period,
                       "score": r.sentiment_score} for r in top.head(n).itertuples()]
    return out


def _theme_quotes(comments: pd.DataFrame, mentions: pd.DataFrame, sentences: pd.DataFrame,
                  vectors: dict[str, np.ndarray], themes: list[dict[str, Any]], n: int = 2) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per top theme, its most representative negative and positive sentences: nearest the
    centre of that theme's mentions of that polarity (by stored vectors), readable lengths."""
    from ..aggregate.quotes import representative

    if mentions.empty:
        return {}
    m = mentions.merge(sentences.rename(columns={"idx": "sentence_idx"})[["comment_id", "sentence_idx",
                                                                          "text_hash"]],
                       on=["comment_id", "sentence_idx"], how="left")
    m = m.merge(comments[["id", "text", "period", "channel"]], left_on="comment_id", right_on="id")
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for t in themes:
        out[t["id"]] = {}
        for polarity in ("negative", "positive"):
            g = m[(m["theme"] == t["id"]) & (m["sentence_sentiment"] == polarity)]
            g = g[g["text"].str.len().between(20, 400)]
            out[t["id"]][polarity] = [
                {"comment_id": r.comment_id, "period": r.period, "channel": r.channel, "text": r.text,
                 "span": [int(r.start), int(r.end)] if pd.notna(r.start) else None}
                for r in representative(g, vectors, n).itertuples()]
    return out


def _producers(store: Store) -> list[str]:
    """Which stage versions made the tags in the store (shown in the report's footer)."""
    import sqlalchemy as sa

    from ..storage import schema as t

    query = sa.select(t.annotations.c.producer, t.annotations.c.producer_version).distinct()
    return sorted(f"{r['producer']} {r['producer_version']}" for r in store.query(query))
