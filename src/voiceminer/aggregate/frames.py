"""Load stored comments and their tags into pandas DataFrames.

The figures of every report are computed from these frames (from the store, never
from a job's memory), so any report can be rebuilt later.

- :func:`comment_frame`: one row per comment, with its comment-level sentiment,
  complaint flag and priority, and its metadata fields as ``meta.<key>`` columns.
- :func:`mention_frame`: one row per theme mention (sentence x theme), with the
  sentence's sentiment, the cause (child theme) and its evidence.
- :func:`need_frame`: one row per need sentence, with its need statement.

Memory: rows are read from the database in chunks and turned into pandas arrays chunk by chunk
(:class:`Columns`: strings live in Arrow buffers, not as Python objects), and repeated values
(labels, sources, channels, metadata values) are one shared object each while a chunk is built
(:class:`Interner`). The frames still hold one row per
comment, mention and sentence in the date range: the report's per-comment figures (drivers,
quotes, emerging topics, needs) read them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..storage import Store
from ..storage import schema as t

COLUMNS = ["id", "text", "created_at", "dated", "source", "channel", "rating", "rating_scale", "meta", "sentiment",
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


class Columns:
    """Builds a frame from rows in chunks: every CHUNK rows become pandas arrays (strings move out
    of Python objects into Arrow buffers), so the Python objects alive at any time are one chunk's.

    Columns may appear late (metadata keys): earlier rows hold None. The result equals
    ``pd.DataFrame`` built from the whole column lists at once (same values, same dtypes): a column
    whose chunks disagree on their dtype is inferred again over all its values.

    >>> b = Columns(["a"]); b.add(("x",)); b.add((None,), {"m": 2}); f = b.frame()
    >>> f["a"].tolist()[0], f["m"].tolist()[1], len(f)
    ('x', 2.0, 2)
    """

    def __init__(self, names: list[str], chunk: int = CHUNK) -> None:
        self.names, self.chunk = list(names), chunk
        self.buffer: dict[str, list[Any]] = {n: [] for n in names}
        self.parts: dict[str, list[pd.Series]] = {n: [] for n in names}
        self.extra: dict[str, list[Any]] = {}  # late columns (their own namespace), in order of appearance
        self.extra_parts: dict[str, list[pd.Series]] = {}
        self.pending = 0  # rows not flushed yet
        self.n = 0

    def add(self, values: tuple[Any, ...], extra: dict[str, Any] | None = None) -> None:
        for name, value in zip(self.names, values):
            self.buffer[name].append(value)
        for key, value in (extra or {}).items():
            if key not in self.extra:
                self.extra[key], self.extra_parts[key] = [None] * self.pending, []
            self.extra[key].append(value)
        self.n += 1
        self.pending += 1
        for column in self.extra.values():
            if len(column) < self.pending:
                column.append(None)
        if self.pending >= self.chunk:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        for store, parts in ((self.buffer, self.parts), (self.extra, self.extra_parts)):
            for name, values in store.items():
                parts[name].append(pd.Series(values))
                store[name] = []
        self.pending = 0

    def column(self, name: str, extra: bool = False) -> pd.Series:
        parts = (self.extra_parts if extra else self.parts).pop(name)
        done = sum(len(p) for p in parts)
        if done < self.n:  # a late column: None for the chunks before it appeared
            parts = [pd.Series([None] * (self.n - done))] + parts
        if len(parts) == 1:
            return parts[0]
        joined = pd.concat(parts, ignore_index=True)
        if len({str(p.dtype) for p in parts}) > 1:
            joined = pd.Series(joined.tolist())
        return joined

    def frame(self, extra_order: list[str] | None = None, prefix: str = "") -> pd.DataFrame:
        """The frame: the named columns, then the late ones (in ``extra_order``, or as they came)
        under ``prefix`` + their name. With no rows, the same empty (object) frame as from no records."""
        self.flush()
        if not self.n:
            return pd.DataFrame([], columns=self.names)
        frame = pd.DataFrame({n: self.column(n) for n in self.names}, columns=self.names)
        for key in (extra_order if extra_order is not None else list(self.extra)):
            frame[prefix + key] = self.column(key, extra=True)
        return frame


def compact(frame: pd.DataFrame, categories: list[str]) -> pd.DataFrame:
    """The same values in less memory: ``categories`` (a few distinct labels repeated on every row) as
    pandas categoricals, one byte a row instead of a string each; 64-bit integer columns (sentence
    indexes, offsets) as 32-bit. Groupings see the same groups (only observed categories).

    >>> f = compact(pd.DataFrame({"theme": ["a", "b", None], "start": [0, 5, 9]}), ["theme"])
    >>> str(f["theme"].dtype), str(f["start"].dtype), f["theme"].tolist()[:2]
    ('category', 'int32', ['a', 'b'])
    """
    for name in categories:
        if name in frame and len(frame):
            frame[name] = frame[name].astype("category")
    for name in frame.columns:
        if frame[name].dtype == np.int64 and len(frame) and frame[name].abs().max() < 2**31:
            frame[name] = frame[name].astype(np.int32)
    return frame


def share_ids(comments: pd.DataFrame, *frames: pd.DataFrame) -> None:
    """Store the comment ids of ``comments`` (``id``) and of the other frames (``comment_id``) as one
    categorical: each row holds a 4-byte code into one sorted list of ids instead of its own copy of
    the id, and joins between the frames compare codes. Values, order and groups are unchanged (the
    categories are sorted as the strings sort). In place.

    >>> c = pd.DataFrame({"id": ["b", "a"]}); m = pd.DataFrame({"comment_id": ["a", "a", "b"]})
    >>> share_ids(c, m); str(m["comment_id"].dtype), m["comment_id"].cat.codes.tolist(), c["id"].tolist()
    ('category', [0, 0, 1], ['b', 'a'])
    """
    ids = pd.CategoricalDtype(sorted(comments["id"].dropna().unique()))
    comments["id"] = comments["id"].astype(ids)
    for frame in frames:
        if "comment_id" in frame and len(frame):
            frame["comment_id"] = frame["comment_id"].astype(ids)


def undated_sources(store: Store) -> list[str]:
    """The sources whose comments carry no date at all (an export without a date column): a report files
    their comments under the day they were collected (:func:`report_date`). A comment without a date from a
    source that dates the others (an empty cell) stays out of the periods, as before: filing it under the
    ingest day would open a period of its own, years after the rest of the export."""
    c = t.comments.c
    query = sa.select(c.source).group_by(c.source).having(sa.func.count(c.created_at) == 0).order_by(c.source)
    return [r["source"] for r in store.query(query)]


def report_date(undated: Sequence[str]) -> sa.ColumnElement:
    """The date a report files a comment under: its own date, or when it was collected (ingested) if it
    comes from one of the ``undated`` sources (:func:`undated_sources`). A weekly export without a date
    column is that week's feedback; before, its comments fell outside every period and a report of them had
    no themes at all."""
    c = t.comments.c
    if not undated:
        return c.created_at
    return sa.func.coalesce(c.created_at, sa.case((c.source.in_(list(undated)), c.ingested_at), else_=None),
                            type_=c.created_at.type)


IdRange = tuple[str | None, str | None]  # comment ids ``[first, stop)``, None: open; see :func:`id_chunks`


def _bounded(query: sa.Select, since: datetime | None, until: datetime | None, undated: Sequence[str],
             ids: IdRange | None = None, id_column: sa.ColumnElement | None = None) -> sa.Select:
    """``query`` limited to comments whose :func:`report_date` is in ``[since, until)``, written as two
    branches (dated by ``created_at``, undated by ``ingested_at``) so the ``created_at`` index still serves;
    ``ids``: and to comment ids in that range (a chunk of the report's comments), on ``id_column`` (the
    comment id of the table the query reads, so that its comment-id index serves the chunk: default, the
    comments' primary key)."""
    c = t.comments.c
    if ids is not None:
        first, stop = ids
        key = c.id if id_column is None else id_column
        query = query.where(*([key >= first] if first is not None else []), *([key < stop] if stop is not None else []))
    if since is None and until is None:
        return query

    def within(column: sa.ColumnElement) -> sa.ColumnElement:
        parts = ([column >= since] if since is not None else []) + ([column < until] if until is not None else [])
        return sa.and_(*parts)

    if not undated:
        return query.where(within(c.created_at))
    return query.where(sa.or_(within(c.created_at), sa.and_(c.created_at.is_(None), c.source.in_(list(undated)),
                                                            within(c.ingested_at))))


def id_chunks(store: Store, since: datetime | None, until: datetime | None, undated: Sequence[str],
              size: int) -> tuple[int, list[IdRange]]:
    """The number of comments in the range and their ids cut into ranges of ``size`` comments each (the
    last may hold fewer), in id order: a report too large to hold at once reads one range at a time. One
    range, ``(None, None)``, when they fit in one. Reads only the primary key, in one ordered scan."""
    c = t.comments.c
    count, cuts = 0, []
    for r in _rows(store, _bounded(sa.select(c.id).order_by(c.id), since, until, undated)):
        if count and count % size == 0:
            cuts.append(r.id)
        count += 1
    bounds = [None, *cuts, None]
    return count, list(pairwise(bounds))


def _data(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return json.loads(value) if value else {}


def _layer_is(layer: str, ids: IdRange | None) -> sa.ColumnElement:
    """``annotations.layer == layer``; for a chunk of comment ids, written so that no index on the layer
    can serve it (``layer || ''``): SQLite would otherwise read every annotation of the layer in the store
    for each chunk (its layer index, an equality, wins over the comment-id range), and a report of many
    chunks would cost chunks x annotations. The comment-id index then reads the chunk's rows alone."""
    column = t.annotations.c.layer
    if ids is None or ids == (None, None):
        return column == layer
    return column.concat("") == layer


def _layer_query(layer: str, columns: list[Any], since: datetime | None, until: datetime | None,
                 undated: Sequence[str], comment_level: bool | None = None, ids: IdRange | None = None) -> sa.Select:
    """Annotations of one layer (comment-level only, sentence-level only, or both) for comments
    in the date range."""
    a = t.annotations.c
    query = sa.select(*columns).join(t.comments, t.comments.c.id == a.comment_id).where(_layer_is(layer, ids))
    if comment_level is True:
        query = query.where(a.sentence_idx.is_(None))
    elif comment_level is False:
        query = query.where(a.sentence_idx.is_not(None))
    return _bounded(query, since, until, undated, ids, a.comment_id)


def _scalar(value: Any) -> Any:
    """Metadata values as groupable scalars: lists and objects become their JSON text."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def comment_frame(store: Store, since: datetime | None = None, until: datetime | None = None,
                  interner: Interner | None = None, undated: Sequence[str] | None = None,
                  ids: IdRange | None = None) -> pd.DataFrame:
    """One row per stored comment with its comment-level tags (NaN when not analysed).

    ``created_at`` is :func:`report_date` (the comment's date, else its ingest time when its source gives
    no dates: ``undated``, default :func:`undated_sources`) and ``dated`` says whether the export gave the
    date; ``since``/``until`` bound ``created_at`` (half-open; a comment without either is kept only when no
    bounds are given). ``interner`` shares repeated values with later frames.
    """
    c = t.comments.c
    same = interner if interner is not None else Interner()
    undated = undated_sources(store) if undated is None else undated
    senti, compl = t.annotations.alias("senti"), t.annotations.alias("compl")
    query = (sa.select(c.id, c.text, report_date(undated).label("created_at"), c.created_at.is_not(None).label("dated"),
                       c.source, c.channel, c.rating, c.rating_scale, c.meta,
                       senti.c.label.label("s_label"), senti.c.score.label("s_score"),
                       compl.c.label.label("k_label"), compl.c.data.label("k_data"))
             .outerjoin(senti, sa.and_(senti.c.comment_id == c.id, t.layer_in(senti, "sentiment"),
                                       senti.c.sentence_idx.is_(None)))
             .outerjoin(compl, sa.and_(compl.c.comment_id == c.id, t.layer_in(compl, "complaint"),
                                       compl.c.sentence_idx.is_(None)))
             .order_by(c.id))
    names = [n for n in COLUMNS if n != "meta"]
    built = Columns(names)
    for r in _rows(store, _bounded(query, since, until, undated, ids)):  # the comment-level tags by index lookups
        complaint = None if r.k_label is None else r.k_label == "complaint"
        priority = same(_data(r.k_data).get("priority")) if r.k_label is not None else None
        built.add((r.id, r.text, r.created_at, bool(r.dated), same(r.source), same(r.channel), r.rating,
                   r.rating_scale, same(r.s_label), r.s_score, complaint, priority),
                  {key: same(_scalar(value)) for key, value in _data(r.meta).items()})
    built.flush()
    frame = built.frame(sorted(built.extra), prefix="meta.")
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


def mention_frame(store: Store, since: datetime | None = None, until: datetime | None = None,
                  interner: Interner | None = None, undated: Sequence[str] | None = None,
                  ids: IdRange | None = None) -> pd.DataFrame:
    """One row per (sentence, theme) with the sentence's sentiment and the cause found."""
    a = t.annotations.c
    same = interner if interner is not None else Interner()
    undated = undated_sources(store) if undated is None else undated
    senti = t.annotations.alias("senti")
    query = (sa.select(a.comment_id, a.sentence_idx, a.label, a.score, a.span_start, a.span_end, a.data,
                       senti.c.label.label("s_label"), senti.c.score.label("s_score"))
             .join(t.comments, t.comments.c.id == a.comment_id).where(_layer_is("theme", ids))
             .outerjoin(senti, sa.and_(senti.c.comment_id == a.comment_id, senti.c.sentence_idx == a.sentence_idx,
                                       t.layer_in(senti, "sentiment"))))
    built = Columns(MENTION_COLUMNS)
    for r in _rows(store, _bounded(query, since, until, undated, ids, a.comment_id)):  # each mention's sentence sentiment by index lookup
        d = _data(r.data)
        built.add((r.comment_id, r.sentence_idx, same(r.label), same(d.get("label", r.label)), r.score,
                   same(d.get("cause")), same(d.get("cause_label")), r.span_start, r.span_end,
                   d.get("cause_evidence"), same(r.s_label), r.s_score))
    frame = built.frame()
    frame = frame.sort_values(["comment_id", "sentence_idx", "theme"], kind="stable").reset_index(drop=True)
    return compact(frame, ["theme", "theme_label", "cause", "cause_label"])


def need_frame(store: Store, since: datetime | None = None, until: datetime | None = None,
               sentences: pd.DataFrame | None = None, interner: Interner | None = None,
               undated: Sequence[str] | None = None, ids: IdRange | None = None) -> pd.DataFrame:
    """One row per need sentence: the statement, score, whether a need cue was explicit, and the
    sentence's text hash (from ``sentences``, a :func:`sentence_frame` of the same range, when given)."""
    a = t.annotations.c
    same = interner if interner is not None else Interner()
    undated = undated_sources(store) if undated is None else undated
    found = [(same(r.comment_id), r.sentence_idx, r.label, r.score, r.span_start, r.span_end,
              bool(_data(r.data).get("cues"))) for r in _rows(store, _layer_query(
                  "need", [a.comment_id, a.sentence_idx, a.label, a.score, a.span_start, a.span_end, a.data],
                  since, until, undated, ids=ids))]
    hashes = {}
    if found:
        if sentences is None:
            sentences = sentence_frame(store, since, until, interner=same, undated=undated, ids=ids)
        wanted = {(r[0], r[1]) for r in found}
        hashes = {key: h for key, h in zip(zip(sentences["comment_id"], sentences["idx"]), sentences["text_hash"])
                  if key in wanted}
    rows = [[*r, hashes.get((r[0], r[1]))] for r in found]
    frame = pd.DataFrame(rows, columns=NEED_COLUMNS)
    return frame.sort_values(["comment_id", "sentence_idx"], kind="stable").reset_index(drop=True)


def language_tags(store: Store, since: datetime | None = None, until: datetime | None = None,
                  undated: Sequence[str] | None = None, ids: IdRange | None = None) -> dict[str, str]:
    """Comment id -> language code, for the comments in the range that are surely not in English (the
    ``language`` layer of ``language.langid.v1``)."""
    a = t.annotations.c
    undated = undated_sources(store) if undated is None else undated
    query = _layer_query("language", [a.comment_id, a.label], since, until, undated, comment_level=True, ids=ids)
    return {r.comment_id: r.label for r in _rows(store, query)}


def language_counts(codes: Iterable[str]) -> dict[str, int]:
    """Comments per language code (the values of :func:`language_tags`, of one or more chunks), most first.

    >>> language_counts(["fr", "es", "fr"])
    {'fr': 2, 'es': 1}
    """
    counts: dict[str, int] = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def sentence_frame(store: Store, since: datetime | None = None, until: datetime | None = None,
                   interner: Interner | None = None, undated: Sequence[str] | None = None,
                  ids: IdRange | None = None) -> pd.DataFrame:
    """Every stored sentence: comment id, index, span and text hash."""
    s = t.sentences.c
    same = interner if interner is not None else Interner()
    undated = undated_sources(store) if undated is None else undated
    query = (sa.select(s.comment_id, s.idx, s.start, s.end, s.text_hash)
             .join(t.comments, t.comments.c.id == s.comment_id).order_by(s.comment_id, s.idx))
    names = ["comment_id", "idx", "start", "end", "text_hash"]
    built = Columns(names)
    for r in _rows(store, _bounded(query, since, until, undated, ids)):
        built.add((r.comment_id, r.idx, r.start, r.end, r.text_hash))
    return compact(built.frame(), [])


class StoredVectors(Mapping[str, np.ndarray]):
    """Sentence vectors read from the store's cache (one encoder's) when first asked for, so a report
    holds the vectors its figures use (a capped sample of sentences, see :data:`MAX_SENTENCES`), not one
    per sentence in the range. :meth:`load` fetches many in one go; ``h in vectors`` and
    ``vectors[h]`` fetch one that was not loaded. Iteration covers the loaded vectors only. False
    when the store has no vectors (``encoder`` None)."""

    def __init__(self, store: Store, encoder: str | None) -> None:
        self.store, self.encoder = store, encoder
        self.known: dict[str, np.ndarray | None] = {}

    def load(self, hashes: Iterable[Any]) -> None:
        from ..storage.vectors import VectorCache

        missing = sorted({h for h in hashes if isinstance(h, str) and h not in self.known})
        if not missing:
            return
        found = VectorCache(self.store, self.encoder).get(missing) if self.encoder else {}
        self.known.update({h: found.get(h) for h in missing})

    def __contains__(self, h: object) -> bool:
        if not isinstance(h, str):
            return False
        self.load([h])
        return self.known[h] is not None

    def __getitem__(self, h: str) -> np.ndarray:
        if h not in self:
            raise KeyError(h)
        return self.known[h]  # type: ignore[return-value]

    def __iter__(self) -> Iterator[str]:
        return (h for h, v in self.known.items() if v is not None)

    def __len__(self) -> int:
        return sum(v is not None for v in self.known.values())

    def __bool__(self) -> bool:
        return self.encoder is not None


def load_vectors(vectors: Mapping[str, np.ndarray], hashes: Iterable[Any]) -> None:
    """Fetch ``hashes`` in one go when ``vectors`` reads from the store (a plain dict has them all)."""
    if isinstance(vectors, StoredVectors):
        vectors.load(hashes)


# The most sentences a report's vector figures read: emerging topics cluster a sample of this many of
# the sentences no theme covers, a theme's quotes are chosen among this many of its mentions, and need
# statements are grouped on a sample of this many (the others join their nearest sampled statement's
# group; grouping compares every pair). A uniform sample: the smallest text hashes. Below the caps (the
# demo: 1,600 free sentences, 300 needs) nothing changes.
MAX_SENTENCES = {"emerging": 50_000, "quotes": 2_000, "needs": 3_000, "background": 1_500}


def sample_rows(rows: pd.DataFrame, limit: int) -> pd.DataFrame:
    """At most ``limit`` rows, a deterministic uniform sample (by text hash), in their own order.

    >>> f = pd.DataFrame({"text_hash": ["c", "a", "b"]})
    >>> sample_rows(f, 2)["text_hash"].tolist(), len(sample_rows(f, 5))
    (['a', 'b'], 3)
    """
    if len(rows) <= limit:
        return rows
    return rows.sort_values("text_hash", kind="stable").head(limit).sort_index()


def lazy_vectors(store: Store, hashes: Iterable[Any], prefer: str | None = None, probe: int = 5_000) -> StoredVectors:
    """:class:`StoredVectors` of the encoder that covers most of ``hashes`` (judged on up to ``probe``
    of them, the smallest); ``prefer`` wins a tie (see :func:`stored_vectors`). A store without any
    vector (the lexicon pipeline's) is answered without looking at the hashes."""
    e = t.encodings.c
    with store.engine.connect() as conn:
        if conn.execute(sa.select(e.text_hash).limit(1)).first() is None:
            return StoredVectors(store, None)
    wanted = sorted({h for h in hashes if isinstance(h, str)})[:probe]
    counts: dict[str, int] = {}
    with store.engine.connect() as conn:
        for i in range(0, len(wanted), 500):
            query = (sa.select(e.encoder, sa.func.count()).where(e.text_hash.in_(wanted[i:i + 500]))
                     .group_by(e.encoder))
            for encoder, count in conn.execute(query):
                counts[encoder] = counts.get(encoder, 0) + int(count)
    if not counts:
        return StoredVectors(store, None)
    return StoredVectors(store, max(sorted(counts), key=lambda k: (counts[k], k == prefer)))


def stored_vectors(store: Store, hashes: list[str], prefer: str | None = None) -> dict[str, np.ndarray]:
    """Sentence vectors for ``hashes`` from the store's cache, from the encoder that covers most of them;
    ``prefer`` (the configured shared model's key) wins a tie, as when its sentiment companion's
    vectors sit beside its own.

    Empty when the comments were analysed without an encoder (the lexicon pipeline).
    """
    vectors = lazy_vectors(store, hashes, prefer, probe=len(hashes))
    vectors.load(hashes)
    return dict(vectors)
