"""Work a worker can claim: batches of comment ids, each claimed with a lease before it is analysed.

A unit goes ``pending -> claimed -> done``. :meth:`WorkUnits.claim` takes one unit in a single
conditional ``UPDATE ... WHERE id = (first claimable) AND claimable RETURNING`` statement, so two
claimers never get the same unit: SQLite runs the statement under its one write lock, PostgreSQL
locks the row (``FOR UPDATE SKIP LOCKED`` in the subquery, the ``WHERE`` re-checked after a wait).
A claim whose lease has run out is claimable again, and :meth:`WorkUnits.release_dead` hands back
the claims of workers the caller knows are gone. :meth:`WorkUnits.complete` saves a unit's results
and marks it done in one transaction, only while the caller still holds the claim: a worker that lost
its claim (lease expired, unit taken over) saves nothing, so every unit is saved exactly once.

>>> from voiceminer.storage import Store
>>> store = Store.open("sqlite://")
>>> units = WorkUnits(store, "key1")
>>> units.plan(store.begin_run("analyse", {}), 10), units.claim("w1") is None
(0, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..types import Comment
from . import schema as t
from .store import AnalysisResult, Store, _comment, as_utc, utcnow, write_analysis

DEFAULT_LEASE_S = 600.0
_PLAN_LOCK = 0x766D5F756E697473  # PostgreSQL advisory lock key of unit planning
_U = t.work_units.c


@dataclass(frozen=True)
class WorkUnit:
    """One claimed batch of comment ids."""

    id: int
    pipeline: str
    worker: str
    attempts: int
    size: int
    lease_until: datetime


class _LostClaim(Exception):
    pass


class WorkUnits:
    """The work units of one pipeline key in a store."""

    def __init__(self, store: Store, pipeline: str) -> None:
        self.store, self.pipeline = store, pipeline

    def _claimable(self, now: datetime, cols: Any = _U) -> Any:
        return sa.and_(cols.pipeline == self.pipeline, sa.or_(
            cols.status == "pending", sa.and_(cols.status == "claimed", cols.lease_until < now)))

    def plan(self, run_id: str, batch_size: int) -> int:
        """Cut the comments not yet analysed by this key, and not in an open unit, into new units.

        Returns how many units it made; units left open by an earlier (killed) run are kept. Two
        planners never cut the same comment into two open units: each batch is planned under a lock
        (see :func:`_one_planner`).
        """
        made, last = 0, ""
        while True:
            with self.store.engine.begin() as conn:
                _one_planner(conn)
                ids = list(conn.execute(self._unplanned(last, batch_size)).scalars())
                if not ids:
                    return made
                unit_id = conn.execute(t.work_units.insert().values(
                    pipeline=self.pipeline, run_id=run_id, status="pending", attempts=0, size=len(ids),
                    created_at=utcnow())).inserted_primary_key[0]
                conn.execute(t.work_unit_comments.insert(), [{"unit_id": unit_id, "comment_id": i} for i in ids])
            made, last = made + 1, ids[-1]

    def _unplanned(self, last: str, limit: int) -> sa.Select:
        c, a = t.comments.c, t.analyses.c
        in_open_unit = (sa.select(t.work_unit_comments.c.comment_id)
                        .join(t.work_units, t.work_units.c.id == t.work_unit_comments.c.unit_id)
                        .where(t.work_unit_comments.c.comment_id == c.id, _U.pipeline == self.pipeline,
                               _U.status != "done"))
        return (sa.select(c.id).outerjoin(t.analyses, a.comment_id == c.id)
                .where(c.id > last, sa.or_(a.pipeline.is_(None), a.pipeline != self.pipeline),
                       ~in_open_unit.exists())
                .order_by(c.id).limit(limit))

    def claim(self, worker: str, lease_s: float = DEFAULT_LEASE_S) -> WorkUnit | None:
        """Claim the first claimable unit for ``worker`` (None when there is none)."""
        now = utcnow()
        w = t.work_units.alias("w")  # an alias, so the subquery is not correlated with the UPDATE's table
        first = sa.select(w.c.id).where(self._claimable(now, w.c)).order_by(w.c.id).limit(1)
        if self.store.engine.dialect.name == "postgresql":
            first = first.with_for_update(skip_locked=True)
        statement = (t.work_units.update()
                     .where(_U.id == first.scalar_subquery(), self._claimable(now))
                     .values(status="claimed", worker=worker, lease_until=now + timedelta(seconds=lease_s),
                             attempts=_U.attempts + 1)
                     .returning(_U.id, _U.attempts, _U.size, _U.lease_until))
        with self.store.engine.begin() as conn:
            row = conn.execute(statement).first()
        if row is None:
            return None
        return WorkUnit(row.id, self.pipeline, worker, row.attempts, row.size, as_utc(row.lease_until))

    def comments(self, unit: WorkUnit) -> list[Comment]:
        """The unit's comments, in id order."""
        query = (sa.select(t.comments).join(t.work_unit_comments, t.work_unit_comments.c.comment_id == t.comments.c.id)
                 .where(t.work_unit_comments.c.unit_id == unit.id).order_by(t.comments.c.id))
        with self.store.engine.connect() as conn:
            return [_comment(r) for r in conn.execute(query).mappings()]

    def complete(self, unit: WorkUnit, run_id: str, results: Sequence[AnalysisResult]) -> bool:
        """Save the unit's results and mark it done, if ``unit.worker`` still holds it (else save nothing)."""
        mark_done = (t.work_units.update()
                     .where(_U.id == unit.id, _U.status == "claimed", _U.worker == unit.worker)
                     .values(status="done", done_at=utcnow(), lease_until=None))
        try:
            with self.store.engine.begin() as conn:
                if conn.execute(mark_done).rowcount != 1:
                    raise _LostClaim
                write_analysis(conn, run_id, self.pipeline, results)
        except _LostClaim:
            return False
        return True

    def release(self, unit: WorkUnit) -> bool:
        """Hand a claimed unit back to the pool (a worker that failed on it)."""
        statement = (t.work_units.update()
                     .where(_U.id == unit.id, _U.status == "claimed", _U.worker == unit.worker)
                     .values(status="pending", worker=None, lease_until=None))
        with self.store.engine.begin() as conn:
            return conn.execute(statement).rowcount == 1

    def release_dead(self, alive: set[str]) -> int:
        """Hand back every claim of this key held by a worker not in ``alive``; returns how many."""
        query = sa.select(_U.id, _U.worker).where(_U.pipeline == self.pipeline, _U.status == "claimed")
        with self.store.engine.begin() as conn:
            dead = [(r.id, r.worker) for r in conn.execute(query) if r.worker not in alive]
            for unit_id, worker in dead:
                conn.execute(t.work_units.update()
                             .where(_U.id == unit_id, _U.status == "claimed", _U.worker == worker)
                             .values(status="pending", worker=None, lease_until=None))
        return len(dead)

    def counts(self) -> dict[str, int]:
        """Units of this key by status."""
        query = (sa.select(_U.status, sa.func.count()).where(_U.pipeline == self.pipeline).group_by(_U.status))
        with self.store.engine.connect() as conn:
            found = dict(conn.execute(query).all())
        return {k: int(found.get(k, 0)) for k in ("pending", "claimed", "done")}

    def claimable(self) -> int:
        """How many units of this key a worker could claim now."""
        query = sa.select(sa.func.count()).select_from(t.work_units).where(self._claimable(utcnow()))
        with self.store.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def worn_out(self, max_attempts: int) -> int | None:
        """The id of a claimable unit already claimed ``max_attempts`` times without being saved, or None."""
        query = (sa.select(_U.id).where(self._claimable(utcnow()), _U.attempts >= max_attempts)
                 .order_by(_U.id).limit(1))
        with self.store.engine.connect() as conn:
            return conn.execute(query).scalar()

    def next_lease_end(self) -> datetime | None:
        """When the earliest current claim of this key runs out (None: no claims)."""
        query = sa.select(sa.func.min(_U.lease_until)).where(_U.pipeline == self.pipeline, _U.status == "claimed")
        with self.store.engine.connect() as conn:
            return as_utc(conn.execute(query).scalar())


def _one_planner(conn: Any) -> None:
    """Hold the planning lock until the transaction ends: PostgreSQL's advisory lock, or SQLite's write
    lock taken up front (the driver would only begin the transaction at the first INSERT, after the read)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PLAN_LOCK})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def remembered_key(store: Store, fingerprint: str) -> tuple[str, list[str]] | None:
    """The pipeline key and spec last built for ``fingerprint``, or None."""
    query = sa.select(t.pipeline_keys.c.pipeline, t.pipeline_keys.c.spec).where(
        t.pipeline_keys.c.fingerprint == fingerprint)
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return (row.pipeline, list(row.spec)) if row else None


def remember_key(store: Store, fingerprint: str, key: str, spec: Sequence[str]) -> None:
    """Record the key a built pipeline has for ``fingerprint`` (idempotent)."""
    from .store import insert_ignore

    with store.engine.begin() as conn:
        conn.execute(insert_ignore(conn, t.pipeline_keys), [
            {"fingerprint": fingerprint, "pipeline": key, "spec": list(spec), "created_at": utcnow()}])
