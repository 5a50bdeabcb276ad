"""The Store: every piece of job state lives here, not in memory.

SQLite (WAL mode) by default; PostgreSQL given a ``postgresql+psycopg://`` URL.
Every write that belongs together happens in one transaction, so a job that
dies midway leaves whole batches behind and a rerun finishes the rest.

>>> store = Store.open("sqlite://")          # in-memory, for examples
>>> run = store.begin_run("ingest", {})
>>> store.ingest_batch(run, []).as_dict()
{'rows': 0, 'stored': 0, 'duplicate': 0, 'rejected': 0}
"""

from __future__ import annotations

import ast
import functools
import os
import re
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..errors import StoreError
from ..types import Annotation, Comment, IngestCounts, Reject, RunRecord, Sentence, text_hash
from . import schema as t

MIGRATIONS = Path(__file__).with_name("migrations")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything stored is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class AnalysisResult:
    """What the pipeline produced for one comment."""

    comment_id: str
    sentences: tuple[Sentence, ...]
    annotations: tuple[Annotation, ...]


class Store:
    """Typed access to the database. Create with :meth:`open`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- lifecycle -----------------------------------------------------------
    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> "Store":
        """Connect, enable WAL on SQLite, and bring the schema to the newest migration."""
        engine = _make_engine(url)
        store = cls(engine)
        if migrate:
            store.migrate()
        return store

    def migrate(self) -> None:
        """Bring the schema to the newest migration; a store already there is left as it is without
        loading Alembic (a tenth of a second, a good part of a rerun that has nothing to do)."""
        if self._at_head():
            return
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except sa.exc.OperationalError as exc:
            raise StoreError(f"cannot open the store at {_safe_url(self.engine)}: {exc.orig}") from None

    def _at_head(self) -> bool:
        """Whether the store's revision is the newest migration's (:func:`head_revision`); False when
        that is unknown (no revision table yet, or migration files this does not read), so that
        Alembic decides."""
        head = head_revision()
        if head is None:
            return False
        try:
            return self.schema_revision() == head
        except sa.exc.DBAPIError:  # no alembic_version table (a new store), or the database is unreachable
            return False

    def schema_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()

    def close(self) -> None:
        self.engine.dispose()

    # -- runs ----------------------------------------------------------------
    def begin_run(self, kind: str, params: dict[str, Any]) -> str:
        """Record a new run; runs of dead processes on this host are marked interrupted."""
        self._mark_dead_runs()
        run_id = f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        params = {**params, "_host": socket.gethostname(), "_pid": os.getpid()}
        with self.engine.begin() as conn:
            conn.execute(t.runs.insert().values(id=run_id, kind=kind, status="running",
                                                started_at=utcnow(), params=params, counts={}))
        return run_id

    def finish_run(self, run_id: str, status: str, counts: dict[str, Any], error: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.runs.update().where(t.runs.c.id == run_id).values(
                status=status, finished_at=utcnow(), counts=counts, error=error))

    def get_run(self, run_id: str) -> RunRecord:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.runs).where(t.runs.c.id == run_id)).mappings().first()
        if row is None:
            raise StoreError(f"no run with id {run_id!r}")
        return _run_record(row)

    def recent_runs(self, limit: int = 10) -> list[RunRecord]:
        query = sa.select(t.runs).order_by(t.runs.c.started_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_run_record(r) for r in conn.execute(query).mappings()]

    def _mark_dead_runs(self) -> None:
        host = socket.gethostname()
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(t.runs.c.id, t.runs.c.params).where(t.runs.c.status == "running"))
            dead = [r.id for r in rows if (r.params or {}).get("_host") == host
                    and not _pid_alive((r.params or {}).get("_pid"))]
            if dead:
                conn.execute(t.runs.update().where(t.runs.c.id.in_(dead)).values(status="interrupted"))

    # -- ingestion -----------------------------------------------------------
    def ingest_batch(self, run_id: str, items: Sequence[Comment | Reject]) -> IngestCounts:
        """Store new comments and write one ledger row per item, in one transaction."""
        counts = IngestCounts(rows=len(items))
        ids = [i.id for i in items if isinstance(i, Comment)]
        now = utcnow()
        with self.engine.begin() as conn:
            write_lock(conn, _INGEST_LOCK)  # two jobs ingesting the same rows: the second sees the first's
            existing = self._existing_texts(conn, ids)
            new_rows, ledger = [], []
            for item in items:
                if isinstance(item, Reject):
                    counts.rejected += 1
                    ledger.append(_ledger(run_id, item.source_file, item.line, "rejected", None,
                                          item.field, item.reason))
                elif item.id in existing:
                    counts.duplicate += 1
                    note = None if existing[item.id] == text_hash(item.text) else "same id, different text"
                    ledger.append(_ledger(run_id, item.source_file or "", item.source_line or 0,
                                          "duplicate", item.id, None, note))
                else:
                    counts.stored += 1
                    existing[item.id] = text_hash(item.text)
                    new_rows.append(_comment_row(item, run_id, now))
                    ledger.append(_ledger(run_id, item.source_file or "", item.source_line or 0,
                                          "stored", item.id, None, None))
            if new_rows:
                conn.execute(t.comments.insert(), new_rows)
            if ledger:
                conn.execute(t.ingest_ledger.insert(), ledger)
        return counts

    @staticmethod
    def _existing_texts(conn: Connection, ids: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in _chunks(sorted(set(ids)), 500):
            query = sa.select(t.comments.c.id, t.comments.c.text_hash).where(t.comments.c.id.in_(chunk))
            found.update({r.id: r.text_hash for r in conn.execute(query)})
        return found

    def ledger_counts(self, run_id: str | None = None) -> dict[str, int]:
        query = sa.select(t.ingest_ledger.c.outcome, sa.func.count()).group_by(t.ingest_ledger.c.outcome)
        if run_id is not None:
            query = query.where(t.ingest_ledger.c.run_id == run_id)
        with self.engine.connect() as conn:
            found = dict(conn.execute(query).all())
        return {k: int(found.get(k, 0)) for k in ("stored", "duplicate", "rejected")}

    def input_rows_summary(self) -> dict[str, int]:
        """Distinct input rows (file, line) ever seen, by their best outcome.

        A row stored once and seen again as a duplicate counts as stored, so the
        figures do not change when a job is rerun on the same exports.
        """
        led = t.ingest_ledger.c
        best = (sa.select(sa.func.max(led.outcome).label("outcome"))  # stored > rejected > duplicate
                .group_by(led.source_file, led.line).subquery())
        query = sa.select(best.c.outcome, sa.func.count()).group_by(best.c.outcome)
        with self.engine.connect() as conn:
            found = dict(conn.execute(query).all())
        return {k: int(found.get(k, 0)) for k in ("stored", "duplicate", "rejected")}

    def rejects(self, run_id: str) -> list[dict[str, Any]]:
        query = (sa.select(t.ingest_ledger).where(t.ingest_ledger.c.run_id == run_id,
                                                  t.ingest_ledger.c.outcome == "rejected")
                 .order_by(t.ingest_ledger.c.id))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # -- analysis ------------------------------------------------------------
    def pending_comments(self, pipeline: str, batch_size: int) -> Iterator[list[Comment]]:
        """Batches of comments whose latest analysis is not by ``pipeline`` (keyset-paginated)."""
        last = ""
        while True:
            query = (
                sa.select(t.comments)
                .outerjoin(t.analyses, t.analyses.c.comment_id == t.comments.c.id)
                .where(t.comments.c.id > last)
                .where(sa.or_(t.analyses.c.pipeline.is_(None), t.analyses.c.pipeline != pipeline))
                .order_by(t.comments.c.id).limit(batch_size)
            )
            with self.engine.connect() as conn:
                batch = [_comment(r) for r in conn.execute(query).mappings()]
            if not batch:
                return
            yield batch
            last = batch[-1].id

    def count_pending(self, pipeline: str) -> int:
        query = (sa.select(sa.func.count()).select_from(t.comments)
                 .outerjoin(t.analyses, t.analyses.c.comment_id == t.comments.c.id)
                 .where(sa.or_(t.analyses.c.pipeline.is_(None), t.analyses.c.pipeline != pipeline)))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def save_analysis(self, run_id: str, pipeline: str, results: Sequence[AnalysisResult]) -> None:
        """Replace the sentences and annotations of these comments, atomically."""
        if not results:
            return
        with self.engine.begin() as conn:
            write_analysis(conn, run_id, pipeline, results)

    # -- reading -------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {name: int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
                    for name, table in (("comments", t.comments), ("sentences", t.sentences),
                                        ("annotations", t.annotations), ("analysed", t.analyses),
                                        ("runs", t.runs))}

    def state_marks(self) -> dict[str, Any]:
        """Row counts and latest change times of the tables that reports read: equal marks, equal content.

        Every write there adds rows or moves a timestamp (re-analysis rewrites ``analysed_at``, a case
        change ``updated_at`` and an audit row), so two equal results mean nothing a report shows changed.
        """
        marks: list[Any] = [sa.func.count()]
        with self.engine.connect() as conn:
            out = {}
            for table, stamp in ((t.comments, "ingested_at"), (t.analyses, "analysed_at"), (t.sentences, None),
                                 (t.annotations, None), (t.encodings, None), (t.cases, "updated_at"),
                                 (t.case_events, None), (t.labels, "at")):
                cols = marks + ([sa.func.max(table.c[stamp])] if stamp else [])
                row = conn.execute(sa.select(*cols).select_from(table)).one()
                out[table.name] = [int(row[0])] + [str(as_utc(v)) if v is not None else None for v in row[1:]]
        return out

    def iter_comments(self, since: datetime | None = None, until: datetime | None = None) -> Iterable[Comment]:
        query = sa.select(t.comments).order_by(t.comments.c.id)
        if since is not None:
            query = query.where(t.comments.c.created_at >= since)
        if until is not None:
            query = query.where(t.comments.c.created_at < until)
        with self.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                yield _comment(row)

    def query(self, statement: sa.Select) -> list[dict[str, Any]]:
        """Run a read-only SQLAlchemy select (used by the aggregate layer)."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(statement).mappings()]


