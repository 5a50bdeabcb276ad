"""Full-text search over stored comments, with the queue's filters.

SQLite uses the FTS5 index of migration 0004 (porter stemming, ranked by bm25); PostgreSQL the
stored English tsvector of migration 0006 with ``websearch_to_tsquery`` (ranked by ts_rank). Without
filters the page is cut from the ranking of the matches before any join, so a common word does not
join every match. The query is passed as a bound parameter; on SQLite every word becomes a quoted
FTS5 phrase, so operators in the user's text are searched as words, never run.

>>> fts5_query('refund "late" OR drop')
'"refund" "late" "OR" "drop"'
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..errors import TriageError
from ..storage import Store
from ..storage import schema as t
from ..storage.store import as_utc
from .cases import CaseFilter, comment_filters

_WORD = re.compile(r"\w[\w'-]*", re.UNICODE)


def fts5_query(q: str) -> str:
    """Each word of ``q`` as a quoted FTS5 phrase (all must match)."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in _WORD.findall(q))


def search_comments(store: Store, q: str, filt: CaseFilter | None = None, limit: int = 50,
                    cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Comments matching ``q`` (best first), filtered like the queue (channel, period, theme,
    and, for comments with a case, status/priority/team/assignee), one page and the next cursor."""
    if not 1 <= limit <= 500:
        raise TriageError("limit must be between 1 and 500")
    if not q or not _WORD.search(q):
        raise TriageError("give some words to search for")
    offset = _offset(cursor)
    filt = filt or CaseFilter()
    cm = t.comments.c
    extra = (t.cases.c.id.label("case_id"), t.cases.c.status.label("case_status"),
             t.cases.c.priority.label("case_priority"))
    if store.engine.dialect.name == "sqlite":
        if _unfiltered(filt):  # rank in the full-text index alone and join only the page's rows
            hits = (sa.select(sa.literal_column("rowid").label("rid"), sa.literal_column("rank").label("relevance"))
                    .select_from(sa.text("comments_fts"))
                    .where(sa.text("comments_fts MATCH :match").bindparams(match=fts5_query(q)))
                    .order_by(sa.literal_column("rank"), sa.literal_column("rowid"))
                    .limit(offset + limit + 1).subquery("hits"))
            query = (sa.select(t.comments, hits.c.relevance, *extra)
                     .select_from(hits.join(t.comments, sa.literal_column("comments.rowid") == hits.c.rid)
                                  .outerjoin(t.cases, t.cases.c.comment_id == cm.id))
                     .order_by(hits.c.relevance, hits.c.rid))
        else:
            fts = sa.table("comments_fts", sa.column("rowid"), sa.column("rank"))
            rank = sa.literal_column("comments_fts.rank")
            query = _filtered(
                sa.select(t.comments, rank.label("relevance"), *extra)
                .select_from(t.comments.join(fts, fts.c.rowid == sa.literal_column("comments.rowid"))
                             .outerjoin(t.cases, t.cases.c.comment_id == cm.id))
                .where(sa.text("comments_fts MATCH :match").bindparams(match=fts5_query(q)))
                .order_by(rank, sa.literal_column("comments.rowid")), filt)
    else:  # the stored tsvector of migration 0006 (GIN-indexed): ranking does not parse the texts again
        vector = sa.literal_column("comments.search_vector")
        tsq = sa.func.websearch_to_tsquery("english", q)
        rank = sa.func.ts_rank(vector, tsq)
        if _unfiltered(filt):
            hits = (sa.select(cm.id.label("hit_id"), rank.label("relevance")).where(vector.op("@@")(tsq))
                    .order_by(rank.desc(), cm.id).limit(offset + limit + 1).subquery("hits"))
            query = (sa.select(t.comments, hits.c.relevance, *extra)
                     .select_from(hits.join(t.comments, cm.id == hits.c.hit_id)
                                  .outerjoin(t.cases, t.cases.c.comment_id == cm.id))
                     .order_by(hits.c.relevance.desc(), cm.id))
        else:
            query = _filtered(sa.select(t.comments, rank.label("relevance"), *extra)
                              .outerjoin(t.cases, t.cases.c.comment_id == cm.id)
                              .where(vector.op("@@")(tsq)).order_by(rank.desc(), cm.id), filt)
    with store.engine.connect() as conn:
        rows = list(conn.execute(query.limit(limit + 1).offset(offset)).mappings())
    out = [_row(r) for r in rows[:limit]]
    return out, (_encode(offset + limit) if len(rows) > limit else None)


def _unfiltered(f: CaseFilter) -> bool:
    return not any((f.channel, f.since, f.until, f.status, f.priority, f.team, f.assignee, f.theme))


def _filtered(query: sa.Select, f: CaseFilter) -> sa.Select:
    cm, c = t.comments.c, t.cases.c
    query = comment_filters(query, f)
    for col, value in ((c.status, f.status), (c.priority, f.priority)):
        if value:
            query = query.where(col.in_([value] if isinstance(value, str) else list(value)))
    if f.team:
        query = query.where(c.team_id.in_(sa.select(t.teams.c.id).where(t.teams.c.name == f.team)))
    if f.assignee:
        query = query.where(c.assignee_id.in_(sa.select(t.users.c.id).where(t.users.c.name == f.assignee)))
    if f.theme:
        a = t.annotations.c
        like = f.theme.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(cm.id.in_(sa.select(a.comment_id).where(
            a.layer == "theme", sa.or_(a.label == f.theme, a.label.like(f"{like}.%", escape="\\")))))
    return query


def _row(r: Any) -> dict[str, Any]:
    created = as_utc(r["created_at"])
    return {"id": r["id"], "text": r["text"], "source": r["source"], "channel": r["channel"],
            "rating": r["rating"], "created_at": created.isoformat() if isinstance(created, datetime) else None,
            "case_id": r["case_id"], "case_status": r["case_status"], "case_priority": r["case_priority"]}


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        value = int(json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["o"])
    except (ValueError, TypeError, KeyError):
        raise TriageError("bad cursor: pass the next_cursor of the previous page unchanged") from None
    if value < 0:
        raise TriageError("bad cursor")
    return value
