"""Compute every figure of a report from the store: the JSON of all figures is the report's
single source; HTML, Markdown, CSV and XLSX are views of it. The analyses behind it live in
:mod:`voiceminer.aggregate` (alerts, emerging topics and quotes in ``aggregate.highlights``, "you
said, we did" in ``aggregate.outcomes``); this module only gathers them into the JSON.

The last period in the range is the "current" period; every earlier period is history
it is compared with. The same store and bounds always give the same figures.
"""

from __future__ import annotations

import zlib
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from ..aggregate import assign_period
from ..aggregate.causes import root_causes
from ..aggregate.drivers import driver_analysis
from ..aggregate.frames import (
    Interner,
    comment_frame,
    compact,
    id_chunks,
    language_counts,
    language_tags,
    lazy_vectors,
    mention_frame,
    need_frame,
    sentence_frame,
    share_ids,
    undated_sources,
)
from ..aggregate.highlights import clearest_voices, current_alerts, emerging_topics, theme_quotes
from ..aggregate.needs import need_overview, unmet_needs
from ..aggregate.outcomes import resolved_frame, you_said_we_did
from ..aggregate.partials import FrameCounts, RangeCounts
from ..aggregate.periods import coverage
from ..aggregate.promises import load_promises
from ..aggregate.signals import SpikeRules, find_spikes, gone_quiet
from ..aggregate.themes import theme_summary
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
    undated = undated_sources(store)  # sources without dates: filed under the day they were collected
    # the range is read report_chunk comments at a time: the exact figures add up chunk by chunk, and the
    # detail figures read a uniform sample of report_sample comments (all of them in a smaller range)
    total, chunks = id_chunks(store, lo, hi, undated, settings.report_chunk)
    rate = min(1.0, max(settings.report_sample, 1) / total) if total else 1.0
    promise_list = load_promises(settings.promises)
    # one chunk read whole: its frames are the range, and the figures read them as they are
    range_counts = RangeCounts(tz, promise_list) if len(chunks) > 1 or rate < 1 else None
    kept: list[tuple[pd.DataFrame, ...]] = []
    languages: Counter[str] = Counter()  # comments not in English, per language code
    for ids in chunks:
        foreign = language_tags(store, lo, hi, undated, ids=ids)
        languages.update(foreign.values())
        same = Interner()  # the frames share one object per comment id, label and repeated value
        comments = comment_frame(store, lo, hi, interner=same, undated=undated, ids=ids)
        comments["period"] = assign_period(comments["created_at"], period, tz)
        mentions = mention_frame(store, lo, hi, interner=same, undated=undated, ids=ids)
        sentences = sentence_frame(store, lo, hi, interner=same, undated=undated, ids=ids)
        needs = need_frame(store, lo, hi, sentences, interner=same, undated=undated, ids=ids)
        same.clear()
        frames = without_english_tags(foreign, comments, mentions, sentences, needs)
        if range_counts is not None:
            range_counts.add(frames[0], frames[1])
        kept.append(sampled(frames, rate) if rate < 1 else frames)
        del comments, mentions, sentences, needs, frames
    comments, mentions, sentences, needs = kept[0] if len(kept) == 1 else joined(kept)
    del kept
    share_ids(comments, mentions, sentences, needs)
    exact = range_counts if range_counts is not None else FrameCounts(comments, mentions, tz, promises=promise_list)
    # read when a figure asks for them: emerging topics, quotes and needs read capped samples
    vectors = lazy_vectors(store, sentences["text_hash"], shared_key(settings.models_dir, settings.shared_model))
    labels = _labels(settings)
    sent = exact.period_sentiment()
    periods = sorted(sent["period"].dropna().unique())
    current = periods[-1] if periods else None
    rules = SpikeRules(baseline_periods=settings.baseline_periods, min_volume=settings.min_volume)

    scores = {s["period"]: s for s in exact.score_periods()}
    period_rows = sent.to_dict(orient="records")  # NaN -> None in json_safe
    for row in period_rows:
        row.update({k: v for k, v in scores.get(row["period"], {}).items() if k != "period"})

    theme_table = exact.theme_table("theme")
    cause_table = exact.theme_table("cause")
    themes = theme_summary(theme_table, current, settings.baseline_periods, labels)
    causes = theme_summary(cause_table, current, settings.baseline_periods, labels)
    # themes and causes are tested as one family (taxonomy ids are unique across levels)
    both = pd.concat([theme_table.assign(level="theme"), cause_table.assign(level="cause")], ignore_index=True)
    spikes = find_spikes(both, rules)  # every theme and cause in every period
    spikes.sort(key=lambda s: (s["period"], s["q_value"], s["level"], s["key"]))
    # the current period's alerts: its own tests form the family (a weekly job tests one week)
    current_spikes = find_spikes(both, rules, only=current) if current else []
    # the first and last periods may hold only part of their days: their counts are scaled to a whole
    # period where levels are compared, and the report marks them
    first_seen, last_seen = exact.local_bounds()
    first = since if since else first_seen
    last = (until - timedelta(days=1)) if until else last_seen
    partial = exact.partial_periods(periods, period, first, last, since, until)
    quiet = gone_quiet(both, coverage=coverage(partial))
    for s in spikes + current_spikes + quiet:
        s["label"] = labels.get(s["key"], s["key"])
    mentioned = set(theme_table["key"]) if not theme_table.empty else set()
    top_level = [t for t in labels if "." not in t]
    never = [{"id": t, "label": labels[t]} for t in top_level if t not in mentioned] if exact.mentions else []

    seg_cols = exact.segments.columns()
    topics = emerging_topics(comments, sentences, mentions, vectors, current, rules)
    emerging = topics.clusters

    promises = exact.promise_figures()
    causes_view = root_causes(comments, mentions, cause_table, spikes, labels, counts=exact.negative)
    need_view = unmet_needs(comments, needs, vectors, seg_cols)
    drivers = driver_analysis(comments, mentions, labels, counts=exact.drivers)
    segments = [row for col in seg_cols for row in exact.segments.table(col)]
    for row in segments:  # the report names themes by their labels
        for t in row["over_indexed_themes"]:
            t["label"] = labels.get(t["theme"], t["theme"])

    overall = exact.overall()
    first_day = since.isoformat() if since else (periods[0] if periods else None)
    last_day = until.isoformat() if until else (periods[-1] if periods else None)
    first_date, last_date = (d.isoformat() if d else None for d in (first, last))
    figures: dict[str, Any] = {
        "meta": {"period": period, "timezone": tz, "first_day": first_day, "last_day": last_day,
                 "first_date": first_date, "last_date": last_date,
                 "since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
                 "periods": periods, "current_period": current, "partial_periods": partial,
                 "previous_period": periods[-2] if len(periods) > 1 else None,
                 "baseline_periods": settings.baseline_periods, "min_volume": settings.min_volume,
                 "promises_file": str(settings.promises) if settings.promises else None,
                 "service_url": settings.service_url.rstrip("/") or None,
                 # the detail figures' sample, when the range holds more than report_sample comments
                 "sample": {"comments": len(comments), "of": total} if rate < 1 else None},
        "overall": {**overall, **exact.overall_scores()},
        "periods": period_rows,
        "channels": exact.channel_breakdown().to_dict(orient="records"),
        "themes": themes,
        "causes": causes,
        "spikes": spikes,
        "alerts": [a.as_dict() for a in current_alerts(current_spikes, emerging, promises, current, causes_view)],
        "gone_quiet": quiet,
        "never_mentioned_themes": never,
        "emerging": emerging, "emerging_note": topics.note,
        "promises": promises,
        "root_causes": causes_view,
        "needs": need_view,
        "need_overview": need_overview(comments, needs, need_view),
        "drivers": drivers,
        "segments": segments,
        "theme_by_segment": exact.segments.by_theme(seg_cols),
        "you_said_we_did": _outcomes(store, lo, hi, period, tz, labels),
        "quotes": {t: {k: [q.as_dict() for q in qs] for k, qs in by.items()}
                   for t, by in theme_quotes(comments, mentions, sentences, vectors,
                                             [t["id"] for t in themes[:8]]).items()},
        "voices": {k: [v.as_dict() for v in vs] for k, vs in clearest_voices(comments, current).items()},
        "data_quality": {"input_rows": store.input_rows_summary(),
                         "analysed_comments": exact.analysed,
                         "undated_comments": int(overall["undated"]),
                         # comments the English models could not read: per language code
                         "not_english": language_counts(languages.elements())},
        "producers": _producers(store),
    }
    return json_safe(figures)


