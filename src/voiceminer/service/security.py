"""Sessions, CSRF tokens, the per-install secret, login rate limits and security headers.

:class:`Sessions` signs the session cookie with the install's secret (itsdangerous); the cookie names
a server-side session (a ``web_sessions`` row, stored as the sha256 of its id) that logout deletes, so
a copied cookie stops working at logout. :class:`LoginLimiter` counts failed logins per (name, client
address) in the store (``login_failures``), so the limit holds across the service's worker processes.
:class:`SecurityHeaders` adds the headers every response carries. No module state: each app owns its
objects.

>>> s = Sessions(b"k" * 32)
>>> value, csrf = s.issue(7, "stamp", "sid")
>>> s.read(value)["u"], s.read(value)["c"] == csrf, s.read(value)["s"], s.read(value + "x")
(7, True, 'sid', None)
>>> from voiceminer.storage import Store
>>> lim = LoginLimiter(Store.open("sqlite://"), max_failures=2, window=60)
>>> t0 = datetime(2026, 1, 1, tzinfo=UTC)
>>> lim.fail("ana", "1.2.3.4", now=t0); lim.fail("Ana", "1.2.3.4", now=t0 + timedelta(seconds=1))
>>> lim.wait("ana", "1.2.3.4", now=t0 + timedelta(seconds=2)), lim.wait("bob", "1.2.3.4", now=t0)
(58, 0)
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..storage import Store
from ..storage import schema as t

SESSION_COOKIE = "vm_session"
LOGIN_COOKIE = "vm_login"  # signed pre-session CSRF token of the login form
SESSION_MAX_AGE = 12 * 3600
SECRET_FILE = "service-secret"

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


def install_secret(data_dir: Path) -> bytes:
    """The install's signing secret: ``<data_dir>/service-secret``, created (mode 0600) on first use."""
    path = Path(data_dir) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text(encoding="ascii").strip()
        if len(value) < 32:
            raise ValueError(f"{path} holds too short a secret; delete it to create a new one") from None
        return value.encode("ascii")
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        value = secrets.token_urlsafe(48)
        fh.write(value + "\n")
    return value.encode("ascii")


class Sessions:
    """Signed, time-limited session cookies carrying the user id and the session's CSRF token."""

    def __init__(self, secret: bytes, max_age: int = SESSION_MAX_AGE) -> None:
        from itsdangerous import URLSafeTimedSerializer

        self.max_age = max_age
        self._session = URLSafeTimedSerializer(secret, salt="voiceminer-session")
        self._login = URLSafeTimedSerializer(secret, salt="voiceminer-login-form")

    def issue(self, user_id: int, stamp: str, session_id: str) -> tuple[str, str]:
        """A new cookie value and its CSRF token; ``stamp`` ties it to the password it was opened with,
        ``session_id`` to its server-side session (:func:`open_session`)."""
        csrf = secrets.token_urlsafe(24)
        return self._session.dumps({"u": int(user_id), "c": csrf, "p": stamp, "s": session_id}), csrf

    def read(self, value: str | None) -> dict[str, Any] | None:
        """The session's data, or None when missing, tampered with or expired."""
        from itsdangerous import BadSignature

        if not value:
            return None
        try:
            data = self._session.loads(value, max_age=self.max_age)
        except (BadSignature, ValueError, TypeError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("u"), int) else None

    def login_token(self) -> tuple[str, str]:
        """A CSRF token for the login form and the signed cookie that must come back with it."""
        token = secrets.token_urlsafe(24)
        return self._login.dumps(token), token

    def login_token_ok(self, cookie: str | None, token: str | None) -> bool:
        from itsdangerous import BadSignature

        if not cookie or not token:
            return False
        try:
            expected = self._login.loads(cookie, max_age=3600)
        except (BadSignature, ValueError, TypeError):
            return False
        return isinstance(expected, str) and hmac.compare_digest(expected, token)


