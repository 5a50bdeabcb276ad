"""The Dask engine on a real LocalCluster (lexicon pipeline, so it is fast): the same annotations as
the local engine, comment for comment; a worker killed mid-unit loses nothing; claims are exclusive
and a lost claim saves nothing. SQLite file and PostgreSQL (``db_url``)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

pytest.importorskip("distributed")

from distributed import Client
from engine_stages import KILL_MARK, RegisterStages, marker

from voiceminer import jobs
from voiceminer.config import LEXICON_PIPELINE, Settings
from voiceminer.engine.dask_engine import local_cluster
from voiceminer.storage import AnalysisResult, Store
from voiceminer.storage import schema as t
from voiceminer.storage.units import WorkUnits
from voiceminer.types import Comment

PHRASES = ["The delivery was late again.", "Lovely driver, very polite!", "Prices went up but quality is great.",
           "I hate waiting on the phone for an hour.", "It was fine, nothing special.",
           "Terrible app, it crashes every time I pay.", "Fresh vegetables, happy kids.", "Meh."]


def _comments(n: int, tag: str, kill_at: int | None = None) -> list[Comment]:
    out = []
    for i in range(n):
        text = " ".join(PHRASES[(i * k) % len(PHRASES)] for k in (1, 3, 5)[: 1 + i % 3])
        if i == kill_at:
            text += " " + KILL_MARK
        out.append(Comment(id=f"{tag}:{i:04d}", text=text, source="test",
                           created_at=datetime(2026, 3, 1 + i % 20, tzinfo=UTC)))
    return out


def _store_with(url: str, comments: list[Comment]) -> Store:
    store = Store.open(url)
    store.ingest_batch(store.begin_run("ingest", {}), comments)
    return store


def _annotations(store: Store) -> dict[str, list[tuple]]:
    a = t.annotations.c
    query = sa.select(a.comment_id, a.sentence_idx, a.layer, a.label, a.score, a.span_start, a.span_end,
                      a.producer, a.producer_version)  # sorted below: the databases order NULLs differently
    out: dict[str, list[tuple]] = {}
    for row in store.query(query):
        out.setdefault(row.pop("comment_id"), []).append(tuple(row.values()))
    return {k: sorted(v, key=lambda r: (-1 if r[0] is None else r[0], *r[1:3])) for k, v in out.items()}


def _analysed_once(store: Store) -> dict[str, int]:
    query = sa.select(t.analyses.c.comment_id, sa.func.count()).group_by(t.analyses.c.comment_id)
    return {r["comment_id"]: r["count_1"] for r in store.query(query)}


@pytest.fixture(scope="module")
def scheduler() -> str:
    """One real LocalCluster (2 worker processes, 1 thread each) for the module's tests."""
    with local_cluster(2, 1) as cluster, Client(cluster) as client:
        client.register_plugin(RegisterStages(), name="vm-test-stages")  # the kill stage on every worker
        yield cluster.scheduler_address


def _settings(tmp_path: Path, url: str, pipeline: tuple[str, ...] = LEXICON_PIPELINE) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=url, batch_size=20, pipeline=pipeline)


def _reference(tmp_path: Path, comments: list[Comment]) -> dict[str, list[tuple]]:
    url = f"sqlite:///{tmp_path / 'local.db'}"
    store = _store_with(url, comments)
    assert jobs.analyse(_settings(tmp_path, url), store=store).analysed == len(comments)
    return _annotations(store)


def test_dask_engine_gives_the_local_engines_annotations(db_url: str, tmp_path: Path, scheduler: str) -> None:
    comments = _comments(240, "same")
    store = _store_with(db_url, comments)
    result = jobs.analyse(_settings(tmp_path, db_url), store=store, engine="dask", scheduler=scheduler)
    assert result.analysed == 240 and [s.split("@")[0] for s in result.pipeline] == list(LEXICON_PIPELINE)
    got, want = _annotations(store), _reference(tmp_path, comments)
    assert len(got) == 240 and got == want
    assert set(_analysed_once(store).values()) == {1}
    key = store.query(sa.select(t.analyses.c.pipeline).limit(1))[0]["pipeline"]
    units = store.query(sa.select(t.work_units).where(t.work_units.c.pipeline == key))
    assert len(units) == 12 and {u["status"] for u in units} == {"done"} and {u["attempts"] for u in units} == {1}
    assert len({u["worker"] for u in units}) == 2  # both workers took units
    again = jobs.analyse(_settings(tmp_path, db_url), store=store, engine="dask", scheduler=scheduler)
    assert again.analysed == 0