def sampled(frames: tuple[pd.DataFrame, ...], rate: float) -> tuple[pd.DataFrame, ...]:
    """The rows of a uniform sample of the comments (``rate`` of them, chosen by a hash of the comment id, so
    the same comments every time) in each frame: comments, then the frames keyed by ``comment_id``.

    >>> c = pd.DataFrame({"id": [f"c{i}" for i in range(1000)]}); m = pd.DataFrame({"comment_id": ["c1", "c2"]})
    >>> s, m2 = sampled((c, m), 0.25); 200 < len(s) < 300, set(m2["comment_id"]) <= set(s["id"])
    (True, True)
    """
    limit = int(rate * 2**32)
    ids = {i for i in frames[0]["id"] if zlib.crc32(str(i).encode("utf-8")) < limit}
    out = [frames[0][frames[0]["id"].isin(ids).to_numpy()].reset_index(drop=True)]
    for f in frames[1:]:
        out.append(f[f["comment_id"].isin(ids).to_numpy()].reset_index(drop=True) if len(f) else f)
    return tuple(out)


def joined(parts: list[tuple[pd.DataFrame, ...]]) -> tuple[pd.DataFrame, ...]:
    """Frames of several chunks as one (chunks in id order, so rows stay in id order); labels categorical
    again, as :func:`~voiceminer.aggregate.frames.mention_frame` gives them."""
    out = []
    for i in range(len(parts[0])):
        frames = [p[i] for p in parts if len(p[i])] or [parts[0][i]]
        frame = pd.concat([f.astype({c: object for c in f.columns if isinstance(f[c].dtype, pd.CategoricalDtype)})
                           for f in frames], ignore_index=True)
        out.append(compact(frame, ["theme", "theme_label", "cause", "cause_label"]) if i == 1 else frame)
    return tuple(out)


