"""Soak, short form (issue 17.6): `voiceminer serve` on SQLite and PostgreSQL under steady load from readers and a
triager for ~30 s while `voiceminer mine` runs, loopback only; zero 5xx, zero transport errors, every
job completed, and the server's RSS bounded (final within 25 % + 40 MB of the RSS after warm-up, the
second half not climbing faster than 30 MB/min). The long form is ``scripts/soak.py --seconds 300``
(figures in the README); this runs the same code with small sizes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("httpx")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import soak


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_service_under_load_while_the_job_runs_keeps_memory_bounded_and_no_5xx(backend: str) -> None:
    result = soak.run_soak(backend, seconds=30, comments=1000, clients=6, think=0.3, per_job=150,
                           sample_s=0.5, warmup_s=8)
    problems = soak.verdict(result, max_growth_pct=25, max_growth_mb=40, max_slope=30)
    assert not problems, (problems, result)
    assert result["reads"] >= 200 and result["triage_writes"].get("200", 0) >= 10, result
    assert result["jobs"]["runs"] >= 1 and result["jobs"]["failed"] == 0, result["jobs"]
    assert result["rss_mb"]["samples"] >= 40 and result["rss_mb"]["warm"] > 50, result["rss_mb"]
