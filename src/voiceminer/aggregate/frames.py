"""Load stored comments and their tags into pandas DataFrames.

The figures of every report are computed from these frames (from the store, never
from a job's memory), so any report can be rebuilt later.

- :func:`comment_frame`: one row per comment, with its comment-level sentiment,
  complaint flag and priority, and its metadata fields as ``meta.<key>`` columns.
- :func:`mention_frame`: one row per theme mention (sentence x theme), with the
  sentence's sentiment, the cause (child theme) and its evidence.
- :func:`need_frame`: one row per need sentence, with its need statement.

Memory: rows are read from the database in chunks straight into columns (no dict per row), and
repeated values (labels, sources, channels, metadata values, the comment ids that mentions and
sentences share with the comments) are one shared string each (:class:`Interner`), so a frame costs
about one pointer per cell plus each distinct value once. The frames still hold one row per
comment, mention and sentence in the date range: the report's per-comment figures (drivers,
quotes, emerging topics, needs) read them.
"""

from __future__ import annotations

import json
from datetime import datetime
from collections.abc import Iterator
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


CHUNK = 10_000


class Interner(dict):
    """One shared object per distinct value (``intern(v) is intern(v2)`` when ``v == v2``).

    >>> i = Interner(); a = i("x" * 50); b = i("".join(["x"] * 50))
    >>> a is b, i(None) is None
    (True, True)
    """

    def __call__(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, float, int)):
            return value
        return self.setdefault(value, value)


def _rows(store: Store, query: sa.Select) -> Iterator[Any]:
    """The query's rows, fetched in chunks (never the whole result at once as dicts)."""
    with store.engine.connect() as conn:
        result = conn.execution_options(yield_per=CHUNK).execute(query)
        for part in result.partitions():
            yield from part


def _frame(columns: dict[str, list[Any]], names: list[str]) -> pd.DataFrame:
    """A frame from column lists; with no rows, the same empty (object) frame as from no records."""
    if not any(columns.values()):
        return pd.DataFrame([], columns=names)
    return pd.DataFrame(columns, columns=names)


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


def _layer_query(layer: str, columns: list[Any], since: datetime | None, until: datetime | None,
                 comment_level: bool | None = None) -> sa.Select:
    """Annotations of one layer (comment-level only, sentence-level only, or both) for comments
    in the date range. One indexed scan; frames are joined in pandas, not by SQL self-joins."""
    a = t.annotations.c
    query = sa.select(*columns).join(t.comments, t.comments.c.id == a.comment_id).where(a.layer == layer)
    if comment_level is True:
        query = query.where(a.sentence_idx.is_(None))
    elif comment_level is False:
        query = query.where(a.sentence_idx.is_not(None))
    return _bounded(query, since, until)


