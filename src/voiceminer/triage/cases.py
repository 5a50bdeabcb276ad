"""Cases: each flagged comment becomes one case that a support lead works to a closed loop.

A run of the weekly job opens a case for every analysed comment the case rules select
(``Settings.case_priorities``: complaint priorities, default high or medium; ``case_cues``:
cue kinds that open a case whatever the priority, default churn, safety, legal, vulnerability).
One case per comment, however often the job reruns (a unique key, inserted with ON CONFLICT DO
NOTHING). A case carries the model's theme and cause, the priority with its reasons, and is
routed by theme to a team (``Settings.routing``, most specific id first, else ``default_team``),
round-robin inside the team, due ``sla_hours[priority]`` after it opens.

Workflow: new -> acknowledged -> in_progress -> waiting -> resolved, or closed as
not_actionable / duplicate; any open status may move to any later open status or close; a
closed case may be reopened (in_progress). Resolving needs the confirmed root cause (theme and
cause, prefilled from the model) and the action taken; the reply to the customer is kept. Every
change is an event in the audit log (who, when, field, from, to). Writes carry the version the
writer read: a second writer gets :class:`~voiceminer.errors.ConflictError` with the case as it
is now, never a silent overwrite. Corrections of the theme or cause are stored as labels
(:mod:`voiceminer.triage.labels`) that ``train-themes --from-store`` learns from.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles

from ..config import Settings
from ..errors import NotFoundError, TriageError
from ..storage import Store
from ..storage import schema as t
from ..storage.store import as_utc, insert_ignore, utcnow

OPEN = ("new", "acknowledged", "in_progress", "waiting")
CLOSED = ("resolved", "not_actionable", "duplicate")
STATUSES = OPEN + CLOSED
PRIORITIES = ("high", "medium", "low")
EDITABLE = ("status", "assignee", "team", "theme", "cause", "action", "reply")


@dataclass
class Case:
    """A case as the queue and the API show it (``theme``/``cause``: the model's; ``root_*``: confirmed)."""

    id: int
    comment_id: str
    status: str
    priority: str
    priority_score: float
    reasons: list[str]
    theme: str | None
    cause: str | None
    root_theme: str | None
    root_cause: str | None
    action: str | None
    reply: str | None
    team: str | None
    assignee: str | None
    escalated_to: str | None
    opened_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    updated_at: datetime
    version: int
    excerpt: str = ""
    channel: str | None = None
    source: str | None = None
    created_at: datetime | None = None
    overdue: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (datetimes as ISO text). A shallow copy: ``dataclasses.asdict`` deep-copies
        every value and took two thirds of a queue page's time."""
        out = {}
        for name in _CASE_FIELDS:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else list(value) \
                if isinstance(value, list) else value
        return out


_CASE_FIELDS = tuple(f.name for f in fields(Case))


@dataclass
class CaseFilter:
    """Queue filters; None means any. ``assignee=""`` selects unassigned cases, ``theme`` matches the
    model's or the confirmed theme by id prefix, ``since``/``until`` bound the comment's date."""

    status: Sequence[str] | str | None = None
    priority: Sequence[str] | str | None = None
    team: str | None = None
    assignee: str | None = None
    theme: str | None = None
    overdue: bool | None = None
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    q: str | None = None
    comment_ids: Sequence[str] | None = field(default=None, repr=False)


# -- opening cases ------------------------------------------------------------
def case_rule(complaint: dict[str, Any] | None, cues: Sequence[str], settings: Settings) -> bool:
    """Whether a comment's complaint annotation data and cue kinds open a case.

    >>> case_rule({"priority": "medium"}, [], Settings(database_url="sqlite://"))
    True
    >>> case_rule({"priority": "low"}, ["urgency"], Settings(database_url="sqlite://"))
    False
    >>> case_rule({"priority": "low"}, ["churn"], Settings(database_url="sqlite://"))
    True
    """
    priority = (complaint or {}).get("priority")
    return priority in settings.case_priorities or any(c in settings.case_cues for c in cues)


def open_cases(store: Store, settings: Settings, run_id: str, now: datetime | None = None,
               comment_ids: Sequence[str] | None = None) -> int:
    """Open a case for every analysed comment (or those in ``comment_ids``) that the case rules
    select and that has none yet; route, assign and time each. Returns how many were opened.
    Overdue cases are escalated once per run (:func:`escalate_overdue`), not per batch."""
    now = now or utcnow()
    candidates = _candidates(store, comment_ids)
    opened = 0
    with store.engine.begin() as conn:
        have = {r.comment_id for r in conn.execute(sa.select(t.cases.c.comment_id))} if comment_ids is None else \
            {r.comment_id for r in conn.execute(sa.select(t.cases.c.comment_id)
                                                .where(t.cases.c.comment_id.in_(list(comment_ids))))}
        routes: dict[tuple[str | None, str | None], int | None] = {}  # (theme, cause) -> team, for this call
        events = []
        foreign = {cid: info["language"] for cid, info in candidates.items()
                   if info["language"] and cid not in have} if settings.case_other_languages else {}
        ratings = _ratings(conn, list(foreign))
        for cid, info in candidates.items():
            if cid in have:
                continue
            if cid in foreign:  # the English models' flag, theme and cause mean little here: a person reads it
                decided = language_case(foreign[cid], *ratings.get(cid, (None, None)))
                if decided is None:
                    continue
                (priority, reasons), score, theme, cause = decided, 0.0, None, None
            elif case_rule(info["complaint"], info["cues"], settings):
                complaint = info["complaint"] or {}
                priority, score = complaint.get("priority") or "low", float(complaint.get("priority_score") or 0.0)
                reasons = list(complaint.get("reasons") or []) + [f"cue: {c}" for c in info["cues"]
                                                                   if c in settings.case_cues]
                theme, cause = info["theme"], info["cause"]
            else:
                continue
            route = (theme, cause)
            if route not in routes:
                routes[route] = _route(conn, settings, *route)
            team_id = routes[route]
            assignee = _next_member(conn, team_id) if team_id is not None else None
            row = {"comment_id": cid, "status": "new", "priority": priority, "priority_score": score,
                   "reasons": reasons, "theme": theme, "cause": cause, "root_theme": theme,
                   "root_cause": cause, "team_id": team_id, "assignee_id": assignee, "opened_at": now,
                   "due_at": now + timedelta(hours=settings.sla_hours[priority]), "updated_at": now,
                   "run_id": run_id, "version": 1}
            case_id = conn.execute(insert_ignore(conn, t.cases).values(**row).returning(t.cases.c.id)).scalar()
            if case_id is not None:  # None: another writer opened it meanwhile
                events.append({"case_id": case_id, "user_id": None, "at": now, "field": "status", "old": None,
                               "new": "new"})
                opened += 1
        if events:
            conn.execute(t.case_events.insert(), events)
    return opened


def language_case(code: str, rating: float | None, scale: float | None) -> tuple[str, list[str]] | None:
    """(priority, reasons) of the case a comment not in English opens, or None when it opens none.

    VoiceMiner's models read English: on the demo they flagged "Service client très agréable, problème réglé en
    cinq minutes." (praise) and let "Il manquait la moitié de ma commande et le service client ne répond pas."
    through. So such a comment goes to a person, whatever the models said, unless its rating says it is praise
    (75 or more on 0-100: four or five stars, 8-10 on a 0-10 scale); a low rating (40 or less) makes it medium.

    >>> language_case("fr", None, None)
    ('low', ['not in English (fr): the models read English, so a person should read it'])
    >>> language_case("de", 1, 5)[0], language_case("es", 9, 10), language_case("es", 6, 10)[0]
    ('medium', None, 'low')
    """
    from ..aggregate.stats import normalised_rating

    score = normalised_rating(rating, scale)
    if score is not None and score >= 75:
        return None
    reasons = [f"not in English ({code}): the models read English, so a person should read it"]
    if score is not None and score <= 40:
        return "medium", reasons + [f"low rating ({rating:g} of {scale:g})"]
    return "low", reasons


def _ratings(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[float | None, float | None]]:
    c = t.comments.c
    out: dict[str, tuple[float | None, float | None]] = {}
    for start in range(0, len(ids), 500):
        for r in conn.execute(sa.select(c.id, c.rating, c.rating_scale).where(c.id.in_(list(ids[start:start + 500])))):
            out[r.id] = (r.rating, r.rating_scale)
    return out


LAYERS = ("complaint", "cue", "theme", "language")


def candidates_query(comment_ids: Sequence[str] | None) -> sa.Select:
    """The annotations :func:`_candidates` reads: of ``comment_ids`` (all when None)."""
    a = t.annotations.c
    query = sa.select(a.comment_id, a.layer, a.label, a.score, a.sentence_idx, a.data)
    if comment_ids is None:
        return query.where(a.layer.in_(LAYERS))
    # a batch is looked up by comment id, never through the layer's index (it scanned the whole layer for
    # every batch, and a run slowed down as the store grew: 0.5 ms per comment at 100k comments, 0.9 at 300k)
    return query.where(a.comment_id.in_(list(comment_ids)), t.layer_in(t.annotations, *LAYERS))


def _candidates(store: Store, comment_ids: Sequence[str] | None) -> dict[str, dict[str, Any]]:
    """Per analysed comment: its comment-level complaint data, cue kinds, main theme/cause and language
    (None for English, or for a comment the language stage was not sure of)."""
    query = candidates_query(comment_ids)
    out: dict[str, dict[str, Any]] = {}
    complaint_sentences: dict[str, set[int]] = {}
    themes: dict[str, list[tuple[float, int | None, str, str | None]]] = {}
    with store.engine.connect() as conn:
        for r in conn.execute(query):
            info = out.setdefault(r.comment_id, {"complaint": None, "cues": [], "theme": None, "cause": None,
                                                 "language": None})
            data = r.data if isinstance(r.data, dict) else json.loads(r.data or "{}")
            if r.layer == "language":
                info["language"] = r.label
            elif r.layer == "complaint" and r.sentence_idx is None:
                info["complaint"] = data
            elif r.layer == "complaint":
                complaint_sentences.setdefault(r.comment_id, set()).add(r.sentence_idx)
            elif r.layer == "cue":
                info["cues"].append(r.label)
            else:
                themes.setdefault(r.comment_id, []).append((float(r.score), r.sentence_idx, r.label, data.get("cause")))
    for cid, hits in themes.items():  # the theme of a complaint sentence first, then the surest
        flagged = complaint_sentences.get(cid, set())
        best = max(hits, key=lambda h: (h[1] in flagged, h[0]))
        out[cid]["theme"], out[cid]["cause"] = best[2], best[3]
    return out


def _route(conn: Connection, settings: Settings, theme: str | None, cause: str | None) -> int | None:
    """The team for a theme: the most specific routing key (cause, then theme), else the default."""
    name = None
    for key in (cause, theme):
        if key and key in settings.routing:
            name = settings.routing[key]
            break
    name = name or settings.default_team or None
    if name is None:
        return None
    found = conn.execute(sa.select(t.teams.c.id).where(t.teams.c.name == name)).scalar()
    if found is None:  # a routed team that nobody created yet: create it, so admins see where cases wait
        found = conn.execute(t.teams.insert().values(name=name, next_member=0)).inserted_primary_key[0]
    return int(found)


def _next_member(conn: Connection, team_id: int) -> int | None:
    """Round-robin over the team's active triagers and admins (by user id)."""
    members = [r.id for r in conn.execute(
        sa.select(t.users.c.id).join(t.team_members, t.team_members.c.user_id == t.users.c.id)
        .where(t.team_members.c.team_id == team_id, t.users.c.active.is_(True),
               t.users.c.role.in_(("triager", "admin"))).order_by(t.users.c.id))]
    if not members:
        return None
    position = conn.execute(sa.select(t.teams.c.next_member).where(t.teams.c.id == team_id)).scalar_one()
    conn.execute(t.teams.update().where(t.teams.c.id == team_id).values(next_member=position + 1))
    return members[position % len(members)]


def escalate_overdue(store: Store, settings: Settings, now: datetime | None = None) -> int:
    """Escalate open cases past their due time to their team's lead, once each (recorded in the
    history; a case without a team lead is escalated to nobody, recorded as such)."""
    now = now or utcnow()
    c = t.cases.c
    query = (sa.select(c.id, t.teams.c.lead_id).outerjoin(t.teams, t.teams.c.id == c.team_id)
             .where(c.status.in_(OPEN), c.due_at < now, c.escalated_at.is_(None)))
    done = 0
    with store.engine.begin() as conn:
        for row in conn.execute(query).all():
            lead = row.lead_id
            changed = conn.execute(t.cases.update().where(c.id == row.id, c.escalated_at.is_(None)).values(
                escalated_to=lead if lead is not None else sa.null(), escalated_at=now, updated_at=now,
                version=c.version + 1)).rowcount
            if changed:
                name = _user_name(conn, lead) if lead is not None else "(no team lead)"
                _event(conn, row.id, None, now, "escalated", None, name)
                done += 1
    return done


# -- reading --------------------------------------------------------------------
# The queue's order is (priority rank, due time, id). The rank is written out as SQL text, the same
# text as the expression index ix_cases_queue (migration 0006): a query planner uses an expression
# index only for the identical expression with literal values (bound parameters would not match).
_RANK = sa.literal_column("(CASE cases.priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END)",
                          sa.Integer)


@functools.cache
def _base_query() -> sa.Select:  # built once: a Select is immutable (each .where() makes a new one)
    c, cm = t.cases.c, t.comments.c
    assignee, lead = t.users.alias("assignee"), t.users.alias("lead")
    return (sa.select(t.cases, t.teams.c.name.label("team"), assignee.c.name.label("assignee"),
                      lead.c.name.label("escalated_name"), sa.func.substr(cm.text, 1, 240).label("excerpt"),
                      cm.channel, cm.source, cm.created_at.label("comment_created_at"), _RANK.label("rank"))
            .join(t.comments, cm.id == c.comment_id)
            .outerjoin(t.teams, t.teams.c.id == c.team_id)
            .outerjoin(assignee, assignee.c.id == c.assignee_id)
            .outerjoin(lead, lead.c.id == c.escalated_to))


def _case(row: Any, now: datetime) -> Case:
    due = as_utc(row["due_at"])
    return Case(id=int(row["id"]), comment_id=row["comment_id"], status=row["status"], priority=row["priority"],
                priority_score=float(row["priority_score"] or 0.0), reasons=list(row["reasons"] or []),
                theme=row["theme"], cause=row["cause"], root_theme=row["root_theme"], root_cause=row["root_cause"],
                action=row["action"], reply=row["reply"], team=row["team"], assignee=row["assignee"],
                escalated_to=row["escalated_name"] if row["escalated_to"] is not None else None,
                opened_at=as_utc(row["opened_at"]), due_at=due, resolved_at=as_utc(row["resolved_at"]),
                updated_at=as_utc(row["updated_at"]), version=int(row["version"]), excerpt=row["excerpt"] or "",
                channel=row["channel"], source=row["source"], created_at=as_utc(row["comment_created_at"]),
                overdue=row["status"] in OPEN and due < now)


class _Likely(sa.sql.expression.ColumnElement):
    """A filter the query planner should take as matching about half the rows (SQLite's
    ``likelihood(x, 0.5)``; the plain filter on other databases). Without statistics SQLite takes an equality or range on
    an indexed comment column (channel, date) for a narrow one, reads every matching comment through
    that index and sorts them all (a whole channel: 75 ms on 100,000 comments); with the hint it walks
    the queue's index in order and stops at the page's end. PostgreSQL keeps statistics."""

    inherit_cache = True
    type = sa.Boolean()

    def __init__(self, clause: sa.ColumnElement) -> None:
        self.clause = clause


@compiles(_Likely)
def _likely_default(element: _Likely, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clause, **kw)


@compiles(_Likely, "sqlite")
def _likely_sqlite(element: _Likely, compiler: Any, **kw: Any) -> str:
    return f"likelihood({compiler.process(element.clause, **kw)}, 0.5)"


def _where(query: sa.Select, f: CaseFilter, now: datetime) -> sa.Select:
    c, cm = t.cases.c, t.comments.c
    for col, value in ((c.status, f.status), (c.priority, f.priority)):
        if value:
            values = [value] if isinstance(value, str) else list(value)
            query = query.where(col.in_(values))
    if f.team:
        query = query.where(t.teams.c.name == f.team)
    if f.assignee == "":
        query = query.where(c.assignee_id.is_(None))
    elif f.assignee:
        query = query.where(query.selected_columns.assignee == f.assignee)
    if f.theme:
        like = f.theme.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(sa.or_(c.theme == f.theme, c.theme.like(f"{like}.%", escape="\\"),
                                   c.root_theme == f.theme, c.root_theme.like(f"{like}.%", escape="\\"),
                                   c.cause == f.theme, c.root_cause == f.theme))
    if f.overdue is True:
        query = query.where(c.status.in_(OPEN), c.due_at < now)
    elif f.overdue is False:
        query = query.where(sa.or_(c.status.not_in(OPEN), c.due_at >= now))
    query = comment_filters(query, f, likely=True)
    if f.q:
        like = f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(cm.text.ilike(f"%{like}%", escape="\\"))
    if f.comment_ids is not None:
        query = query.where(c.comment_id.in_(list(f.comment_ids)))
    return query


def comment_filters(query: sa.Select, f: CaseFilter, likely: bool = False) -> sa.Select:
    """The filters on the comment itself (channel, date range), shared by the queue and search
    (``likely``: hint the planner that they match many rows; see :class:`_Likely`)."""
    cm = t.comments.c
    conditions = []
    if f.channel:
        conditions.append(cm.channel == f.channel)
    if f.since is not None:
        conditions.append(cm.created_at >= f.since)
    if f.until is not None:
        conditions.append(cm.created_at < f.until)
    for condition in conditions:
        query = query.where(_Likely(condition) if likely else condition)
    return query


def list_cases(store: Store, filt: CaseFilter | None = None, limit: int = 50, cursor: str | None = None,
               now: datetime | None = None) -> tuple[list[Case], str | None]:
    """One page of the queue, most urgent first (priority, then due time, then id), and the cursor
    of the next page (None at the end)."""
    now = now or utcnow()
    if not 1 <= limit <= 500:
        raise TriageError("limit must be between 1 and 500")
    filt = filt or CaseFilter()
    query = _where(_base_query(), filt, now)
    if cursor:
        rank, due, last = _decode_cursor(cursor)
        query = query.where(sa.tuple_(_RANK, t.cases.c.due_at, t.cases.c.id) > sa.tuple_(
            sa.literal(rank), sa.literal(due, t.cases.c.due_at.type), sa.literal(last)))
    query = query.order_by(_RANK, t.cases.c.due_at, t.cases.c.id).limit(limit + 1)
    with store.engine.connect() as conn:
        rows = list(conn.execute(query).mappings())
    page = [_case(r, now) for r in rows[:limit]]
    nxt = None
    if len(rows) > limit:
        last_row = rows[limit - 1]
        nxt = _encode_cursor(int(last_row["rank"]), as_utc(last_row["due_at"]), int(last_row["id"]))
    return page, nxt


def _encode_cursor(rank: int, due: datetime, case_id: int) -> str:
    raw = json.dumps([rank, due.isoformat(), case_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, datetime, int]:
    try:
        rank, due, case_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return int(rank), datetime.fromisoformat(due), int(case_id)
    except (ValueError, TypeError):
        raise TriageError("bad cursor: pass the next_cursor of the previous page unchanged") from None


def count_cases(store: Store, filt: CaseFilter | None = None, now: datetime | None = None,
                cap: int | None = None) -> int:
    """How many cases pass the filters; with ``cap``, counting stops past ``cap`` (the result is then
    ``cap + 1``: show it as 'more than cap'), so a page of a large queue does not count every case."""
    now = now or utcnow()
    if cap is not None and cap < 0:
        raise TriageError("cap must be at least 0")
    query = _where(_base_query(), filt or CaseFilter(), now)
    if cap is not None:
        query = query.limit(cap + 1)
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one())


@contextmanager
def reading(store: Store, conn: Connection | None = None) -> Iterator[Connection]:
    """``conn`` when given (several reads of one page share a connection: on PostgreSQL each checkout
    costs round trips), else a connection of the store's pool for this block."""
    if conn is not None:
        yield conn
        return
    with store.engine.connect() as fresh:
        yield fresh


def get_case(store: Store, case_id: int, now: datetime | None = None, *, conn: Connection | None = None) -> Case:
    with reading(store, conn) as db:
        row = db.execute(_base_query().where(t.cases.c.id == case_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"no case {case_id}")
    return _case(row, now or utcnow())


def case_for_comment(store: Store, comment_id: str) -> Case | None:
    with store.engine.connect() as conn:
        found = conn.execute(sa.select(t.cases.c.id).where(t.cases.c.comment_id == comment_id)).scalar()
    return get_case(store, int(found)) if found is not None else None


def history(store: Store, case_id: int, *, conn: Connection | None = None) -> list[dict[str, Any]]:
    """The case's audit log, oldest first: when, who (None: the system), field, from, to."""
    e = t.case_events.c
    query = (sa.select(e.at, e.field, e.old, e.new, t.users.c.name.label("user"))
             .outerjoin(t.users, t.users.c.id == e.user_id).where(e.case_id == case_id).order_by(e.id))
    with reading(store, conn) as db:
        return [{"at": as_utc(r.at).isoformat(), "user": r.user, "field": r.field, "from": r.old, "to": r.new}
                for r in db.execute(query)]


def _event(conn: Connection, case_id: int, user_id: int | None, at: datetime, field_: str, old: Any,
           new: Any) -> None:
    conn.execute(t.case_events.insert().values(case_id=case_id, user_id=user_id, at=at, field=field_,
                                               old=None if old is None else str(old),
                                               new=None if new is None else str(new)))


def _user_name(conn: Connection, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return conn.execute(sa.select(t.users.c.name).where(t.users.c.id == user_id)).scalar()
