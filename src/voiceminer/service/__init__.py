"""The triage web service: a FastAPI app (JSON API + server-rendered UI) over the store.

>>> from voiceminer.service import create_app  # doctest: +SKIP
"""

from .app import create_app

__all__ = ["create_app"]
