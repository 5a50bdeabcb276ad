"""Load stored comments and their tags into pandas DataFrames.

The figures of every report are computed from these frames (from the store, never
from a job's memory), so any report can be rebuilt later.

- :func:`comment_frame`: one row per comment, with its comment-level sentiment,
  complaint flag and priority, and its metadata fields as ``meta.<key>`` columns.
- :func:`mention_frame`: one row per theme mention (sentence x theme), with the
  sentence's sentiment, the cause (child theme) and its evidence.
- :func:`need_frame`: one row per need sentence, with its need statement.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..storage import Store
from ..storage import schema as t

COLUMNS = ["id", "text", "created_at", "source", "channel", "rating", "rating_scale", "meta", "sentiment",
           "sentiment_score", "is_complaint", "priority"]
MENTION_COLUMNS = ["comment_id", "sentence_idx", "theme", "theme_label", "score", "cause", "cause_label",
                   "start", "end", "evidence", "sentence_sentiment", "sentence_score"]
NEED_COLUMNS = ["comment_id", "sentence_idx", "statement", "score", "start", "end", "explicit", "text_hash"]


def _bounded(query: sa.Select, since: datetime | None, until: datetime | None) -> sa.Select:
    if since is not None:
        query = query.where(t.comments.c.created_at >= since)
    if until is not None:
        query = query.where(t.comments.c.created_at < until)
    return query


def _data(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return json.loads(value) if value else {}


def _layer_rows(store: Store, layer: str, columns: list[Any], since: datetime | None, until: datetime | None,
                comment_level: bool | None = None) -> list[dict[str, Any]]:
    """Annotations of one layer (comment-level only, sentence-level only, or both) for comments
    in the date range. One indexed scan; frames are joined in pandas, not by SQL self-joins."""
    a = t.annotations.c
    query = sa.select(*columns).join(t.comments, t.comments.c.id == a.comment_id).where(a.layer == layer)
    if comment_level is True:
        query = query.where(a.sentence_idx.is_(None))
    elif comment_level is False:
        query = query.where(a.sentence_idx.is_not(None))
    return store.query(_bounded(query, since, until))


def _scalar(value: Any) -> Any:
    """Metadata values as groupable scalars: lists and objects become their JSON text."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def comment_frame(store: Store, since: datetime | None = None, until: datetime | None = None) -> pd.DataFrame:
    """One row per stored comment with its comment-level tags (NaN when not analysed).

    ``since``/``until`` bound ``created_at`` (half-open); comments without a date are
    kept only when no bounds are given.
    """
    a = t.annotations.c
    c = t.comments.c
    query = (sa.select(c.id, c.text, c.created_at, c.source, c.channel, c.rating, c.rating_scale, c.meta)
             .order_by(c.id))
    rows = store.query(_bounded(query, since, until))
    senti = {r["comment_id"]: r for r in _layer_rows(store, "sentiment", [a.comment_id, a.label, a.score],
                                                     since, until, comment_level=True)}
    compl = {r["comment_id"]: r for r in _layer_rows(store, "complaint", [a.comment_id, a.label, a.data],
                                                     since, until, comment_level=True)}
    for r in rows:
        s, k = senti.get(r["id"]), compl.get(r["id"])
        r["sentiment"] = s["label"] if s else None
        r["sentiment_score"] = s["score"] if s else None
        r["is_complaint"] = None if k is None else k["label"] == "complaint"
        r["priority"] = _data(k["data"]).get("priority") if k else None
        r["meta"] = _data(r["meta"])
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    for key in sorted({k for m in frame["meta"] for k in m}):
        frame[f"meta.{key}"] = [_scalar(m.get(key)) for m in frame["meta"]]
    return frame.drop(columns=["meta"])


