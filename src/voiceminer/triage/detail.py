"""Everything the case page shows: the comment, its evidence spans, the customer's other
comments and the case's history."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import NotFoundError
from ..storage import Store
from ..storage import schema as t
from ..storage.store import as_utc
from .cases import get_case, history, reading

CUSTOMER_KEYS = ("customer_id", "customer", "user_id", "account_id", "email")


def case_detail(store: Store, case_id: int, now: datetime | None = None) -> dict[str, Any]:
    """The case, its comment with sentences and highlight spans (theme, cause evidence, need, cue,
    complaint), the customer's other comments (linked by a customer id in the comment's metadata)
    and the audit log."""
    with store.engine.connect() as conn:  # one connection for the page's reads
        case = get_case(store, case_id, now, conn=conn)
        comment = conn.execute(sa.select(t.comments, customer_key(conn.dialect.name).label("customer_key"))
                               .where(t.comments.c.id == case.comment_id)).mappings().first()
        if comment is None:
            raise NotFoundError(f"the comment of case {case_id} is gone")
        sentences = [{"index": r.idx, "start": r.start, "end": r.end} for r in conn.execute(
            sa.select(t.sentences).where(t.sentences.c.comment_id == case.comment_id).order_by(t.sentences.c.idx))]
        anns = list(conn.execute(sa.select(t.annotations).where(
            t.annotations.c.comment_id == case.comment_id)).mappings())
        others = other_comments(store, comment, conn=conn)
        events = history(store, case_id, conn=conn)
    return {"case": case.as_dict(), "comment": _comment(comment), "sentences": sentences,
            "highlights": highlights(anns), "other_comments": others, "history": events,
            # the comment's language when it is surely not English (language.langid.v1): the English
            # models' theme, cause and flag may be wrong, and the page says so
            "language": next((a["label"] for a in anns if a["layer"] == "language"), None)}


def _comment(row: Any) -> dict[str, Any]:
    created = as_utc(row["created_at"])
    return {"id": row["id"], "text": row["text"], "source": row["source"], "channel": row["channel"],
            "rating": row["rating"], "rating_scale": row["rating_scale"], "meta": row["meta"] or {},
            "created_at": created.isoformat() if created else None}


def highlights(anns: list[Any]) -> list[dict[str, Any]]:
    """Evidence spans by kind, in text order: theme (the sentence), cause (its causal clause),
    need (the sentence), cue (the phrase), complaint (the sentence)."""
    out: list[dict[str, Any]] = []
    for a in anns:
        data = a["data"] if isinstance(a["data"], dict) else json.loads(a["data"] or "{}")
        start, end = a["span_start"], a["span_end"]
        if start is None or end is None:
            continue
        if a["layer"] == "theme":
            out.append({"kind": "theme", "label": data.get("label") or a["label"], "id": a["label"],
                        "start": start, "end": end, "score": a["score"]})
            if data.get("cause_evidence"):
                cs, ce = data["cause_evidence"]
                out.append({"kind": "cause", "label": data.get("cause_label") or data.get("cause") or "cause",
                            "id": data.get("cause"), "start": cs, "end": ce, "score": data.get("cause_score")})
        elif a["layer"] == "need":
            out.append({"kind": "need", "label": a["label"], "start": start, "end": end, "score": a["score"]})
        elif a["layer"] == "cue":
            out.append({"kind": "cue", "label": a["label"], "start": start, "end": end, "score": a["score"]})
        elif a["layer"] == "complaint" and a["sentence_idx"] is not None:
            out.append({"kind": "complaint", "label": "complaint", "start": start, "end": end, "score": a["score"]})
    return sorted(out, key=lambda h: (h["start"], -h["end"], h["kind"]))


def customer_of(meta: dict[str, Any]) -> tuple[str, str] | None:
    """(key, value) of the first customer identifier in a comment's metadata.

    >>> customer_of({"region": "North", "customer_id": "C-1"})
    ('customer_id', 'C-1')
    """
    for key in CUSTOMER_KEYS:
        value = (meta or {}).get(key)
        if value not in (None, ""):
            return key, str(value)
    return None


def customer_key(dialect: str) -> sa.ColumnElement:
    """SQL for the customer a comment belongs to, as ``key=value`` (the first of :data:`CUSTOMER_KEYS`
    with a non-empty value in its metadata; NULL when none), the expression of the index
    ``ix_comments_customer`` (migration 0006): written out as literal SQL so that the planner matches it."""
    whens = []
    for key in CUSTOMER_KEYS:
        value = (f"json_extract(comments.meta, '$.{key}')" if dialect == "sqlite"
                 else f"(comments.meta ->> '{key}')")
        whens.append(f"WHEN {value} <> '' THEN '{key}=' || {value}")
    return sa.literal_column("(CASE " + " ".join(whens) + " END)", sa.String)


def other_comments(store: Store, comment: Any, limit: int = 20, *,
                   conn: Connection | None = None) -> list[dict[str, Any]]:
    """The same customer's other comments, newest first (empty when no customer id links them).

    ``comment`` is a comments row; one read with its ``customer_key`` (as :func:`case_detail` does)
    saves a query."""
    cm = t.comments.c
    with reading(store, conn) as db:
        key = customer_key(db.dialect.name)
        value = comment.get("customer_key") if "customer_key" in comment else db.execute(
            sa.select(key).where(cm.id == comment["id"])).scalar()
        if value is None:
            return []
        query = (sa.select(t.comments, t.cases.c.id.label("case_id"), t.cases.c.status.label("case_status"))
                 .outerjoin(t.cases, t.cases.c.comment_id == cm.id)
                 .where(key == value, cm.id != comment["id"])
                 .order_by(key, cm.created_at.desc()).limit(limit))
        return [{**_comment(r), "case_id": r["case_id"], "case_status": r["case_status"]}
                for r in db.execute(query).mappings()]
