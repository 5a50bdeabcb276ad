"""Changing a case: status transitions, assignment, root cause, action and reply.

Every change is checked (role, transition, required fields), written with the version the
writer read (a stale version raises :class:`~voiceminer.errors.ConflictError` carrying the
case as it is now) and recorded field by field in the audit log. A confirmed theme or cause
that differs from the model's is stored as a correction label.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import ConflictError, NotFoundError, PermissionDenied, TriageError
from ..storage import Store
from ..storage import schema as t
from ..storage.store import utcnow
from .cases import CLOSED, OPEN, STATUSES, Case, _event, get_case
from .users import User

MAX_TEXT = 5000


def allowed_transition(old: str, new: str) -> bool:
    """Open cases move forward or close; closed ones can only be reopened (to in_progress).

    >>> allowed_transition("new", "in_progress"), allowed_transition("in_progress", "new")
    (True, False)
    >>> allowed_transition("resolved", "in_progress"), allowed_transition("resolved", "waiting")
    (True, False)
    """
    if old == new:
        return True
    if old in CLOSED:
        return new == "in_progress"
    if new in CLOSED:
        return True
    return new != "new" and OPEN.index(new) >= 1


def update_case(store: Store, case_id: int, user: User, version: int, *, status: str | None = None,
                assignee: str | None = None, team: str | None = None, theme: str | None = None,
                cause: str | None = None, action: str | None = None, reply: str | None = None,
                now: datetime | None = None) -> Case:
    """Apply the given changes (None: leave as is; ``assignee=""``: unassign) as ``user``, who read
    the case at ``version``. Resolving needs a confirmed theme, cause and action."""
    if not user.can("triager"):
        raise PermissionDenied(f"{user.name} is a {user.role}: only triagers and admins can change cases")
    now = now or utcnow()
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(t.cases).where(t.cases.c.id == case_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no case {case_id}")
        if int(row["version"]) != int(version):
            raise ConflictError(f"case {case_id} was changed by someone else (version {row['version']}, "
                                f"you had {version}); reload it and apply your change again",
                                current=get_case(store, case_id, now).as_dict())
        values, events = _changes(conn, dict(row), status=status, assignee=assignee, team=team, theme=theme,
                                  cause=cause, action=action, reply=reply)
        if not values:
            return get_case(store, case_id, now)
        if values.get("status") == "resolved" or (row["status"] == "resolved" and "status" not in values):
            _require_root_cause({**dict(row), **values})
        if "status" in values:
            values["resolved_at"] = now if values["status"] in CLOSED else None
        done = conn.execute(t.cases.update().where(t.cases.c.id == case_id, t.cases.c.version == version)
                            .values(**values, updated_at=now, version=t.cases.c.version + 1)).rowcount
        if not done:  # changed between our read and our write
            raise ConflictError(f"case {case_id} was changed by someone else; reload it",
                                current=get_case(store, case_id, now).as_dict())
        for name, old, new in events:
            _event(conn, case_id, user.id, now, name, old, new)
        _labels(conn, dict(row), values, user, case_id, now)
    return get_case(store, case_id, now)


def _changes(conn: Connection, row: dict[str, Any], **asked: Any) -> tuple[dict[str, Any], list[tuple]]:
    values: dict[str, Any] = {}
    events: list[tuple[str, Any, Any]] = []
    status = asked["status"]
    if status is not None and status != row["status"]:
        if status not in STATUSES:
            raise TriageError(f"unknown status {status!r}; choose from {', '.join(STATUSES)}")
        if not allowed_transition(row["status"], status):
            raise TriageError(f"a case cannot go from {row['status']} to {status}")
        values["status"] = status
        events.append(("status", row["status"], status))
    if asked["assignee"] is not None:
        uid = _lookup(conn, t.users, asked["assignee"], "user") if asked["assignee"] else None
        if uid != row["assignee_id"]:
            values["assignee_id"] = uid
            events.append(("assignee", _name(conn, t.users, row["assignee_id"]), asked["assignee"] or None))
    if asked["team"] is not None:
        tid = _lookup(conn, t.teams, asked["team"], "team") if asked["team"] else None
        if tid != row["team_id"]:
            values["team_id"] = tid
            events.append(("team", _name(conn, t.teams, row["team_id"]), asked["team"] or None))
    for key, column in (("theme", "root_theme"), ("cause", "root_cause"), ("action", "action"), ("reply", "reply")):
        value = asked[key]
        if value is None:
            continue
        value = value.strip()
        if len(value) > (200 if key in ("theme", "cause") else MAX_TEXT):
            raise TriageError(f"{key} is too long")
        if (value or None) != row[column]:
            values[column] = value or None
            events.append((column, row[column], value or None))
    return values, events


def _require_root_cause(case: dict[str, Any]) -> None:
    missing = [name for name, col in (("root cause theme", "root_theme"), ("root cause", "root_cause"),
                                      ("action taken", "action")) if not case.get(col)]
    if missing:
        raise TriageError(f"to resolve a case, give the {', '.join(missing)}")


def _lookup(conn: Connection, table: sa.Table, name: str, what: str) -> int:
    found = conn.execute(sa.select(table.c.id).where(table.c.name == name)).scalar()
    if found is None:
        raise NotFoundError(f"no {what} {name!r}")
    return int(found)


def _name(conn: Connection, table: sa.Table, row_id: int | None) -> str | None:
    if row_id is None:
        return None
    return conn.execute(sa.select(table.c.name).where(table.c.id == row_id)).scalar()


def _labels(conn: Connection, row: dict[str, Any], values: dict[str, Any], user: User, case_id: int,
            now: datetime) -> None:
    """A theme or cause set to differ from the model's is a correction label; resolving a case
    confirms its root cause, which is a label too (the model was right: training needs those)."""
    from .labels import insert_label

    resolving = values.get("status") == "resolved"
    for kind, model_col, col in (("theme", "theme", "root_theme"), ("cause", "cause", "root_cause")):
        value = values.get(col, row[col])
        if value and ((col in values and value != row[model_col]) or (resolving and value == row[model_col])):
            insert_label(conn, row["comment_id"], kind, row[model_col], value, user.id, case_id, now)