def mention_frame(store: Store, since: datetime | None = None, until: datetime | None = None) -> pd.DataFrame:
    """One row per (sentence, theme) with the sentence's sentiment and the cause found."""
    a = t.annotations.c
    themes = _layer_rows(store, "theme", [a.comment_id, a.sentence_idx, a.label, a.score, a.span_start,
                                          a.span_end, a.data], since, until)
    senti = {(r["comment_id"], r["sentence_idx"]): (r["label"], r["score"])
             for r in _layer_rows(store, "sentiment", [a.comment_id, a.sentence_idx, a.label, a.score],
                                  since, until, comment_level=False)}
    rows = []
    for r in themes:
        d = _data(r["data"])
        s_label, s_score = senti.get((r["comment_id"], r["sentence_idx"]), (None, None))
        rows.append([r["comment_id"], r["sentence_idx"], r["label"], d.get("label", r["label"]), r["score"],
                     d.get("cause"), d.get("cause_label"), r["span_start"], r["span_end"], d.get("cause_evidence"),
                     s_label, s_score])
    frame = pd.DataFrame(rows, columns=MENTION_COLUMNS)
    return frame.sort_values(["comment_id", "sentence_idx", "theme"], kind="stable").reset_index(drop=True)


def need_frame(store: Store, since: datetime | None = None, until: datetime | None = None,
               sentences: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per need sentence: the statement, score, whether a need cue was explicit, and the
    sentence's text hash (from ``sentences``, a :func:`sentence_frame` of the same range, when given)."""
    a = t.annotations.c
    found = _layer_rows(store, "need", [a.comment_id, a.sentence_idx, a.label, a.score, a.span_start, a.span_end,
                                        a.data], since, until)
    hashes = {}
    if found:
        if sentences is None:
            sentences = sentence_frame(store, since, until)
        hashes = dict(zip(zip(sentences["comment_id"], sentences["idx"]), sentences["text_hash"]))
    rows = [[r["comment_id"], r["sentence_idx"], r["label"], r["score"], r["span_start"], r["span_end"],
             bool(_data(r["data"]).get("cues")), hashes.get((r["comment_id"], r["sentence_idx"]))] for r in found]
    frame = pd.DataFrame(rows, columns=NEED_COLUMNS)
    return frame.sort_values(["comment_id", "sentence_idx"], kind="stable").reset_index(drop=True)


def sentence_frame(store: Store, since: datetime | None = None, until: datetime | None = None) -> pd.DataFrame:
    """Every stored sentence: comment id, index, span and text hash."""
    s = t.sentences.c
    query = (sa.select(s.comment_id, s.idx, s.start, s.end, s.text_hash)
             .join(t.comments, t.comments.c.id == s.comment_id).order_by(s.comment_id, s.idx))
    return pd.DataFrame(store.query(_bounded(query, since, until)),
                        columns=["comment_id", "idx", "start", "end", "text_hash"])


def stored_vectors(store: Store, hashes: list[str], prefer: str | None = None) -> dict[str, np.ndarray]:
    """Sentence vectors for ``hashes`` from the store's cache, from the encoder that covers most of them;
    ``prefer`` (the configured shared model's key) wins a tie, as when its sentiment companion's
    vectors sit beside its own.

    Empty when the comments were analysed without an encoder (the lexicon pipeline).
    """
    from ..storage.vectors import VectorCache

    if not hashes:
        return {}
    e = t.encodings.c
    wanted = sorted(set(hashes))
    counts: dict[str, int] = {}
    with store.engine.connect() as conn:
        for i in range(0, len(wanted), 500):
            query = (sa.select(e.encoder, sa.func.count()).where(e.text_hash.in_(wanted[i:i + 500]))
                     .group_by(e.encoder))
            for encoder, count in conn.execute(query):
                counts[encoder] = counts.get(encoder, 0) + int(count)
    if not counts:
        return {}
    encoder = max(sorted(counts), key=lambda k: (counts[k], k == prefer))
    return VectorCache(store, encoder).get(wanted)
