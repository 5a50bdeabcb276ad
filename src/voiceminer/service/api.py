"""The JSON API under ``/api``: the data of every page, for scripts (bearer tokens) and the UI's own JS.

The hot reads (queue, case, search) go through :func:`~.auth.quick_read`: on SQLite they run on the
event loop (a few indexed in-process queries, cheaper than a hop to the thread pool and back), on
PostgreSQL in the thread pool (they wait on another process, and the loop must not wait). Everything
slower (exports, writes, login's password hash) runs in the pool.

Reads need a viewer, case changes a triager, users and teams an admin. Lists are cursor-paginated:
pass the ``next_cursor`` of one page as ``cursor`` to get the next.
"""

from __future__ import annotations

import json
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from .. import triage
from ..triage import users as accounts
from . import views
from .auth import Admin, Reader, Triager, ctx, quick_read

router = APIRouter(prefix="/api", tags=["api"])

Cursor = Query(None, max_length=400, description="next_cursor of the previous page")
Limit = Query(50, ge=1, le=200)
Status = Query(None, description="comma-separated: " + ", ".join(triage.STATUSES))
Priority = Query(None, description="comma-separated: high, medium, low")
Period = Query(None, description="today, 7d, 30d or 90d (overrides since)")


class CasePatch(BaseModel):
    """A change to a case; ``version`` is the one you read (a newer one on the server: 409)."""

    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1)
    status: Literal[triage.STATUSES] | None = None  # type: ignore[valid-type]
    assignee: str | None = Field(None, max_length=100, description="a user name; '' unassigns")
    team: str | None = Field(None, max_length=100)
    theme: str | None = Field(None, max_length=200, description="confirmed root-cause theme id")
    cause: str | None = Field(None, max_length=200, description="confirmed cause id")
    action: str | None = Field(None, max_length=5000)
    reply: str | None = Field(None, max_length=10000)


