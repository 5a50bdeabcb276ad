"""Persistence: the SQLAlchemy schema, Alembic migrations and the Store."""

from .store import AnalysisResult, Store

__all__ = ["Store", "AnalysisResult"]
