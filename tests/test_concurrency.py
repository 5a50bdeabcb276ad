"""Concurrency (issue 17.3): the weekly job writing while the service serves readers and triagers, and two
jobs racing, on SQLite (WAL) and PostgreSQL.

- While `voiceminer mine` (a real process, small batches: many short write transactions) stores and
  analyses new comments and opens their cases, reader threads walk the API and the web pages and
  triager threads work cases: no request gets a 5xx (a busy store would be a 503) or a "database is
  locked"; two triagers who read the same version of a case and change different fields: exactly one
  gets 200, the other 409 with the case as it is now, and after reloading, both changes are kept;
  nothing is lost: every successful change is in the case and in its history once.
- Two `mine` processes started together on the same export, and two `open_cases` racing over the
  same analysed comments, leave one comment per id (stored once in the ledger), one analysis per
  comment and one case per flagged comment.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("argon2")

import sqlalchemy as sa
from fastapi.testclient import TestClient
from flag_stages import PIPELINE, mine_command, write_export

from voiceminer import jobs
from voiceminer.config import Settings
from voiceminer.service import create_app
from voiceminer.storage import AnalysisResult, Store
from voiceminer.storage import schema as t
from voiceminer.triage import add_user, create_token, list_cases, open_cases

PASSWORD = "correct horse battery"
JOB_TIMEOUT_S = 120


def _settings(tmp_path: Path, url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=url, batch_size=20, pipeline=PIPELINE)


def _mine(settings: Settings, export: Path) -> subprocess.Popen:
    """`voiceminer mine` in its own process (with the test stage registered), batches of 10."""
    cmd = [*mine_command(sys.executable), "--data-dir", str(settings.data_dir), "--database-url",
           settings.database_url, "--batch-size", "10", "--quiet", "mine", str(export)]
    env = {**os.environ, "VOICEMINER_PIPELINE": ",".join(PIPELINE)}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def _finish(proc: subprocess.Popen) -> str:
    try:
        out, _ = proc.communicate(timeout=JOB_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"mine ran past {JOB_TIMEOUT_S}s: {out[-2000:]}")
    assert proc.returncode == 0, f"mine failed ({proc.returncode}): {out[-3000:]}"
    return out


def _flagged(store: Store) -> set[str]:
    """Comment ids the case rules of the test stage select: rating 1-2, or 'cancel' (a churn cue)."""
    c = t.comments.c
    rows = store.query(sa.select(c.id, c.rating, c.text))
    return {r["id"] for r in rows if (r["rating"] is not None and r["rating"] <= 2) or "cancel" in r["text"].lower()}


def _one_of_each(store: Store, runs: int | None = None) -> None:
    """One case per flagged comment, one analysis per comment, each comment stored once in the ledger."""
    c, led = t.cases.c, t.ingest_ledger.c
    per_comment = Counter(r["comment_id"] for r in store.query(sa.select(c.comment_id)))
    assert max(per_comment.values()) == 1
    assert set(per_comment) == _flagged(store), "every flagged comment has a case, and only those"
    comments = store.counts()["comments"]
    stored = Counter(r["comment_id"] for r in store.query(sa.select(led.comment_id).where(led.outcome == "stored")))
    assert len(stored) == comments and set(stored.values()) == {1}, "each comment stored once over all runs"
    assert store.counts()["analysed"] == comments


@pytest.fixture
def busy(tmp_path: Path, db_url: str) -> dict[str, Any]:
    """A store mined once (cases open), four users with tokens, the app, and a second export to mine."""
    settings = _settings(tmp_path, db_url)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    write_export(first, 120, prefix="A")
    write_export(second, 400, prefix="B")
    store = Store.open(db_url)
    jobs.mine(settings, [first], store=store, report_formats=["json"])
    tokens = {}
    for name, role in (("vic", "viewer"), ("tia", "triager"), ("tom", "triager"), ("root", "admin")):
        add_user(store, name, role, PASSWORD)
        tokens[name] = {"authorization": f"Bearer {create_token(store, name)}", "accept": "application/json"}
    app = create_app(settings, store=store)
    yield {"settings": settings, "store": store, "app": app, "tokens": tokens, "second": second}
    store.close()


def test_service_serves_readers_and_triagers_while_the_job_writes(busy: dict[str, Any]) -> None:
    store, tokens = busy["store"], busy["tokens"]
    cases = [c.id for c in list_cases(store, limit=200)[0]]
    assert len(cases) >= 20
    statuses: Counter = Counter()
    bad: list[str] = []
    lock = threading.Lock()
    job = _mine(busy["settings"], busy["second"])
    done = threading.Event()

    with TestClient(busy["app"]) as client:
        def record(response: Any, what: str) -> Any:
            with lock:
                statuses[response.status_code] += 1
                if response.status_code >= 500 or "database is locked" in response.text.lower():
                    bad.append(f"{what}: {response.status_code} {response.text[:300]}")
            return response

        def reader(seed: int) -> None:
            rng, who = random.Random(seed), ("vic", "tia", "root")[seed % 3]
            while not done.is_set():
                path = rng.choice(["/api/queue", "/api/queue?status=new", "/api/queue?priority=high",
                                   f"/api/cases/{rng.choice(cases)}", f"/api/cases/{rng.choice(cases)}/history",
                                   "/api/search?q=late", "/api/search?q=refund%20missing", "/api/themes",
                                   "/api/reports", "/api/you-said-we-did", "/", "/queue", f"/cases/{rng.choice(cases)}"])
                record(client.get(path, headers=tokens[who]), f"GET {path}")

        races: list[dict[str, Any]] = []

        def race(case_id: int, k: int) -> None:
            """tia and tom read the same version and change different fields at once; the loser reloads."""
            seen = record(client.get(f"/api/cases/{case_id}", headers=tokens["tia"]), "read").json()["case"]
            barrier, results = threading.Barrier(2), {}
            changes = {"tia": {"action": f"Called the courier ({k})"}, "tom": {"reply": f"Sorry, refund sent ({k})"}}

            def write(name: str) -> None:
                barrier.wait()
                results[name] = record(client.patch(f"/api/cases/{case_id}", headers=tokens[name],
                                                    json={"version": seen["version"], **changes[name]}),
                                       f"PATCH {case_id} as {name}")

            threads = [threading.Thread(target=write, args=(n,)) for n in changes]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            codes = sorted(r.status_code for r in results.values())
            retried = 0
            for name, response in results.items():
                while response.status_code == 409:  # reload (the 409 carries the case as it is now) and retry
                    current = response.json()["current"]
                    retried += 1
                    response = record(client.patch(f"/api/cases/{case_id}", headers=tokens[name],
                                                   json={"version": current["version"], **changes[name]}),
                                      f"PATCH {case_id} as {name} again")
                assert response.status_code == 200, response.text
            with lock:
                races.append({"case": case_id, "codes": codes, "changes": changes, "retried": retried})

        def triagers() -> None:
            for k, case_id in enumerate(cases[:12]):
                race(case_id, k)

        readers = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
        worker = threading.Thread(target=triagers)
        for th in [*readers, worker]:
            th.start()
        worker.join(timeout=JOB_TIMEOUT_S)
        _finish(job)
        time.sleep(0.5)  # readers keep reading the job's last writes for a moment
        done.set()
        for th in readers:
            th.join(timeout=30)

    assert not bad, "\n".join(bad[:10])
    assert statuses[200] > 50, statuses
    assert len(races) == 12, "every race finished"
    for r in races:  # never a silent overwrite: one of two writers on the same version wins
        assert r["codes"] == [200, 409], r  # nothing else changes these cases meanwhile
        history = client.get(f"/api/cases/{r['case']}/history", headers=tokens["vic"]).json()
        final = client.get(f"/api/cases/{r['case']}", headers=tokens["vic"]).json()["case"]
        for name, change in r["changes"].items():
            (key, value), = change.items()
            assert final[key] == value, f"{name}'s {key} was lost on case {r['case']}"
            assert [e for e in history if e.get("field") == key and e.get("to") == value and e.get("user") == name], \
                (name, key, history)
    _one_of_each(store)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_jobs_racing_over_the_same_export_open_one_case_per_comment(backend: str, tmp_path: Path,
                                                                        request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgres" else f"sqlite:///{tmp_path / 'store.db'}"
    settings = _settings(tmp_path, url)
    export = tmp_path / "reviews.csv"
    rows = write_export(export, 200, prefix="R")
    Store.open(url).close()  # migrated before the race, as an installed store is
    racers = [_mine(settings, export), _mine(settings, export)]
    for proc in racers:
        _finish(proc)
    store = Store.open(url)
    try:
        _one_of_each(store)
        runs = [r for r in store.recent_runs(10) if r.kind == "mine"]
        assert [r.status for r in runs] == ["completed", "completed"]
        for run in runs:  # each run's ledger accounts for every input row once
            assert sum(store.ledger_counts(run.id).values()) == rows
    finally:
        store.close()


def test_open_cases_racing_open_each_case_once(db_url: str, tmp_path: Path) -> None:
    """Four threads, each with its own store connection pool, open cases over the same analysed comments."""
    settings = _settings(tmp_path, db_url)
    export = tmp_path / "reviews.csv"
    write_export(export, 300, prefix="O")
    store = Store.open(db_url)
    jobs.ingest(settings, [export], store=store)
    from voiceminer.pipeline import Pipeline

    pipeline = Pipeline.from_names(PIPELINE)
    run = store.begin_run("analyse", {})
    for batch in store.pending_comments(pipeline.key, 100):  # analysed, but no case opened yet
        store.save_analysis(run, pipeline.key, [AnalysisResult(a.comment.id, a.sentences, a.annotations)
                                                for a in pipeline.run(batch)])
    assert store.counts()["analysed"] == store.counts()["comments"] > 250
    assert not store.query(sa.select(t.cases.c.id))
    barrier, opened, errors = threading.Barrier(4), [], []

    def opener() -> None:
        own = Store.open(db_url, migrate=False)  # migrated above; Alembic's upgrade is not thread-safe
        try:
            barrier.wait()
            opened.append(open_cases(own, settings, run))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            own.close()

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert not errors, errors
    flagged = _flagged(store)
    assert sum(opened) == len(flagged), opened  # together they opened each case once
    per_comment = Counter(r["comment_id"] for r in store.query(sa.select(t.cases.c.comment_id)))
    assert set(per_comment) == flagged and set(per_comment.values()) == {1}
    events = Counter(r["case_id"] for r in store.query(sa.select(t.case_events.c.case_id)))
    assert set(events.values()) == {1}, "one 'opened' event per case"
    store.close()
