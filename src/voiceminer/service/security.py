"""Sessions, CSRF tokens, the per-install secret, login rate limits and security headers.

Everything here is owned by one app object (no module state): :class:`Sessions` signs the
session cookie with the install's secret (itsdangerous), :class:`LoginLimiter` counts failed
logins per (name, client address), :class:`SecurityHeaders` adds the headers every response
carries.

>>> s = Sessions(b"k" * 32)
>>> value, csrf = s.issue(7, "stamp")
>>> s.read(value)["u"], s.read(value)["c"] == csrf, s.read(value + "x")
(7, True, None)
>>> lim = LoginLimiter(max_failures=2, window=60)
>>> lim.fail("ana", "1.2.3.4", now=0); lim.fail("ana", "1.2.3.4", now=1)
>>> lim.wait("ana", "1.2.3.4", now=2), lim.wait("bob", "1.2.3.4", now=2)
(58, 0)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

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

    def issue(self, user_id: int, stamp: str) -> tuple[str, str]:
        """A new cookie value and its CSRF token; ``stamp`` ties it to the password it was opened with."""
        csrf = secrets.token_urlsafe(24)
        return self._session.dumps({"u": int(user_id), "c": csrf, "p": stamp}), csrf

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


class LoginLimiter:
    """At most ``max_failures`` failed logins per (name, address) in ``window`` seconds."""

    def __init__(self, max_failures: int = 5, window: int = 300, max_keys: int = 10_000) -> None:
        self.max_failures, self.window, self.max_keys = max_failures, window, max_keys
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def wait(self, name: str, address: str, now: float | None = None) -> int:
        """Seconds until this name may try again from this address (0: now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._recent((name.casefold(), address), now)
            if len(times) < self.max_failures:
                return 0
            return max(1, int(times[0] + self.window - now + 0.999))

    def fail(self, name: str, address: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        key = (name.casefold(), address)
        with self._lock:
            if len(self._failures) >= self.max_keys:  # bounded memory: forget keys with no recent failure
                for k in [k for k, v in self._failures.items() if not v or v[-1] <= now - self.window]:
                    del self._failures[k]
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times

    def reset(self, name: str, address: str) -> None:
        with self._lock:
            self._failures.pop((name.casefold(), address), None)


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
