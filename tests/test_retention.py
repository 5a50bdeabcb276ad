"""Retention (Settings.retention_days): old comments go with everything derived from them, on
SQLite and PostgreSQL; recent ones and shared vectors stay; the ledger keeps its counts but not
customer text; old quarantine and report files are deleted; the CLI and the weekly job apply it."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from voiceminer import jobs
from voiceminer.cli.main import app
from voiceminer.config import LEXICON_PIPELINE, Settings
from voiceminer.errors import ConfigError
from voiceminer.storage import AnalysisResult, Store
from voiceminer.storage import schema as t
from voiceminer.storage.retention import apply_retention, old_comment_ids
from voiceminer.storage.vectors import VectorCache
from voiceminer.triage import add_user, correct, list_cases, open_cases, update_case
from voiceminer.types import Annotation, Comment, Reject, Sentence, text_hash

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
SHARED = "Late again."  # a sentence both an old and a kept comment have: its vector must stay


def _comment(cid: str, text: str, created: datetime | None) -> Comment:
    return Comment(id=cid, text=text, source="t", created_at=created, source_file="in.csv", source_line=1)


def _analyse(store: Store, run: str, c: Comment) -> None:
    first = c.text.split("!")[0] + "!" if "!" in c.text else SHARED
    sents = (Sentence(c.id, 0, 0, len(first), first),)
    anns = (Annotation(c.id, "complaint", "complaint", 0.9, "complaint.shared.v1", "1", None,
                       (0, len(c.text)), {"priority": "high", "priority_score": 0.8, "reasons": ["high"]}),
            Annotation(c.id, "sentiment", "negative", -0.7, "sentiment.vader.v1", "1", 0, (0, len(first))))
    store.save_analysis(run, "p", [AnalysisResult(c.id, sents, anns)])


def _fill(store: Store, settings: Settings) -> dict[str, str]:
    """Old (dated and undated), recent and shared-sentence comments with cases, history, labels,
    vectors, a rejected row and a quarantine file; returns the ids by role."""
    run = store.begin_run("ingest", {})
    old = _comment("t:old", "Never again! Call Jo on 07700 900123.", NOW - timedelta(days=400))
    old_shared = _comment("t:old2", SHARED + " Third time.", NOW - timedelta(days=200))
    undated = _comment("t:undated", "Undated but long ago!", None)
    new = _comment("t:new", SHARED + " Still waiting.", NOW - timedelta(days=10))
    reject = Reject("in.csv", 7, "unparseable date '31/02/2025 jo@example.com'", "created_at", "raw row")
    store.ingest_batch(run, [old, old_shared, undated, new, reject])
    with store.engine.begin() as conn:  # the undated one was ingested 200 days ago
        conn.execute(t.comments.update().where(t.comments.c.id == undated.id)
                     .values(ingested_at=NOW - timedelta(days=200)))
        conn.execute(t.runs.update().where(t.runs.c.id == run).values(
            started_at=NOW - timedelta(days=200), error="InputError: row 7 'jo@example.com'",
            counts={"reject_examples": {"unparseable date": "in.csv line 7: '31/02/2025 jo@example.com'"},
                    "rows": 5}))
    for c in (old, old_shared, undated, new):
        _analyse(store, run, c)
    cache = VectorCache(store, "enc@1")
    cache.put({text_hash(s): np.ones(3, np.float32)
               for s in ("Never again!", SHARED, "Undated but long ago!")})
    cache.put({text_hash("a training text"): np.ones(3, np.float32)})  # not from any sentence: stays
    assert open_cases(store, settings, run, now=NOW) == 4
    ana = add_user(store, "ana", "triager", "password123")
    for case in list_cases(store, now=NOW, limit=10)[0]:
        update_case(store, case.id, ana, case.version, status="acknowledged", now=NOW)
        correct(store, case.comment_id, ana, "theme", "delivery", case_id=case.id)
    quarantine = settings.quarantine_dir
    quarantine.mkdir(parents=True)
    (quarantine / "20260101T000000-aaaaaaaa.csv").write_text("file,line,field,reason,raw\n")
    (quarantine / "20261030T000000-bbbbbbbb.csv").write_text("file,line,field,reason,raw\n")
    settings.reports_dir.mkdir(parents=True)
    stale = settings.reports_dir / "report_week_2025-01-06_2025-03-30.json"
    stale.write_text("{}")
    os.utime(stale, (NOW.timestamp() - 300 * 86400,) * 2)
    (settings.reports_dir / "report_week_2026-09-07_2026-10-26.json").write_text("{}")
    return {"old": old.id, "old_shared": old_shared.id, "undated": undated.id, "new": new.id}


def _snapshot(store: Store) -> dict[str, int]:
    return {table.name: _table_count(store, table) for table in
            (t.comments, t.sentences, t.cases, t.case_events, t.labels, t.encodings, t.ingest_ledger)}


def _table_count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_retention_deletes_old_comments_and_everything_derived(db_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, pipeline=LEXICON_PIPELINE,
                        retention_days=180)
    store = Store.open(db_url)
    ids = _fill(store, settings)
    before = _snapshot(store)
    assert sorted(old_comment_ids(store, NOW - timedelta(days=180))) == sorted(
        [ids["old"], ids["old_shared"], ids["undated"]])

    dry = apply_retention(store, settings, NOW, dry_run=True)
    assert _snapshot(store) == before  # a dry run changes nothing
    result = apply_retention(store, settings, NOW)
    assert result["counts"] == dry["counts"]  # ... and counted exactly what the real run deletes
    counts = result["counts"]
    assert [counts[k] for k in ("comments", "sentences", "annotations", "analyses")] == [3, 3, 6, 3]
    assert (counts["cases"], counts["labels"]) == (3, 3) and counts["case_events"] >= 3
    assert counts["encodings"] == 2  # "Never again!" and the undated one; SHARED is still used by t:new
    assert (counts["ledger_reasons"], counts["runs_scrubbed"]) == (1, 1)
    assert (counts["quarantine_files"], counts["report_files"]) == (1, 1)

    with store.engine.connect() as conn:
        assert [r.id for r in conn.execute(sa.select(t.comments.c.id))] == [ids["new"]]
        for table in (t.sentences, t.annotations, t.analyses, t.cases, t.labels):
            assert {r[0] for r in conn.execute(sa.select(table.c.comment_id))} == {ids["new"]}, table.name
        kept_case = conn.execute(sa.select(t.cases.c.id)).scalar_one()
        assert {r[0] for r in conn.execute(sa.select(t.case_events.c.case_id))} == {kept_case}
        assert {r[0] for r in conn.execute(sa.select(t.encodings.c.text_hash))} == {
            text_hash(SHARED), text_hash("a training text")}
        ledger = conn.execute(sa.select(t.ingest_ledger.c.outcome, t.ingest_ledger.c.reason)).all()
        run = conn.execute(sa.select(t.runs.c.counts, t.runs.c.error).where(t.runs.c.kind == "ingest")).one()
    assert len(ledger) == before["ingest_ledger"]  # the ledger still adds up ...
    assert ("rejected", "unparseable date") in ledger  # ... without the rejected row's text
    assert run.counts == {"rows": 5} and run.error == "InputError"
    assert sorted(p.name for p in settings.quarantine_dir.iterdir()) == ["20261030T000000-bbbbbbbb.csv"]
    assert [p.name for p in settings.reports_dir.iterdir()] == ["report_week_2026-09-07_2026-10-26.json"]
    assert apply_retention(store, settings, NOW)["counts"]["comments"] == 0  # idempotent
    store.close()


def test_sqlite_store_enforces_foreign_keys_and_cascades(tmp_path: Path) -> None:
    """The store turns SQLite's foreign keys on, so deleting a comment alone also removes its rows."""
    store = Store.open(f"sqlite:///{tmp_path / 's.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    run = store.begin_run("ingest", {})
    c = _comment("t:1", "Late again.", NOW)
    store.ingest_batch(run, [c])
    _analyse(store, run, c)
    with store.engine.begin() as conn:
        conn.execute(t.comments.delete())
    assert (_table_count(store, t.sentences), _table_count(store, t.annotations)) == (0, 0)


def test_sqlite_deleted_text_leaves_the_search_index(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    settings = Settings(data_dir=tmp_path / "d", database_url=f"sqlite:///{db}", retention_days=30)
    store = Store.open(settings.database_url)
    run = store.begin_run("ingest", {})
    store.ingest_batch(run, [_comment("t:1", "zanzibarquux complaint", NOW - timedelta(days=90)),
                             _comment("t:2", "kept text", NOW)])
    apply_retention(store, settings, NOW)
    with store.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT count(*) FROM comments_fts WHERE comments_fts MATCH 'zanzibarquux'")
        assert found.scalar() == 0
    store.close()
    assert b"zanzibarquux" not in db.read_bytes()  # secure_delete + a truncated WAL: not in the file either
    wal = Path(f"{db}-wal")
    assert not wal.exists() or b"zanzibarquux" not in wal.read_bytes()


def test_zero_keeps_everything_and_bad_values_are_refused(tmp_path: Path) -> None:
    store = Store.open("sqlite://")
    run = store.begin_run("ingest", {})
    store.ingest_batch(run, [_comment("t:1", "ancient", datetime(2001, 1, 1, tzinfo=timezone.utc))])
    result = apply_retention(store, Settings(data_dir=tmp_path), NOW)
    assert result["cutoff"] is None and sum(result["counts"].values()) == 0
    assert _table_count(store, t.comments) == 1
    for bad in (-1, 1.5, True):
        with pytest.raises(ConfigError, match="retention_days"):
            Settings(data_dir=tmp_path, retention_days=bad)
    assert Settings.load(env={"VOICEMINER_RETENTION_DAYS": "90"}, config_path=None).retention_days == 90


def _export(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("id,date,text\n" + "".join(f"{i},{d},{x}\n" for i, d, x in rows), encoding="utf-8")
    return path


def test_cli_dry_run_then_apply(tmp_path: Path) -> None:
    data = tmp_path / "data"
    today = datetime.now(timezone.utc).date().isoformat()
    export = _export(tmp_path / "in.csv", [("1", "2020-01-05", "Old and late."),
                                           ("2", today, "New and fine.")])
    runner = CliRunner()
    assert runner.invoke(app, ["--data-dir", str(data), "ingest", str(export)]).exit_code == 0
    env = {"VOICEMINER_RETENTION_DAYS": "365"}
    dry = runner.invoke(app, ["--data-dir", str(data), "retention", "apply", "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["counts"]["comments"] == 1 and json.loads(dry.stdout)["dry_run"] is True
    done = runner.invoke(app, ["--data-dir", str(data), "retention", "apply"], env=env)
    assert done.exit_code == 0 and "deleted 1 comment" in done.stdout, done.output
    store = Store.open(Settings(data_dir=data).database_url)
    assert [c.text for c in store.iter_comments()] == ["New and fine."]
    off = runner.invoke(app, ["--data-dir", str(data), "retention", "apply"],
                        env={"VOICEMINER_RETENTION_DAYS": "0"})
    assert off.exit_code == 0 and "keep forever" in off.stdout


def test_weekly_job_applies_retention_before_the_report(tmp_path: Path) -> None:
    today = datetime.now(timezone.utc).date()
    recent = (today - timedelta(days=3)).isoformat()
    export = _export(tmp_path / "in.csv", [("1", "2019-03-04", "Ancient complaint zanzibarquux."),
                                           ("2", recent, "Recent and fine.")])
    settings = Settings(data_dir=tmp_path / "data", pipeline=LEXICON_PIPELINE, retention_days=365)
    result = jobs.mine(settings, [export], report_formats=["json"])
    store = jobs.open_store(settings)
    assert _table_count(store, t.comments) == 1
    meta = json.loads(Path(result.report["json"]).read_text(encoding="utf-8"))["meta"]
    assert meta["first_date"] == recent  # without retention: 2019-03-04
    runs = [r for r in store.recent_runs(10) if r.kind == "retention"]
    assert runs and runs[0].counts["counts"]["comments"] == 1
