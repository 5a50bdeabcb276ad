"""Retention: delete customer text older than ``Settings.retention_days``, with everything derived from it.

A comment is old when its ``created_at`` is before the cutoff, or, having no date, when it was
ingested before the cutoff. With it go its sentences, annotations, analysis record, triage case
and the case's history, triagers' labels, its place in work units, and the sentence vectors no
remaining comment uses (the ``encodings`` cache is keyed by text hash, so a vector shared with a
kept sentence stays). Runs that started before the cutoff keep their ledger rows (the counts
still add up) but lose the customer text in them: a reject reason keeps only its kind
(``unparseable date '31/02/2026'`` -> ``unparseable date``), reject examples are dropped from
the run's counts and an error keeps only its type. Quarantine files (the raw rejected rows) and
report files written before the cutoff are deleted.

On SQLite the deletes run with ``secure_delete`` on, then the full-text index is optimised and
the write-ahead log truncated, so deleted text does not linger in free pages; PostgreSQL frees
dead rows at its next VACUUM.

>>> from voiceminer.config import Settings
>>> from voiceminer.storage import Store
>>> apply_retention(Store.open("sqlite://"), Settings(data_dir="/tmp/vm-doc"))["cutoff"] is None
True
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import schema as t
from .store import Store, _chunks, as_utc, utcnow

if TYPE_CHECKING:
    from ..config import Settings

COUNTED = ("comments", "sentences", "annotations", "analyses", "cases", "case_events", "labels",
           "work_unit_comments", "encodings", "ledger_reasons", "runs_scrubbed", "quarantine_files",
           "report_files")
# Tables keyed by comment id, in delete order (children before parents, cases after their history).
BY_COMMENT = (("annotations", t.annotations), ("sentences", t.sentences), ("analyses", t.analyses),
              ("labels", t.labels), ("work_unit_comments", t.work_unit_comments))
FILE_SUFFIXES = (".csv", ".json", ".jsonl", ".html", ".md", ".xlsx")


def apply_retention(store: Store, settings: "Settings", now: datetime | None = None, *,
                    dry_run: bool = False) -> dict[str, Any]:
    """Delete what is older than ``settings.retention_days`` (nothing when it is 0) and return the
    counts per kind of thing, with the cutoff; ``dry_run`` counts without changing anything."""
    counts = dict.fromkeys(COUNTED, 0)
    result: dict[str, Any] = {"retention_days": settings.retention_days, "cutoff": None, "dry_run": dry_run,
                              "counts": counts}
    if settings.retention_days <= 0:
        return result
    now = as_utc(now) or utcnow()
    cutoff = now - timedelta(days=settings.retention_days)
    result["cutoff"] = cutoff.isoformat()
    if dry_run:
        return _delete_old(store, settings, cutoff, result)
    run_id = store.begin_run("retention", {"retention_days": settings.retention_days, "cutoff": result["cutoff"]})
    try:
        _delete_old(store, settings, cutoff, result)
    except BaseException as exc:
        store.finish_run(run_id, "failed", result, error=type(exc).__name__)
        raise
    store.finish_run(run_id, "completed", result)
    return result


def _delete_old(store: Store, settings: "Settings", cutoff: datetime, result: dict[str, Any]) -> dict[str, Any]:
    counts, dry_run = result["counts"], result["dry_run"]
    hashes: set[str] = set()
    for chunk in _chunks(old_comment_ids(store, cutoff), 500):
        with store.engine.begin() as conn:
            _secure_delete(conn, dry_run)
            hashes |= _delete_comments(conn, chunk, counts, dry_run)
    with store.engine.begin() as conn:
        _secure_delete(conn, dry_run)
        counts["encodings"] = _drop_unused_vectors(conn, hashes, cutoff, dry_run)
        counts["ledger_reasons"], counts["runs_scrubbed"] = _scrub_old_runs(conn, cutoff, dry_run)
    counts["quarantine_files"] = _old_files(settings.quarantine_dir, cutoff, dry_run)
    counts["report_files"] = _old_files(settings.reports_dir, cutoff, dry_run)
    if not dry_run and (counts["comments"] or counts["ledger_reasons"]):
        _compact_sqlite(store)
    return result


def _is_old(cutoff: datetime) -> Any:
    c = t.comments.c
    return sa.or_(c.created_at < cutoff, sa.and_(c.created_at.is_(None), c.ingested_at < cutoff))


def old_comment_ids(store: Store, cutoff: datetime) -> list[str]:
    """Ids of comments dated before ``cutoff``, or undated and ingested before it."""
    query = sa.select(t.comments.c.id).where(_is_old(cutoff)).order_by(t.comments.c.id)
    with store.engine.connect() as conn:
        return [r.id for r in conn.execute(query)]


def _secure_delete(conn: Connection, dry_run: bool) -> None:
    if not dry_run and conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete=ON")


def _count(conn: Connection, table: sa.Table, where: Any) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar_one())


def _delete_comments(conn: Connection, ids: list[str], counts: dict[str, int], dry_run: bool) -> set[str]:
    """Delete these comments and their dependants explicitly (so nothing relies on the foreign-key
    pragma); returns the text hashes their sentences and texts had."""
    s, c = t.sentences.c, t.comments.c
    hashes = {h for (h,) in conn.execute(sa.select(s.text_hash).where(s.comment_id.in_(ids)))}
    hashes |= {h for (h,) in conn.execute(sa.select(c.text_hash).where(c.id.in_(ids)))}
    case_ids = [i for (i,) in conn.execute(sa.select(t.cases.c.id).where(t.cases.c.comment_id.in_(ids)))]
    steps: list[tuple[str, sa.Table, Any]] = [
        ("case_events", t.case_events, t.case_events.c.case_id.in_(case_ids))]
    steps += [(name, table, table.c.comment_id.in_(ids)) for name, table in BY_COMMENT]
    steps += [("cases", t.cases, t.cases.c.id.in_(case_ids)), ("comments", t.comments, c.id.in_(ids))]
    for name, table, where in steps:
        counts[name] += _count(conn, table, where)
        if not dry_run:
            conn.execute(table.delete().where(where))
    return hashes


def _drop_unused_vectors(conn: Connection, hashes: set[str], cutoff: datetime, dry_run: bool) -> int:
    """Vectors of the deleted texts that no remaining (not old) sentence or comment shares."""
    if not hashes:
        return 0
    kept = sa.select(t.comments.c.id).where(sa.not_(_is_old(cutoff)))
    used = sa.union(sa.select(t.sentences.c.text_hash).where(t.sentences.c.comment_id.in_(kept)),
                    sa.select(t.comments.c.text_hash).where(t.comments.c.id.in_(kept))).subquery()
    dropped = 0
    for chunk in _chunks(sorted(hashes), 500):
        h = t.encodings.c.text_hash
        where = sa.and_(h.in_(chunk), h.not_in(sa.select(used.c[0])))
        dropped += _count(conn, t.encodings, where)
        if not dry_run:
            conn.execute(t.encodings.delete().where(where))
    return dropped


def _scrub_old_runs(conn: Connection, cutoff: datetime, dry_run: bool) -> tuple[int, int]:
    """Reject reasons of runs started before ``cutoff`` keep only their kind; those runs' reject
    examples and error details are dropped. Returns (ledger rows changed, runs changed)."""
    from ..jobs import reason_kind

    old_runs = sa.select(t.runs.c.id).where(t.runs.c.started_at < cutoff)
    led = t.ingest_ledger
    rows = conn.execute(sa.select(led.c.id, led.c.reason)
                        .where(led.c.run_id.in_(old_runs), led.c.reason.is_not(None)))
    changed = [(i, reason_kind(r)) for i, r in rows if reason_kind(r) != r]
    if not dry_run:
        for i, kind in changed:
            conn.execute(led.update().where(led.c.id == i).values(reason=kind))
    runs = 0
    query = sa.select(t.runs.c.id, t.runs.c.counts, t.runs.c.error).where(t.runs.c.id.in_(old_runs))
    for run in conn.execute(query):
        counts, error = _without_examples(run.counts or {}), _error_kind(run.error)
        if counts != (run.counts or {}) or error != run.error:
            runs += 1
            if not dry_run:
                conn.execute(t.runs.update().where(t.runs.c.id == run.id).values(counts=counts, error=error))
    return len(changed), runs


def _without_examples(value: Any) -> Any:
    """A run's counts without ``reject_examples`` (which quote rejected rows), at any depth.

    >>> _without_examples({"ingest": {"rows": 2, "reject_examples": {"bad date": "a.csv line 2: ..."}}})
    {'ingest': {'rows': 2}}
    """
    if isinstance(value, dict):
        return {k: _without_examples(v) for k, v in value.items() if k != "reject_examples"}
    return value


def _error_kind(error: str | None) -> str | None:
    """``"InputError: a.csv line 3: 'jo@x.com'"`` -> ``"InputError"``."""
    if error is None:
        return None
    return re.split(r"[:\n]", error, maxsplit=1)[0].strip()[:200]


def _old_files(folder: Path, cutoff: datetime, dry_run: bool) -> int:
    """Delete the data files directly in ``folder`` written before ``cutoff`` (by the run id's
    timestamp in the name when it has one, otherwise the modification time)."""
    if not folder.is_dir():
        return 0
    n = 0
    for path in folder.iterdir():
        if path.is_file() and path.suffix.lower() in FILE_SUFFIXES and _written_at(path) < cutoff:
            n += 1
            if not dry_run:
                path.unlink(missing_ok=True)
    return n


def _written_at(path: Path) -> datetime:
    modified = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
    m = re.match(r"(\d{8}T\d{6})-", path.name)  # quarantine/<run_id>.csv; run ids start with their UTC time
    if m:
        return min(modified, datetime.strptime(m.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=timezone.utc))
    return modified


def _compact_sqlite(store: Store) -> None:
    """Merge the full-text index (so deleted texts leave it) and truncate the write-ahead log."""
    if store.engine.dialect.name != "sqlite":
        return
    with store.engine.begin() as conn:
        has_fts = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'comments_fts'").first()
        if has_fts:
            conn.exec_driver_sql("PRAGMA secure_delete=ON")
            conn.exec_driver_sql("INSERT INTO comments_fts(comments_fts) VALUES ('optimize')")
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