def password_stamp(password_hash: str) -> str:
    """A short digest of the stored password hash: a new password ends every older session."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens (False when either is missing)."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def open_session(store: Store, user_id: int, max_age: int = SESSION_MAX_AGE, now: datetime | None = None) -> str:
    """A new server-side session for this user (its id goes into the signed cookie; the store keeps
    only its sha256); expired sessions are swept out on the way."""
    now = now or _utcnow()
    session_id = secrets.token_urlsafe(32)
    ws = t.web_sessions
    with store.engine.begin() as conn:
        conn.execute(ws.delete().where(ws.c.expires_at <= now))
        conn.execute(ws.insert().values(id_hash=_session_hash(session_id), user_id=int(user_id), created_at=now,
                                        expires_at=now + timedelta(seconds=max_age)))
    return session_id


def session_account(store: Store, session_id: str, user_id: int, now: datetime | None = None) -> Any:
    """The account row (users columns) of a live session of this user, else None; one indexed read."""
    ws = t.web_sessions
    query = (sa.select(t.users).join(ws, ws.c.user_id == t.users.c.id)
             .where(ws.c.id_hash == _session_hash(session_id), ws.c.user_id == int(user_id),
                    ws.c.expires_at > (now or _utcnow())))
    with store.engine.connect() as conn:
        return conn.execute(query).mappings().first()


def end_session(store: Store, session_id: str) -> bool:
    """Delete a server-side session (logout): its cookie, wherever copied, no longer signs anyone in."""
    ws = t.web_sessions
    with store.engine.begin() as conn:
        return bool(conn.execute(ws.delete().where(ws.c.id_hash == _session_hash(session_id))).rowcount)


class LoginLimiter:
    """At most ``max_failures`` failed logins per (name, address) in ``window`` seconds.

    The failures are rows of ``login_failures`` in the store, so every worker process of the service
    counts the same ones (two attempts racing in separate workers may each pass the last free slot).
    Rows older than the window are deleted whenever a failure is recorded: the table stays bounded."""

    def __init__(self, store: Store, max_failures: int = 5, window: int = 300) -> None:
        if max_failures < 1 or window < 1:
            raise ValueError("max_failures and window must be at least 1")
        self.store, self.max_failures, self.window = store, max_failures, window

    @staticmethod
    def _key(name: str, address: str) -> tuple[str, str]:
        return name.casefold()[:100], address[:100]

    def wait(self, name: str, address: str, now: datetime | None = None) -> int:
        """Seconds until this name may try again from this address (0: now)."""
        now = now or _utcnow()
        lf = t.login_failures.c
        key = self._key(name, address)
        query = (sa.select(sa.func.count(), sa.func.min(lf.at))
                 .where(lf.name == key[0], lf.address == key[1], lf.at > now - timedelta(seconds=self.window)))
        with self.store.engine.connect() as conn:
            count, first = conn.execute(query).one()
        if count < self.max_failures:
            return 0
        if first.tzinfo is None:  # SQLite hands back naive UTC
            first = first.replace(tzinfo=UTC)
        return max(1, math.ceil((first + timedelta(seconds=self.window) - now).total_seconds()))

    def fail(self, name: str, address: str, now: datetime | None = None) -> None:
        now = now or _utcnow()
        key = self._key(name, address)
        lf = t.login_failures
        with self.store.engine.begin() as conn:
            conn.execute(lf.delete().where(lf.c.at <= now - timedelta(seconds=self.window)))
            conn.execute(lf.insert().values(name=key[0], address=key[1], at=now))

    def reset(self, name: str, address: str) -> None:
        key = self._key(name, address)
        lf = t.login_failures
        with self.store.engine.begin() as conn:
            conn.execute(lf.delete().where(lf.c.name == key[0], lf.c.address == key[1]))


class SecurityHeaders:
    """ASGI middleware: every HTTP response carries the CSP and the other security headers."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in names]
                if scope.get("path", "").startswith(("/api/", "/cases/", "/admin")):
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ServerTiming:
    """ASGI middleware: a ``server-timing: app;dur=<ms>`` header on every API response, the time from the
    request reaching the app to its response starting, so a load test can tell the service's own time
    from time spent queueing in the network stack or a starved client."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/api/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_with_timing(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                took = f"app;dur={(time.perf_counter() - started) * 1000:.1f}".encode()
                message["headers"] = [*message.get("headers", []), (b"server-timing", took)]
            await send(message)

        await self.app(scope, receive, send_with_timing)


class BodyLimit:
    """ASGI middleware: request bodies over ``max_bytes`` get 413 (declared or streamed)."""

    def __init__(self, app: Any, max_bytes: int = 1_000_000) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(send, self.max_bytes)
            return
        seen = 0

        async def limited() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send, self.max_bytes)
        except BaseExceptionGroup as group:  # raised inside a task group on its way up
            if group.subgroup(_TooLarge) is None:
                raise
            await _too_large(send, self.max_bytes)


class _TooLarge(BaseException):
    """Not an Exception: the framework's body parser turns any Exception into a 400, and an
    over-long streamed body must reach this middleware as what it is (413)."""


async def _too_large(send: Any, limit: int) -> None:
    body = f'{{"detail": "request body too large (at most {limit} bytes)"}}'.encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
