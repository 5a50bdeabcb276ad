"""The triage web service: a FastAPI app (JSON API + server-rendered UI) over the store.

``create_app(settings)`` builds it; ``serve(settings)`` (``voiceminer serve``) runs it with uvicorn.
"""

from .app import create_app, default_workers, serve

__all__ = ["create_app", "default_workers", "serve"]