# -- helpers -----------------------------------------------------------------
def write_analysis(conn: Connection, run_id: str, pipeline: str, results: Sequence[AnalysisResult]) -> None:
    """Replace the sentences, annotations and analysis rows of these comments inside ``conn``'s transaction."""
    ids = [r.comment_id for r in results]
    if not ids:
        return
    if conn.dialect.name == "postgresql":  # a second writer of these comments waits here, then replaces
        for chunk in _chunks(sorted(ids), 500):  # (SQLite: the DELETE below takes the one write lock)
            conn.execute(sa.select(t.comments.c.id).where(t.comments.c.id.in_(chunk)).order_by(t.comments.c.id)
                         .with_for_update(key_share=True))
    for table in (t.annotations, t.sentences, t.analyses):
        for chunk in _chunks(ids, 500):
            conn.execute(table.delete().where(table.c.comment_id.in_(chunk)))
    sentences = [_sentence_row(s) for r in results for s in r.sentences]
    annotations = [_annotation_row(a, run_id) for r in results for a in r.annotations]
    if sentences:
        conn.execute(t.sentences.insert(), sentences)
    if annotations:
        conn.execute(t.annotations.insert(), annotations)
    now = utcnow()
    conn.execute(t.analyses.insert(), [
        {"comment_id": i, "pipeline": pipeline, "run_id": run_id, "analysed_at": now} for i in ids])


