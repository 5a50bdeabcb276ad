"""``create_app(settings)``: the triage service (JSON API + web UI) over the configured store.

No module state: the store, the session signer, the login limiter and the templates belong to the
app (``app.state.vm``). Run it with ``voiceminer serve`` (:func:`serve`: uvicorn, one worker process
per CPU core by default; sessions and login limits live in the store, so workers share them) or any
ASGI server (:func:`app_from_environment` is a factory for servers that start their own workers).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..config import Settings
from ..errors import ConflictError, StoreError, TriageError, VoiceMinerError
from ..storage import Store
from .auth import CurrentUser, NotAuthenticated, ServiceContext, ctx, wants_json
from .security import BodyLimit, LoginLimiter, SecurityHeaders, ServerTiming, Sessions, install_secret

SETTINGS_ENV = "VOICEMINER_SERVICE_SETTINGS"  # the settings, as JSON, handed to worker processes
HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def _templates() -> Any:
    import jinja2
    from fastapi.templating import Jinja2Templates

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    return Jinja2Templates(env=env)


def _labels(settings: Settings) -> dict[str, str]:
    from ..themes.taxonomy import load_taxonomy

    return {t.id: t.label for t in load_taxonomy(settings.taxonomy)}


def create_app(settings: Settings, *, store: Store | None = None, secret: bytes | None = None,
               limiter: LoginLimiter | None = None) -> FastAPI:
    """The service for ``settings``: its store (SQLite WAL or PostgreSQL), secret and templates."""
    if store is None:
        from ..jobs import open_store

        store = open_store(settings)
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(title="VoiceMiner triage", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None, lifespan=lifespan, description="Cases from flagged comments, worked to a closed loop. "
                  "Authenticate with a session cookie (the web UI) or 'Authorization: Bearer <token>' "
                  "(voiceminer tokens create --user NAME).")
    app.state.vm = ServiceContext(settings=settings, store=store,
                                  sessions=Sessions(secret or install_secret(settings.data_dir)),
                                  limiter=limiter or LoginLimiter(store), templates=_templates(),
                                  labels=_labels(settings))
    app.add_middleware(BodyLimit)
    app.add_middleware(ServerTiming)
    app.add_middleware(SecurityHeaders)  # outermost: the 413 carries the headers too
    _errors(app)

    from . import api, web

    app.include_router(api.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", tags=["service"], summary="Liveness and store check (anonymous)")
    def healthz(request: Request) -> dict[str, Any]:
        try:
            revision = ctx(request).store.schema_revision()
        except Exception:  # noqa: BLE001 - any store failure is 'unhealthy', never a traceback
            return JSONResponse({"status": "error", "detail": "the store does not answer"}, status_code=503)
        return {"status": "ok", "schema": revision, "version": __version__}

    @app.get("/openapi.json", tags=["service"], summary="This API's OpenAPI schema")
    def openapi(request: Request, user: CurrentUser) -> dict[str, Any]:
        return request.app.openapi()

    return app


def default_workers() -> int:
    """Worker processes for ``voiceminer serve``: one per CPU core this process may use, 1 to 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - platforms without affinity
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


def settings_to_json(settings: Settings) -> str:
    return json.dumps({f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}, default=str)


def settings_from_json(text: str) -> Settings:
    from ..config import _coerce

    return Settings(**_coerce(json.loads(text)))


def app_from_environment() -> FastAPI:
    """The app of one worker process: settings from ``VOICEMINER_SERVICE_SETTINGS`` (set by :func:`serve`),
    else from the usual config file and environment."""
    text = os.environ.get(SETTINGS_ENV)
    settings = settings_from_json(text) if text else Settings.load()
    return create_app(settings, store=Store.open(settings.database_url, migrate=False))


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000, workers: int | None = None,
          access_log: bool = False, log_level: str = "info") -> None:
    """Run the service under uvicorn until interrupted. The store is migrated and the install's secret
    created here, once, before ``workers`` processes (default :func:`default_workers`) start serving."""
    import uvicorn

    from ..jobs import open_store

    workers = default_workers() if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    store = open_store(settings)  # migrates
    install_secret(settings.data_dir)
    options: dict[str, Any] = {"host": host, "port": port, "access_log": access_log, "log_level": log_level,
                               "proxy_headers": True, "server_header": False}
    if workers == 1:
        uvicorn.run(create_app(settings, store=store), **options)
        return
    store.close()
    os.environ[SETTINGS_ENV] = settings_to_json(settings)
    uvicorn.run("voiceminer.service.app:app_from_environment", factory=True, workers=workers, **options)


def _errors(app: FastAPI) -> None:
    """Domain errors -> their 4xx with ``{"detail": reason}``; pages get an HTML error page."""

    def page(request: Request, status: int, message: str) -> Response:
        from .web import render

        return render(request, "error.html", status, code=status, message=message)

    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": str(exc) or "log in first"}, status_code=401,
                                headers={"www-authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(TriageError)
    async def triage_error(request: Request, exc: TriageError) -> Response:
        if wants_json(request):
            body: dict[str, Any] = {"detail": str(exc)}
            if isinstance(exc, ConflictError) and exc.current is not None:
                current = exc.current
                body["current"] = current.as_dict() if hasattr(current, "as_dict") else current
            return JSONResponse(body, status_code=exc.status)
        return page(request, exc.status, str(exc))

    @app.exception_handler(VoiceMinerError)
    async def other_error(request: Request, exc: VoiceMinerError) -> Response:
        status = 503 if isinstance(exc, StoreError) else 400
        if wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=status)
        return page(request, status, str(exc))

    @app.exception_handler(sa.exc.OperationalError)
    async def store_busy(request: Request, exc: sa.exc.OperationalError) -> Response:
        message = "the store is busy or unreachable; try again in a moment"
        if wants_json(request):
            return JSONResponse({"detail": message}, status_code=503, headers={"retry-after": "2"})
        response = page(request, 503, message)
        response.headers["retry-after"] = "2"
        return response

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        reasons = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        if wants_json(request):
            return JSONResponse({"detail": reasons, "errors": _plain(exc.errors())}, status_code=422)
        return page(request, 422, reasons)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_json(request) or request.url.path.startswith("/static/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return page(request, exc.status_code, str(exc.detail))


def _plain(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validation errors without the raw input (it may be long or hold a password)."""
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in errors]
