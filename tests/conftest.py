"""Shared fixtures: settings in a temp dir, throwaway PostgreSQL databases, paths."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

import voiceminer.config
from voiceminer.config import LEXICON_PIPELINE, Settings

PG_ADMIN_URL = os.environ.get("VOICEMINER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
_created_pg_databases: list[str] = []


@pytest.fixture(autouse=True)
def _lexicon_pipeline_by_default(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """CLI and job tests run the model-free pipeline unless marked ``models``; model tests load the real one."""
    if "models" not in request.keywords:
        monkeypatch.setenv("VOICEMINER_PIPELINE", ",".join(LEXICON_PIPELINE))


# The default backend, ``auto``, is torch-bf16 on a CPU with bf16 products (AMX or AVX-512 bf16) and onnx
# elsewhere. Figures the tests pin (the demo's theme precision, the models' decisions) are onnx's, so for the whole
# session ``auto`` means onnx, in this process and in the CLI processes tests start, on every CPU (session-scoped
# fixtures included). ``torch-bf16`` has its own tests (tests/test_bf16.py, run where the CPU has bf16 products);
# tests marked ``auto_backend`` see the real resolution. ``VOICEMINER_TEST_AUTO=real`` lifts the pin for a run
# (``VOICEMINER_TEST_AUTO=real scripts/test.sh tests/test_demo.py``: the demo's figures under the backend a user
# of this CPU gets).
_REAL_BF16_READY = voiceminer.config.bf16_ready
if os.environ.get("VOICEMINER_TEST_AUTO") != "real":
    voiceminer.config.bf16_ready = lambda: False  # type: ignore[assignment]
    os.environ.setdefault("VOICEMINER_BACKEND", "onnx")


@pytest.fixture(autouse=True)
def _real_auto_backend(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    if "auto_backend" in request.keywords:
        monkeypatch.setattr("voiceminer.config.bf16_ready", _REAL_BF16_READY)
        monkeypatch.delenv("VOICEMINER_BACKEND", raising=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", batch_size=50, pipeline=LEXICON_PIPELINE)


def _pg_unavailable(reason: str) -> None:
    # On CI the server must be there: a missing server is a failure, not a skip.
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required on CI: {reason}")
    pytest.skip(f"PostgreSQL not reachable: {reason}")


@pytest.fixture
def pg_url() -> str:
    """A fresh, empty PostgreSQL database (dropped at the end of the test session)."""
    psycopg = pytest.importorskip("psycopg")
    name = f"vm_t_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        _pg_unavailable(str(exc).strip())
    _created_pg_databases.append(name)
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test against both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _created_pg_databases:
        return
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        for name in _created_pg_databases:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
