"""Who is asking: the service context, the current user (session cookie or bearer token), roles, CSRF.

Routes declare what they need with ``Depends(reader)``, ``Depends(triager)`` or ``Depends(admin)``.
A request with neither a valid session cookie nor a valid bearer token gets 401 (API) or a redirect
to the login page (web pages). A state-changing request made with the session cookie must carry
the session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``); bearer-token requests
need none, since a browser never sends the token by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from ..config import Settings
from ..errors import PermissionDenied
from ..storage import Store
from ..triage.users import User, user_for_token
from .security import SESSION_COOKIE, LoginLimiter, Sessions, password_stamp, same_token, session_account

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
T = TypeVar("T")


@dataclass
class ServiceContext:
    """What every request handler needs; one per app (``app.state.vm``)."""

    settings: Settings
    store: Store
    sessions: Sessions
    limiter: LoginLimiter
    templates: Any
    labels: dict[str, str]  # taxonomy theme id -> label


class NotAuthenticated(Exception):
    """No valid session or token: 401 for the API, a redirect to /login for pages."""


class CsrfError(PermissionDenied):
    """A state-changing request with a session cookie but without the session's CSRF token."""


def ctx(request: Request) -> ServiceContext:
    return request.app.state.vm


def wants_json(request: Request) -> bool:
    """API and machine routes answer errors as JSON; pages answer with HTML."""
    path = request.url.path
    return path.startswith("/api/") or path in ("/openapi.json", "/healthz")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def stamp_of(store: Store, user_id: int) -> str | None:
    """The password stamp of an account (None when it has gone)."""
    import sqlalchemy as sa

    from ..storage import schema as t

    with store.engine.connect() as conn:
        found = conn.execute(sa.select(t.users.c.password_hash).where(t.users.c.id == user_id)).scalar()
    return password_stamp(found) if found else None


def _authenticate(request: Request) -> User:
    vm = ctx(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("the Authorization header must be 'Bearer <token>'")
        user = user_for_token(vm.store, token.strip())
        if user is None:
            raise NotAuthenticated("unknown or revoked token")
        request.state.via, request.state.csrf = "token", None
        return user
    data = vm.sessions.read(request.cookies.get(SESSION_COOKIE))
    if data is None:
        raise NotAuthenticated("log in first")
    session_id = data.get("s")
    account = session_account(vm.store, session_id, data["u"]) if isinstance(session_id, str) else None
    if account is None:  # logged out, expired, or a cookie from before server-side sessions
        raise NotAuthenticated("log in again")
    if not account["active"]:
        raise NotAuthenticated("this account is switched off")
    if not same_token(password_stamp(account["password_hash"]), data.get("p")):
        raise NotAuthenticated("the password changed: log in again")
    request.state.via, request.state.csrf, request.state.session_id = "session", data.get("c"), session_id
    return User(id=int(account["id"]), name=account["name"], role=account["role"], active=True)


async def quick_read(request: Request, read: Callable[[], T]) -> T:
    """Run a short read of the store: on SQLite inline on the event loop (an indexed read in this
    process costs less than the hop to the thread pool and back, which on a busy machine costs scheduler
    wakeups: a request's server-side p50 went from 50 to 3-8 ms), on PostgreSQL in the thread pool (the
    read waits on the database server, and a slow one would stall every request of this worker)."""
    if ctx(request).store.engine.dialect.name == "sqlite":
        return read()
    return await run_in_threadpool(read)


async def current_user(request: Request) -> User:
    """The signed-in user: one indexed read (a token's or a session's row joined to its account)."""
    user = await quick_read(request, lambda: _authenticate(request))
    request.state.user = user
    return user


async def _check_csrf(request: Request) -> None:
    if request.method in SAFE_METHODS or getattr(request.state, "via", None) != "session":
        return
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        given = (await request.form()).get("csrf")
    if not same_token(request.state.csrf, given if isinstance(given, str) else None):
        raise CsrfError("missing or wrong CSRF token: reload the page and try again")


def _needs(role: str) -> Any:
    async def dependency(request: Request, user: Annotated[User, Depends(current_user)]) -> User:
        if not user.can(role):
            raise PermissionDenied(f"this needs the {role} role; {user.name} is a {user.role}")
        await _check_csrf(request)
        return user

    dependency.__name__ = f"needs_{role}"
    return dependency


reader = _needs("viewer")
triager = _needs("triager")
admin = _needs("admin")
CurrentUser = Annotated[User, Depends(current_user)]
Reader = Annotated[User, Depends(reader)]  # route parameter types: `user: Reader`
Triager = Annotated[User, Depends(triager)]
Admin = Annotated[User, Depends(admin)]
