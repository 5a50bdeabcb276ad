"""Triagers' corrections, stored as labels, and their export as a ``train-themes`` CSV.

When a triager corrects a case's theme, cause, sentiment or need, the correction is a label
(comment, kind, the model's value, the corrected value, who, when); resolving a case confirms
its root cause, stored the same way (old == value), so training sees what the model got right. ``voiceminer labels export``
writes the latest theme/cause correction of each comment as ``text,themes`` rows (themes
``;``-separated: the theme and its cause), the file ``voiceminer train-themes`` reads.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import NotFoundError, PermissionDenied, TriageError
from ..storage import Store
from ..storage import schema as t
from ..storage.store import as_utc, utcnow
from ..textsafety import safe_cell
from .users import User

KINDS = ("theme", "cause", "sentiment", "need")
SENTIMENTS = ("negative", "neutral", "positive")


def insert_label(conn: Connection, comment_id: str, kind: str, old: str | None, value: str, user_id: int | None,
                 case_id: int | None, at: datetime) -> None:
    conn.execute(t.labels.insert().values(comment_id=comment_id, kind=kind, old=old, value=value, user_id=user_id,
                                          case_id=case_id, at=at))


def correct(store: Store, comment_id: str, user: User, kind: str, value: str, case_id: int | None = None,
            old: str | None = None) -> None:
    """Store a correction of ``kind`` (theme, cause, sentiment, need) for a comment."""
    if not user.can("triager"):
        raise PermissionDenied(f"{user.name} is a {user.role}: only triagers and admins can correct labels")
    if kind not in KINDS:
        raise TriageError(f"unknown label kind {kind!r}; choose from {', '.join(KINDS)}")
    value = value.strip()
    if not value or len(value) > 200:
        raise TriageError("a label value must have 1 to 200 characters")
    if kind == "sentiment" and value not in SENTIMENTS:
        raise TriageError(f"sentiment must be one of {', '.join(SENTIMENTS)}")
    if kind == "need" and value not in ("need", "not_need"):
        raise TriageError("need must be 'need' or 'not_need'")
    with store.engine.begin() as conn:
        if conn.execute(sa.select(t.comments.c.id).where(t.comments.c.id == comment_id)).first() is None:
            raise NotFoundError(f"no comment {comment_id!r}")
        insert_label(conn, comment_id, kind, old, value, user.id, case_id, utcnow())


def list_labels(store: Store, kind: str | None = None) -> list[dict[str, Any]]:
    """Every correction, oldest first."""
    lab = t.labels.c
    query = (sa.select(t.labels, t.users.c.name.label("user"))
             .outerjoin(t.users, t.users.c.id == lab.user_id).order_by(lab.id))
    if kind:
        query = query.where(lab.kind == kind)
    with store.engine.connect() as conn:
        return [{"comment_id": r["comment_id"], "kind": r["kind"], "old": r["old"], "value": r["value"],
                 "user": r["user"], "case_id": r["case_id"], "at": as_utc(r["at"]).isoformat()}
                for r in conn.execute(query).mappings()]


def theme_rows(store: Store) -> list[tuple[str, str, list[str]]]:
    """(comment id, text, [theme, cause]) from the latest theme and cause correction of each comment."""
    latest: dict[str, dict[str, str]] = {}
    for lab in list_labels(store):
        if lab["kind"] in ("theme", "cause"):
            latest.setdefault(lab["comment_id"], {})[lab["kind"]] = lab["value"]
    if not latest:
        return []
    with store.engine.connect() as conn:
        texts = dict(conn.execute(sa.select(t.comments.c.id, t.comments.c.text)
                                  .where(t.comments.c.id.in_(list(latest)))).all())
    out = []
    for cid, kinds in sorted(latest.items()):
        ids = [kinds[k] for k in ("theme", "cause") if kinds.get(k)]
        if "cause" in kinds and "theme" not in kinds and "." in kinds["cause"]:
            ids.insert(0, kinds["cause"].split(".", 1)[0])
        out.append((cid, texts.get(cid, ""), list(dict.fromkeys(ids))))
    return out


def export_labels(store: Store, path: str | Path) -> int:
    """Write the theme corrections as a ``text,themes`` CSV; returns the number of rows."""
    rows = theme_rows(store)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "themes", "comment_id"])
        for cid, text, ids in rows:
            writer.writerow([safe_cell(text), ";".join(ids), safe_cell(cid)])
    return len(rows)