def without_english_tags(foreign: dict[str, str], comments: pd.DataFrame, mentions: pd.DataFrame,
                         sentences: pd.DataFrame, needs: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """The frames with what the English models said about the comments in ``foreign`` (not in English,
    see :func:`~voiceminer.aggregate.frames.language_tags`) taken out: those comments still count, but
    with no sentiment, complaint flag (False), themes, needs or sentences to cluster, so a French "très
    agréable" read as strongly negative moves no figure. Their cases stay open in triage, marked.

    >>> c = pd.DataFrame({"id": ["a", "b"], "sentiment": ["negative", "positive"], "sentiment_score": [-0.9, 0.8],
    ...                   "is_complaint": [True, False], "priority": ["high", None]})
    >>> m = pd.DataFrame({"comment_id": ["a", "b"], "theme": ["speed", "product"]})
    >>> c2, m2, s2, n2 = without_english_tags({"a": "fr"}, c, m, m.iloc[:0], m.iloc[:0])
    >>> c2["sentiment"].isna().tolist(), c2["is_complaint"].tolist(), m2["comment_id"].tolist(), len(c2)
    ([True, False], [False, False], ['b'], 2)
    """
    if not foreign:
        return comments, mentions, sentences, needs
    ids = set(foreign)
    gone = comments["id"].isin(ids).to_numpy()
    comments = comments.copy()
    for col in ("sentiment", "sentiment_score", "priority"):  # missing, as for a comment not analysed
        if col in comments:
            comments.loc[gone, col] = None
    if "is_complaint" in comments:
        comments.loc[gone, "is_complaint"] = False
    keep = [f[~f["comment_id"].isin(ids).to_numpy()].reset_index(drop=True) if len(f) else f
            for f in (mentions, sentences, needs)]
    return (comments, *keep)


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


def _outcomes(store: Store, lo: datetime | None, hi: datetime | None, period: str, tz: str,
              labels: dict[str, str]) -> list[dict[str, Any]]:
    """You said, we did: per period (of resolving) and theme, the cases resolved in the range, the
    actions taken and the hours to resolve (see :mod:`voiceminer.aggregate.outcomes`)."""
    rows = you_said_we_did(resolved_frame(store, lo, hi), period, tz)
    for r in rows:
        r["label"] = labels.get(r["theme"], r["theme"])
        r["causes"] = [{"id": k, "label": labels.get(k, k), "cases": n} for k, n in r["causes"].items()]
    return rows


def _producers(store: Store) -> list[str]:
    """Which stage versions made the tags in the store (shown in the report's footer)."""
    import sqlalchemy as sa

    from ..storage import schema as t

    query = sa.select(t.annotations.c.producer, t.annotations.c.producer_version).distinct()
    return sorted(f"{r['producer']} {r['producer_version']}" for r in store.query(query))