def _scalar(value: Any) -> Any:
    """Metadata values as groupable scalars: lists and objects become their JSON text."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def comment_frame(store: Store, since: datetime | None = None, until: datetime | None = None,
                  interner: Interner | None = None) -> pd.DataFrame:
    """One row per stored comment with its comment-level tags (NaN when not analysed).

    ``since``/``until`` bound ``created_at`` (half-open); comments without a date are
    kept only when no bounds are given. ``interner`` shares the comment ids with later frames.
    """
    a = t.annotations.c
    c = t.comments.c
    same = interner if interner is not None else Interner()
    senti = {r.comment_id: (same(r.label), r.score) for r in _rows(store, _layer_query(
        "sentiment", [a.comment_id, a.label, a.score], since, until, comment_level=True))}
    compl = {r.comment_id: (r.label == "complaint", same(_data(r.data).get("priority"))) for r in _rows(
        store, _layer_query("complaint", [a.comment_id, a.label, a.data], since, until, comment_level=True))}
    query = (sa.select(c.id, c.text, c.created_at, c.source, c.channel, c.rating, c.rating_scale, c.meta)
             .order_by(c.id))
    names = [n for n in COLUMNS if n != "meta"]
    cols: dict[str, list[Any]] = {n: [] for n in names}
    meta: dict[str, list[Any]] = {}
    n = 0
    for r in _rows(store, _bounded(query, since, until)):
        cid = same(r.id)
        s, k = senti.pop(r.id, None), compl.pop(r.id, None)
        for name, value in (("id", cid), ("text", r.text), ("created_at", r.created_at),
                            ("source", same(r.source)), ("channel", same(r.channel)), ("rating", r.rating),
                            ("rating_scale", r.rating_scale), ("sentiment", s[0] if s else None),
                            ("sentiment_score", s[1] if s else None), ("is_complaint", k[0] if k else None),
                            ("priority", k[1] if k else None)):
            cols[name].append(value)
        for key, value in _data(r.meta).items():
            column = meta.get(key)
            if column is None:
                column = meta[key] = [None] * n
            column.append(same(_scalar(value)))
        n += 1
        for column in meta.values():
            if len(column) < n:
                column.append(None)
    frame = _frame(cols, names)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    for key in sorted(meta):
        frame[f"meta.{key}"] = meta.pop(key)
    return frame


def mention_frame(store: Store, since: datetime | None = None, until: datetime | None = None,
                  interner: Interner | None = None) -> pd.DataFrame:
    """One row per (sentence, theme) with the sentence's sentiment and the cause found."""
    a = t.annotations.c
    same = interner if interner is not None else Interner()
    senti = {(same(r.comment_id), r.sentence_idx): (same(r.label), r.score) for r in _rows(store, _layer_query(
        "sentiment", [a.comment_id, a.sentence_idx, a.label, a.score], since, until, comment_level=False))}
    cols: list[list[Any]] = [[] for _ in MENTION_COLUMNS]
    for r in _rows(store, _layer_query("theme", [a.comment_id, a.sentence_idx, a.label, a.score, a.span_start,
                                                 a.span_end, a.data], since, until)):
        d = _data(r.data)
        s_label, s_score = senti.get((r.comment_id, r.sentence_idx), (None, None))
        evidence = d.get("cause_evidence")
        row = (same(r.comment_id), r.sentence_idx, same(r.label), same(d.get("label", r.label)), r.score,
               same(d.get("cause")), same(d.get("cause_label")), r.span_start, r.span_end, evidence,
               s_label, s_score)
        for column, value in zip(cols, row):
            column.append(value)
    senti.clear()
    frame = _frame(dict(zip(MENTION_COLUMNS, cols)), MENTION_COLUMNS)
    del cols
    return frame.sort_values(["comment_id", "sentence_idx", "theme"], kind="stable").reset_index(drop=True)


def need_frame(store: Store, since: datetime | None = None, until: datetime | None = None,
               sentences: pd.DataFrame | None = None, interner: Interner | None = None) -> pd.DataFrame:
    """One row per need sentence: the statement, score, whether a need cue was explicit, and the
    sentence's text hash (from ``sentences``, a :func:`sentence_frame` of the same range, when given)."""
    a = t.annotations.c
    same = interner if interner is not None else Interner()
    found = [(same(r.comment_id), r.sentence_idx, r.label, r.score, r.span_start, r.span_end,
              bool(_data(r.data).get("cues"))) for r in _rows(store, _layer_query(
                  "need", [a.comment_id, a.sentence_idx, a.label, a.score, a.span_start, a.span_end, a.data],
                  since, until))]
    hashes = {}
    if found:
        if sentences is None:
            sentences = sentence_frame(store, since, until, interner=same)
        wanted = {(r[0], r[1]) for r in found}
        hashes = {key: h for key, h in zip(zip(sentences["comment_id"], sentences["idx"]), sentences["text_hash"])
                  if key in wanted}
    rows = [[*r, hashes.get((r[0], r[1]))] for r in found]
    frame = pd.DataFrame(rows, columns=NEED_COLUMNS)
    return frame.sort_values(["comment_id", "sentence_idx"], kind="stable").reset_index(drop=True)


def sentence_frame(store: Store, since: datetime | None = None, until: datetime | None = None,
                   interner: Interner | None = None) -> pd.DataFrame:
    """Every stored sentence: comment id, index, span and text hash."""
    s = t.sentences.c
    same = interner if interner is not None else Interner()
    query = (sa.select(s.comment_id, s.idx, s.start, s.end, s.text_hash)
             .join(t.comments, t.comments.c.id == s.comment_id).order_by(s.comment_id, s.idx))
    names = ["comment_id", "idx", "start", "end", "text_hash"]
    cols: list[list[Any]] = [[] for _ in names]
    for r in _rows(store, _bounded(query, since, until)):
        for column, value in zip(cols, (same(r.comment_id), r.idx, r.start, r.end, same(r.text_hash))):
            column.append(value)
    return _frame(dict(zip(names, cols)), names)


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