def test_a_killed_worker_loses_nothing(db_url: str, tmp_path: Path, scheduler: str) -> None:
    tag = f"kill{uuid.uuid4().hex[:6]}"
    comments = _comments(120, tag, kill_at=65)  # in the fourth unit of 20
    store = _store_with(db_url, comments)
    settings = _settings(tmp_path, db_url, LEXICON_PIPELINE + ("test.kill_once.v1",))
    result = jobs.analyse(settings, store=store, engine="dask", scheduler=scheduler)
    assert marker(f"{tag}:0065").exists()  # the worker did die on it
    assert result.analysed == 120
    assert _annotations(store) == _reference(tmp_path, comments)
    assert _analysed_once(store) == {c.id: 1 for c in comments}
    units = store.query(sa.select(t.work_units).order_by(t.work_units.c.id))
    assert [u["status"] for u in units] == ["done"] * 6
    assert [u["attempts"] for u in units] == [1, 1, 1, 2, 1, 1]  # only the killed unit was claimed again


def test_dask_engine_from_the_cli_with_its_own_local_cluster(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from voiceminer.cli.main import app

    src = tmp_path / "in.csv"
    src.write_text("id,text,date\n" + "".join(f'{i},"{PHRASES[i % 8]} ({i})",2026-03-0{1 + i % 9}\n' for i in range(60)))
    args = ["--data-dir", str(tmp_path / "d"), "--batch-size", "20", "mine", str(src), "--engine", "dask",
            "--workers", "1", "--json"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["analyse"]["analysed"] == 60
    store = Store.open(f"sqlite:///{tmp_path / 'd' / 'voiceminer.db'}")
    assert store.counts()["analysed"] == 60 and len(_annotations(store)) == 60


def test_claims_are_exclusive_across_concurrent_claimers(db_url: str) -> None:
    store = _store_with(db_url, _comments(200, "excl"))
    run = store.begin_run("analyse", {})
    assert WorkUnits(store, "k").plan(run, 5) == 40 and WorkUnits(store, "k").plan(run, 5) == 0
    got: dict[str, list[int]] = {}

    def claimer(name: str) -> None:
        units = WorkUnits(Store.open(db_url, migrate=False), "k")  # its own connection pool, like a worker
        mine = got.setdefault(name, [])
        while (unit := units.claim(name)) is not None:
            mine.append(unit.id)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    claimed = [u for ids in got.values() for u in ids]
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 40
    assert WorkUnits(store, "k").counts() == {"pending": 0, "claimed": 40, "done": 0}


def test_an_expired_claim_is_taken_over_and_the_late_worker_saves_nothing(db_url: str) -> None:
    store = _store_with(db_url, _comments(10, "lease"))
    run = store.begin_run("analyse", {})
    units = WorkUnits(store, "k")
    assert units.plan(run, 10) == 1
    slow = units.claim("slow", lease_s=0.2)
    assert slow is not None and units.claim("fast") is None  # held
    time.sleep(0.3)
    fast = units.claim("fast")
    assert fast is not None and fast.id == slow.id and fast.attempts == 2
    results = [AnalysisResult(c.id, (), ()) for c in units.comments(fast)]
    assert units.complete(slow, run, results) is False and store.counts()["analysed"] == 0
    assert units.complete(fast, run, results) is True and store.counts()["analysed"] == 10
    assert units.counts() == {"pending": 0, "claimed": 0, "done": 1}
    assert units.release_dead(set()) == 0  # a done unit is not handed back


def test_dead_workers_claims_return_and_a_unit_that_keeps_failing_is_named(db_url: str) -> None:
    store = _store_with(db_url, _comments(10, "dead"))
    units = WorkUnits(store, "k")
    units.plan(store.begin_run("analyse", {}), 5)
    a, b = units.claim("gone"), units.claim("alive")
    assert a is not None and b is not None
    assert units.release_dead({"alive"}) == 1 and units.claimable() == 1
    for i in range(3):
        unit = units.claim(f"w{i}")
        assert unit is not None and unit.id == a.id
        assert units.release(unit)
    assert units.worn_out(4) == a.id and units.worn_out(5) is None


def test_two_planners_at_once_never_put_a_comment_in_two_units(db_url: str) -> None:
    store = _store_with(db_url, _comments(300, "plan"))
    run = store.begin_run("analyse", {})
    made: list[int] = []

    def planner() -> None:
        made.append(WorkUnits(Store.open(db_url, migrate=False), "k").plan(run, 7))

    threads = [threading.Thread(target=planner) for _ in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    rows = store.query(sa.select(t.work_unit_comments.c.comment_id))
    assert len(rows) == 300 and len({r["comment_id"] for r in rows}) == 300
    assert sum(made) == WorkUnits(store, "k").counts()["pending"]