class Correction(BaseModel):
    """A triager's correction of the model's sentiment or need flag for the case's comment (a label)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["sentiment", "need"]
    value: Literal["negative", "neutral", "positive", "need", "not_need"]


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    role: Literal["viewer", "triager", "admin"]
    password: str = Field(min_length=accounts.MIN_PASSWORD, max_length=1000)


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["viewer", "triager", "admin"] | None = None
    active: bool | None = None
    password: str | None = Field(None, min_length=accounts.MIN_PASSWORD, max_length=1000)


class NewTeam(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    lead: str | None = Field(None, max_length=100)
    members: list[str] = Field(default_factory=list, max_length=500)


def _filters(request: Request) -> triage.CaseFilter:
    return views.filters_from(request.query_params)


@router.get("/me", summary="The signed-in user")
def me(user: Reader) -> dict[str, Any]:
    return user.as_dict()


@router.get("/queue", summary="Cases, most urgent first (priority, then due time)")
async def queue(request: Request, user: Reader, status: str | None = Status,
          priority: str | None = Priority, team: str | None = None,
          assignee: str | None = Query(None, description="a user name; '-' for unassigned"),
          theme: str | None = None, overdue: bool | None = None, channel: str | None = None,
          period: str | None = Period, since: str | None = Query(None, description="YYYY-MM-DD"),
          until: str | None = Query(None, description="YYYY-MM-DD, inclusive"),
          q: str | None = Query(None, max_length=200), limit: int = Limit, cursor: str | None = Cursor
          ) -> Response:
    def read() -> Response:
        items, nxt = triage.list_cases(ctx(request).store, _filters(request), limit=limit, cursor=cursor)
        return json_response({"items": [c.as_dict() for c in items], "next_cursor": nxt})

    return await quick_read(request, read)


@router.get("/cases/{case_id}", summary="A case with its comment, evidence, the customer's other comments "
                                          "and history")
async def case(request: Request, case_id: int, user: Reader) -> Response:
    return await quick_read(request, lambda: json_response(triage.case_detail(ctx(request).store, case_id)))


@router.patch("/cases/{case_id}", summary="Change a case (send the version you read; 409 with the current "
                                            "case if it changed meanwhile)")
def patch_case(request: Request, case_id: int, change: CasePatch, user: Triager) -> dict[str, Any]:
    fields = change.model_dump(exclude_unset=True)
    version = fields.pop("version")
    updated = triage.update_case(ctx(request).store, case_id, user, version, **fields)
    return updated.as_dict()


@router.post("/cases/{case_id}/labels", status_code=201,
             summary="Correct the model's sentiment or need flag for the case's comment (stored as a label)")
def correct_case(request: Request, case_id: int, change: Correction, user: Triager) -> dict[str, Any]:
    store = ctx(request).store
    case = triage.get_case(store, case_id)
    triage.correct(store, case.comment_id, user, change.kind, change.value, case_id=case.id)
    return {"comment_id": case.comment_id, "kind": change.kind, "value": change.value}


@router.get("/cases/{case_id}/history", summary="The case's audit log, oldest first")
def case_history(request: Request, case_id: int, user: Reader) -> list[dict[str, Any]]:
    store = ctx(request).store
    triage.get_case(store, case_id)  # 404 for an unknown case
    return triage.history(store, case_id)


@router.get("/search", summary="Full-text search of comments, with the queue's filters")
async def search(request: Request, user: Reader, q: str = Query(..., min_length=1, max_length=200),
           status: str | None = Status, priority: str | None = Priority, team: str | None = None,
           assignee: str | None = None, theme: str | None = None, overdue: bool | None = None,
           channel: str | None = None, period: str | None = Period, since: str | None = None,
           until: str | None = None, limit: int = Limit, cursor: str | None = Cursor) -> Response:
    from ..triage.search import search_comments

    def read() -> Response:
        filt = views.filters_from({**request.query_params, "q": None})
        items, nxt = search_comments(ctx(request).store, q, filt, limit=limit, cursor=cursor)
        return json_response({"items": items, "next_cursor": nxt})

    return await quick_read(request, read)


@router.get("/themes", summary="Every taxonomy theme with the newest report's figures")
def themes(request: Request, user: Reader) -> list[dict[str, Any]]:
    vm = ctx(request)
    return views.theme_list(vm.labels, views.latest_figures(vm.settings.reports_dir))


@router.get("/themes/{theme_id}", summary="A theme's trend, causes and quotes (newest report) and open cases")
def theme(request: Request, theme_id: str, user: Reader) -> dict[str, Any]:
    vm = ctx(request)
    data = views.theme_figures(theme_id, vm.labels, views.latest_figures(vm.settings.reports_dir))
    items, _ = triage.list_cases(vm.store, triage.CaseFilter(theme=theme_id), limit=20)
    return {**data, "cases": [c.as_dict() for c in items]}


@router.get("/reports", summary="The report files, newest first")
def reports(request: Request, user: Reader) -> list[dict[str, Any]]:
    return views.list_reports(ctx(request).settings.reports_dir)


@router.get("/reports/{name}", summary="Download one report file", response_class=FileResponse)
def report_file(request: Request, name: str, user: Reader, download: bool = False) -> Response:
    path = views.report_path(ctx(request).settings.reports_dir, name)
    headers = {}
    if path.suffix == ".html" and not download:  # the report styles itself inline and runs no script
        headers["content-security-policy"] = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                              "frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
    return FileResponse(path, media_type=views.REPORT_TYPES[path.suffix], headers=headers,
                        filename=path.name if download or path.suffix != ".html" else None,
                        content_disposition_type="attachment" if download or path.suffix != ".html"
                        else "inline")


@router.get("/you-said-we-did", summary="Per theme and period: resolved cases, actions taken, time to resolve")
def you_said_we_did(request: Request, user: Reader, period: str = "week",
                    since: str | None = None, until: str | None = None) -> list[dict[str, Any]]:
    from ..triage.outcomes import you_said_we_did as outcomes

    if period not in ("day", "week", "month", "quarter"):
        from ..errors import TriageError
        raise TriageError(f"period must be day, week, month or quarter, got {period!r}")
    filt = views.filters_from({"since": since, "until": until})
    return _json(outcomes(ctx(request).store, since=filt.since, until=filt.until, period=period))


@router.get("/labels/export", summary="Triagers' corrections as a train-themes CSV",
            response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def labels_export(request: Request, user: Triager) -> Response:
    from ..triage.labels import export_labels

    def build() -> bytes:
        with tempfile.TemporaryDirectory(prefix="vm-labels-") as tmp:
            path = Path(tmp) / "labels.csv"
            export_labels(ctx(request).store, path)
            return path.read_bytes()

    body = await run_in_threadpool(build)
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="labels.csv"'})


@router.get("/users", summary="Accounts (admin)")
def users(request: Request, user: Admin) -> list[dict[str, Any]]:
    return [u.as_dict() for u in accounts.list_users(ctx(request).store)]


@router.post("/users", status_code=201, summary="Create an account (admin)")
def add_user(request: Request, new: NewUser, user: Admin) -> dict[str, Any]:
    return accounts.add_user(ctx(request).store, new.name, new.role, new.password).as_dict()


@router.patch("/users/{name}", summary="Change a role, switch an account off or set its password (admin)")
def change_user(request: Request, name: str, change: UserChange, user: Admin) -> dict[str, Any]:
    store = ctx(request).store
    if change.password is not None:
        accounts.set_password(store, name, change.password)
    return accounts.update_user(store, name, role=change.role, active=change.active).as_dict()


@router.get("/teams", summary="Teams with their lead and members")
def teams(request: Request, user: Reader) -> list[dict[str, Any]]:
    return [t.as_dict() for t in accounts.list_teams(ctx(request).store)]


@router.post("/teams", status_code=201, summary="Create a team or add members to it (admin)")
def add_team(request: Request, new: NewTeam, user: Admin) -> dict[str, Any]:
    return accounts.add_team(ctx(request).store, new.name, lead=new.lead, members=new.members).as_dict()


def _plain_json(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON-ready")


def json_response(data: Any) -> Response:
    """A JSON response of data that is JSON-ready already (the domain's as_dict() results: ISO dates,
    lists, plain values), encoded by json.dumps alone. FastAPI's jsonable_encoder, which a returned dict
    goes through, walks every value first: 20 ms for a page of the queue on the busy test machine,
    against 2 ms for json.dumps."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_plain_json).encode("utf-8")
    return Response(body, media_type="application/json")


def _json(value: Any) -> Any:
    """Datetimes and dataclasses inside a domain result, as JSON-ready values."""
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(value.as_dict() if hasattr(value, "as_dict") else value)
