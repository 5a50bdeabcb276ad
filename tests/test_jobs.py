"""The weekly job: idempotent reruns, the ledger, quarantine, and a job killed midway."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from voiceminer import jobs
from voiceminer.config import LEXICON_PIPELINE, Settings
from voiceminer.storage import Store
from voiceminer.storage import schema as t

PHRASES = ["Delivery was late again.", "Lovely fresh veg, thank you!", "The app logs me out every time.",
           "Support answered fast but could not fix the refund.", "Too expensive for what you get."]


def write_export(path: Path, n: int, bad_every: int = 0) -> int:
    """A review-site CSV with ``n`` data rows; every ``bad_every``-th row has an empty text."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["review_id", "date", "rating", "title", "review_text", "product"])
        for i in range(n):
            text = "" if bad_every and i % bad_every == bad_every - 1 else f"{PHRASES[i % 5]} (order {i})"
            w.writerow([f"RV-{i:05d}", f"2026-09-{1 + i % 28:02d}", 1 + i % 5, "t", text, "kit"])
    return n


def test_ingest_twice_stores_once_and_ledger_adds_up(settings: Settings, tmp_path: Path) -> None:
    export = tmp_path / "reviews.csv"
    rows = write_export(export, 120, bad_every=10)
    first = jobs.ingest(settings, [export])
    assert first.counts.as_dict() == {"rows": rows, "stored": 108, "duplicate": 0, "rejected": 12}
    second = jobs.ingest(settings, [export])
    assert second.counts.as_dict() == {"rows": rows, "stored": 0, "duplicate": 108, "rejected": 12}
    store = jobs.open_store(settings)
    assert store.counts()["comments"] == 108
    for run in (first, second):
        ledger = store.ledger_counts(run.run_id)
        assert sum(ledger.values()) == rows
        assert store.get_run(run.run_id).status == "completed"


def test_rejects_go_to_quarantine_with_file_line_and_reason(settings: Settings, tmp_path: Path) -> None:
    export = tmp_path / "reviews.csv"
    write_export(export, 20, bad_every=10)
    result = jobs.ingest(settings, [export])
    with result.quarantine_file.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["file"], r["line"], r["field"], r["reason"]) for r in rows] == [
        (str(export), "11", "review_text", "empty text"), (str(export), "21", "review_text", "empty text")]
    assert result.reject_reasons == {"empty text": 2}


def test_mine_analyses_only_new_comments_and_report_is_stable(settings: Settings, tmp_path: Path) -> None:
    export = tmp_path / "reviews.csv"
    write_export(export, 60)
    first = jobs.mine(settings, [export])
    assert first.analyse.analysed == 60
    html1 = Path(first.report["html"]).read_bytes()
    again = jobs.mine(settings, [export])
    assert again.ingest.counts.stored == 0 and again.analyse.analysed == 0
    assert Path(again.report["html"]).read_bytes() == html1
    store = jobs.open_store(settings)
    assert store.counts()["analysed"] == 60 and store.count_pending(_key(settings)) == 0


def _key(settings: Settings) -> str:
    from voiceminer.pipeline import Pipeline

    return Pipeline.from_names(settings.pipeline).key


@pytest.mark.postgres
def test_mine_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=pg_url, batch_size=40,
                        pipeline=LEXICON_PIPELINE)
    export = tmp_path / "reviews.csv"
    write_export(export, 90, bad_every=30)
    result = jobs.mine(settings, [export])
    assert result.ingest.counts.as_dict() == {"rows": 90, "stored": 87, "duplicate": 0, "rejected": 3}
    assert jobs.mine(settings, [export]).ingest.counts.stored == 0
    assert jobs.status(settings)["counts"]["analysed"] == 87


def test_failure_midway_leaves_whole_batches_and_rerun_finishes(settings: Settings, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    export = tmp_path / "reviews.csv"
    write_export(export, 200)
    real = Store.ingest_batch
    calls = {"n": 0}

    def flaky(self, run_id, items):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return real(self, run_id, items)

    monkeypatch.setattr(Store, "ingest_batch", flaky)
    with pytest.raises(RuntimeError, match="disk on fire"):  # the batch's own error, not some other one
        jobs.ingest(settings, [export])
    store = jobs.open_store(settings)
    assert store.counts()["comments"] == 100  # two whole batches of 50
    assert store.recent_runs(1)[0].status == "failed"
    monkeypatch.setattr(Store, "ingest_batch", real)
    rerun = jobs.ingest(settings, [export])
    assert rerun.counts.as_dict() == {"rows": 200, "stored": 100, "duplicate": 100, "rejected": 0}
    assert store.counts()["comments"] == 200


def test_job_killed_with_sigkill_then_rerun_completes(tmp_path: Path) -> None:
    """A real `voiceminer mine` process is killed mid-analysis; the store stays consistent."""
    export = tmp_path / "reviews.csv"
    write_export(export, 3000)
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "voiceminer.cli.main", "--data-dir", str(data), "--batch-size", "20",
           "--quiet", "mine", str(export)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    engine = sa.create_engine(f"sqlite:///{data / 'voiceminer.db'}")
    deadline = time.monotonic() + 120
    analysed = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        try:
            with engine.connect() as conn:
                analysed = conn.execute(sa.select(sa.func.count()).select_from(t.analyses)).scalar_one()
        except sa.exc.OperationalError:
            continue
        if analysed >= 100:
            break
    assert proc.poll() is None, f"job ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    engine.dispose()
    store = Store.open(f"sqlite:///{data / 'voiceminer.db'}")
    partial = store.counts()
    assert partial["comments"] == 3000 and 0 < partial["analysed"] < 3000
    assert partial["analysed"] % 20 == 0  # only whole batches were committed
    done = subprocess.run(cmd[:-2] + ["mine", str(export), "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    store = Store.open(f"sqlite:///{data / 'voiceminer.db'}")
    assert store.counts()["analysed"] == 3000
    assert [r.status for r in store.recent_runs(2)] == ["completed", "interrupted"]
    assert store.ledger_counts() == {"stored": 3000, "duplicate": 3000, "rejected": 0}


def test_pii_is_redacted_before_storage_when_configured(tmp_path: Path) -> None:
    export = tmp_path / "t.jsonl"
    export.write_text('{"id": "1", "text": "Email me at ann@example.com or call 07700 900123"}\n'
                      '{"id": "2", "text": "", "note": "ann@example.com"}\n', encoding="utf-8")
    plain = Settings(data_dir=tmp_path / "plain", pipeline=LEXICON_PIPELINE)
    jobs.ingest(plain, [export])
    assert "ann@example.com" in next(jobs.open_store(plain).iter_comments()).text
    private = Settings(data_dir=tmp_path / "private", redact_pii=True, pipeline=LEXICON_PIPELINE)
    result = jobs.ingest(private, [export])
    stored = next(jobs.open_store(private).iter_comments())
    assert stored.text == "Email me at [EMAIL] or call [PHONE]" and stored.id == "t:1"
    with result.quarantine_file.open(encoding="utf-8") as fh:  # the rejected row is there, its raw text redacted
        assert [(r["line"], r["raw"]) for r in csv.DictReader(fh)] == [("2", "2 |  | [EMAIL]")]