_INGEST_LOCK = 0x766D5F696E676573  # PostgreSQL advisory lock key of ingestion


def write_lock(conn: Connection, key: int) -> None:
    """Hold a write lock until ``conn``'s transaction ends, before its first read: PostgreSQL's advisory
    lock ``key``, or SQLite's one write lock taken up front (the driver would begin the transaction only
    at the first write, after the reads it depends on)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


_REVISION_LINE = re.compile(r"^(revision|down_revision|branch_labels|depends_on)\s*(?::[^=]*)?=\s*(.*?)\s*$",
                            re.MULTILINE)


@functools.cache
def head_revision() -> str | None:
    """The newest migration's revision, read from the migration files as written (``revision = "0006"``,
    ``down_revision = "0005"``), or None where they are not one plain chain (a merge, branch labels,
    dependencies, a line this does not read): then only Alembic can say. A test checks it against
    Alembic's own answer."""
    revisions: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        fields = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        try:
            revision, down = (ast.literal_eval(fields[k]) for k in ("revision", "down_revision"))
            extra = [ast.literal_eval(fields.get(k, "None")) for k in ("branch_labels", "depends_on")]
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(revision, str) or not (down is None or isinstance(down, str)) or any(extra) \
                or revision in revisions:
            return None
        revisions[revision] = down
    heads = set(revisions) - set(revisions.values())
    roots = [r for r, down in revisions.items() if down is None]
    if len(heads) != 1 or len(roots) != 1 or any(d is not None and d not in revisions for d in revisions.values()):
        return None
    return heads.pop()


