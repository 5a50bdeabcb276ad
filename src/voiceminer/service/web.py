"""The web UI: server-rendered pages (Jinja2, autoescaped) over the same domain functions as the API.

Forms post back to the page they came from with the session's CSRF token; a change to a case
carries the version it was read at, so a second editor sees a conflict and the case as it is now.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import triage
from ..errors import ConflictError, TriageError
from ..triage import users as accounts
from ..triage.users import User
from . import views
from .auth import Admin, Reader, Triager, client_address, ctx, stamp_of
from .security import LOGIN_COOKIE, SESSION_COOKIE, end_session, open_session

router = APIRouter(tags=["web"], default_response_class=HTMLResponse)
STATUS_KEYS = ("new", "acknowledged", "in_progress", "waiting", "resolved")  # keys 1-5 in the UI
QUEUE_COUNT_CAP = 1000  # the queue page counts its cases up to this many ('more than 1,000 cases')


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    vm = ctx(request)
    base = {"user": getattr(request.state, "user", None), "csrf": getattr(request.state, "csrf", None),
            "labels": vm.labels, "statuses": triage.STATUSES, "status_keys": STATUS_KEYS,
            "priorities": triage.cases.PRIORITIES, "path": request.url.path, "when": views.when,
            "due_text": views.due_text, "label": lambda tid: vm.labels.get(tid, tid) if tid else ""}
    return vm.templates.TemplateResponse(request, template, {**base, **context}, status_code=status)


def _local_target(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/queue"


# -- login ----------------------------------------------------------------------
@router.get("/login", summary="The login page (anonymous)")
def login_page(request: Request, next: str = "/queue") -> Response:
    return _login_form(request, next, None, 200)


def _login_form(request: Request, target: str, error: str | None, status: int, name: str = "") -> Response:
    cookie, token = ctx(request).sessions.login_token()
    response = render(request, "login.html", status, login_csrf=token, next=_local_target(target), error=error,
                      login_name=name)
    response.set_cookie(LOGIN_COOKIE, cookie, max_age=3600, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/login")
    return response


@router.post("/login", summary="Log in with name and password (rate-limited per name and address)")
async def login(request: Request, name: str = Form(..., max_length=100), password: str = Form(..., max_length=1000),
                csrf: str = Form("", max_length=200), next: str = Form("/queue", max_length=2000)) -> Response:
    vm = ctx(request)
    if not vm.sessions.login_token_ok(request.cookies.get(LOGIN_COOKIE), csrf):
        return _login_form(request, next, "The form expired; please log in again.", 403, name)
    address = client_address(request)
    wait = await run_in_threadpool(vm.limiter.wait, name, address)
    if wait:
        response = _login_form(request, next, f"Too many failed logins; try again in {wait} s.", 429, name)
        response.headers["retry-after"] = str(wait)
        return response
    user = await run_in_threadpool(accounts.authenticate, vm.store, name, password)
    if user is None:
        await run_in_threadpool(vm.limiter.fail, name, address)
        return _login_form(request, next, "Wrong name or password.", 401, name)
    await run_in_threadpool(vm.limiter.reset, name, address)
    stamp = await run_in_threadpool(stamp_of, vm.store, user.id)
    session_id = await run_in_threadpool(open_session, vm.store, user.id, vm.sessions.max_age)
    value, _ = vm.sessions.issue(user.id, stamp or "", session_id)
    response = RedirectResponse(_local_target(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, value, max_age=vm.sessions.max_age, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout", summary="Log out (ends the session on the server too)")
def logout(request: Request, user: Reader) -> Response:
    session_id = getattr(request.state, "session_id", None)
    if session_id:  # a bearer-token request has no session to end
        end_session(ctx(request).store, session_id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- queue, case, search -----------------------------------------------------------
@router.get("/", summary="Home: the queue")
def home(request: Request, user: Reader) -> Response:
    return RedirectResponse("/queue", status_code=303)


def _filter_state(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "") for k in views.FILTER_KEYS}


@router.get("/queue", summary="The queue page")
def queue_page(request: Request, user: Reader, cursor: str | None = None) -> Response:
    vm = ctx(request)
    filt = views.filters_from(request.query_params)
    items, nxt = triage.list_cases(vm.store, filt, limit=50, cursor=cursor)
    total = triage.count_cases(vm.store, filt, cap=QUEUE_COUNT_CAP)  # capped: counting stops past it
    state = _filter_state(request)
    next_url = "/queue?" + urlencode({**{k: v for k, v in state.items() if v}, "cursor": nxt}) if nxt else None
    total_text = f"more than {QUEUE_COUNT_CAP:,}" if total > QUEUE_COUNT_CAP else f"{total:,}"
    return render(request, "queue.html", cases=items, total=total, total_text=total_text, f=state, next_url=next_url,
                  teams=accounts.list_teams(vm.store), users=accounts.list_users(vm.store),
                  periods=list(views.PERIODS))


def _case_page(request: Request, case_id: int, status: int = 200, **extra: Any) -> Response:
    vm = ctx(request)
    detail = triage.case_detail(vm.store, case_id)
    pieces = views.highlight(detail["comment"]["text"], detail["highlights"])
    return render(request, "case.html", status, d=detail, c=detail["case"], pieces=pieces,
                  teams=accounts.list_teams(vm.store), users=accounts.list_users(vm.store), **extra)


@router.get("/cases/{case_id}", summary="The case page")
def case_page(request: Request, case_id: int, user: Reader, saved: bool = False) -> Response:
    return _case_page(request, case_id, saved=saved)


@router.post("/cases/{case_id}", summary="Save changes to a case (form, with the version read)")
def save_case(request: Request, case_id: int, user: Triager, version: int = Form(..., ge=1),
              status: str | None = Form(None, max_length=20), assignee: str | None = Form(None, max_length=100),
              team: str | None = Form(None, max_length=100), theme: str | None = Form(None, max_length=200),
              cause: str | None = Form(None, max_length=200), action: str | None = Form(None, max_length=5000),
              reply: str | None = Form(None, max_length=10000)) -> Response:
    store = ctx(request).store
    asked = {"status": status, "assignee": assignee, "team": team, "theme": theme, "cause": cause,
             "action": action, "reply": reply}
    try:
        _update_from_form(store, case_id, user, version, asked)
    except ConflictError as exc:
        return _case_page(request, case_id, 409, error=str(exc), attempted={k: v for k, v in asked.items() if v})
    except TriageError as exc:
        if exc.status == 404:
            raise
        return _case_page(request, case_id, exc.status, error=str(exc), draft=asked)
    return RedirectResponse(f"/cases/{case_id}?saved=1", status_code=303)


def _update_from_form(store: Any, case_id: int, user: User, version: int, asked: dict[str, Any]) -> None:
    """Send only what the form changed (a select left on its current value is no change)."""
    from ..triage.workflow import update_case

    current = triage.get_case(store, case_id).as_dict()
    names = {"theme": "root_theme", "cause": "root_cause"}
    changed = {k: (v or "") for k, v in asked.items() if v is not None and (v or None) != current[names.get(k, k)]}
    update_case(store, case_id, user, version, **changed)


@router.post("/cases/{case_id}/labels", summary="Correct the model's sentiment or need flag (form)")
def correct_case(request: Request, case_id: int, user: Triager, kind: str = Form(..., max_length=20),
                 value: str = Form(..., max_length=20)) -> Response:
    store = ctx(request).store
    case = triage.get_case(store, case_id)
    try:
        triage.correct(store, case.comment_id, user, kind, value, case_id=case.id)
    except TriageError as exc:
        if exc.status == 404:
            raise
        return _case_page(request, case_id, exc.status, error=str(exc))
    return RedirectResponse(f"/cases/{case_id}?saved=1", status_code=303)


@router.get("/search", summary="The comment search page")
def search_page(request: Request, user: Reader, q: str = "", cursor: str | None = None) -> Response:
    from ..triage.search import search_comments

    vm = ctx(request)
    state = _filter_state(request)
    items, nxt, error = [], None, None
    if q.strip():
        filt = views.filters_from({**request.query_params, "q": None})
        try:
            items, nxt = search_comments(vm.store, q, filt, limit=50, cursor=cursor)
        except TriageError as exc:
            error = str(exc)
    next_url = "/search?" + urlencode({**{k: v for k, v in state.items() if v}, "cursor": nxt}) if nxt else None
    return render(request, "search.html", items=items, f=state, next_url=next_url, error=error,
                  periods=list(views.PERIODS))


# -- themes, reports, outcomes ------------------------------------------------------------
@router.get("/themes", summary="The themes page")
def themes_page(request: Request, user: Reader) -> Response:
    vm = ctx(request)
    figures = views.latest_figures(vm.settings.reports_dir)
    return render(request, "themes.html", themes=views.theme_list(vm.labels, figures), report=(figures or {}).get("meta"))


@router.get("/themes/{theme_id}", summary="One theme: trend, causes, quotes and cases")
def theme_page(request: Request, theme_id: str, user: Reader) -> Response:
    vm = ctx(request)
    data = views.theme_figures(theme_id, vm.labels, views.latest_figures(vm.settings.reports_dir))
    items, _ = triage.list_cases(vm.store, triage.CaseFilter(theme=theme_id), limit=20)
    peak = max([p["comments"] for p in data["series"]] or [0]) or 1
    return render(request, "theme.html", t=data, cases=items, peak=peak)


@router.get("/reports", summary="The reports page")
def reports_page(request: Request, user: Reader) -> Response:
    return render(request, "reports.html", reports=views.list_reports(ctx(request).settings.reports_dir))


@router.get("/outcomes", summary="You said, we did")
def outcomes_page(request: Request, user: Reader, period: str = "week") -> Response:
    from ..triage.outcomes import you_said_we_did

    if period not in ("day", "week", "month", "quarter"):
        raise TriageError(f"period must be day, week, month or quarter, got {period!r}")
    vm = ctx(request)
    rows = you_said_we_did(vm.store, period=period, timezone=vm.settings.timezone)
    return render(request, "outcomes.html", rows=rows, period=period)


# -- admin ----------------------------------------------------------------------------
@router.get("/admin", summary="Users and teams (admin)")
def admin_page(request: Request, user: Admin, error: str | None = None) -> Response:
    store = ctx(request).store
    return render(request, "admin.html", users=accounts.list_users(store), teams=accounts.list_teams(store),
                  roles=accounts.ROLES, error=error)


def _admin_result(request: Request, work: Any) -> Response:
    try:
        work()
    except TriageError as exc:
        store = ctx(request).store
        return render(request, "admin.html", exc.status, users=accounts.list_users(store),
                      teams=accounts.list_teams(store), roles=accounts.ROLES, error=str(exc))
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/users", summary="Create an account (admin form)")
def admin_add_user(request: Request, user: Admin, name: str = Form(..., max_length=100),
                   role: str = Form(..., max_length=20), password: str = Form(..., max_length=1000)) -> Response:
    return _admin_result(request, lambda: accounts.add_user(ctx(request).store, name, role, password))


@router.post("/admin/users/{name}", summary="Change an account (admin form)")
def admin_change_user(request: Request, name: str, user: Admin,
                      role: str | None = Form(None, max_length=20), active: str | None = Form(None, max_length=5),
                      password: str | None = Form(None, max_length=1000)) -> Response:
    def work() -> None:
        store = ctx(request).store
        if password:
            accounts.set_password(store, name, password)
        accounts.update_user(store, name, role=role or None,
                             active=None if active is None else active.lower() in ("1", "true", "on", "yes"))

    return _admin_result(request, work)


@router.post("/admin/teams", summary="Create a team or add members (admin form)")
def admin_add_team(request: Request, user: Admin, name: str = Form(..., max_length=100),
                   lead: str | None = Form(None, max_length=100), members: str = Form("", max_length=5000)) -> Response:
    names = [m.strip() for m in members.split(",") if m.strip()]
    return _admin_result(request, lambda: accounts.add_team(ctx(request).store, name, lead=lead or None,
                                                            members=names))