def _make_engine(url: str) -> Engine:
    try:
        if url.startswith("sqlite"):
            path = url.split("sqlite:///", 1)[1] if "sqlite:///" in url else ""
            if path:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url)
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return sa.create_engine(url, pool_pre_ping=True)
    except (sa.exc.ArgumentError, ModuleNotFoundError) as exc:
        raise StoreError(f"bad database URL {url!r}: {exc}") from None


def insert_ignore(conn: Connection, table: sa.Table) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the connection's dialect (SQLite or PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _ledger(run_id: str, source_file: str, line: int, outcome: str, comment_id: str | None,
            field: str | None, reason: str | None) -> dict[str, Any]:
    return {"run_id": run_id, "source_file": source_file, "line": line, "outcome": outcome,
            "comment_id": comment_id, "field": field, "reason": reason}


def _comment_row(c: Comment, run_id: str, now: datetime) -> dict[str, Any]:
    return {"id": c.id, "text": c.text, "text_hash": text_hash(c.text), "created_at": c.created_at,
            "source": c.source, "channel": c.channel, "rating": c.rating, "rating_scale": c.rating_scale,
            "language": c.language, "meta": dict(c.metadata), "source_file": c.source_file,
            "source_line": c.source_line, "run_id": run_id, "ingested_at": now}


def _comment(row: Any) -> Comment:
    return Comment(id=row["id"], text=row["text"], source=row["source"], created_at=as_utc(row["created_at"]),
                   channel=row["channel"], rating=row["rating"], rating_scale=row["rating_scale"],
                   language=row["language"], metadata=row["meta"] or {}, source_file=row["source_file"],
                   source_line=row["source_line"])


def _sentence_row(s: Sentence) -> dict[str, Any]:
    return {"comment_id": s.comment_id, "idx": s.index, "start": s.start, "end": s.end, "kind": s.kind,
            "text_hash": text_hash(s.text)}


def _annotation_row(a: Annotation, run_id: str) -> dict[str, Any]:
    start, end = a.span if a.span else (None, None)
    return {"comment_id": a.comment_id, "sentence_idx": a.sentence_index, "layer": a.layer, "label": a.label,
            "score": float(a.score), "span_start": start, "span_end": end, "producer": a.producer,
            "producer_version": a.producer_version, "run_id": run_id, "data": dict(a.data)}


def _run_record(row: Any) -> RunRecord:
    return RunRecord(id=row["id"], kind=row["kind"], status=row["status"], started_at=as_utc(row["started_at"]),
                     finished_at=as_utc(row["finished_at"]), params=row["params"] or {},
                     counts=row["counts"] or {}, error=row["error"])
