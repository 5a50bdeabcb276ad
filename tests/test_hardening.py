"""Issue 17's findings: implausible dates are quarantined, reject reasons keep their numbers."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from typer.testing import CliRunner

from voiceminer.cli.main import app
from voiceminer.collectors import collect
from voiceminer.types import Reject

runner = CliRunner()


def _csv(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "export.csv"
    path.write_text("id,date,text\n" + body, encoding="utf-8")
    return path


def test_future_and_epoch_dates_are_quarantined_with_their_reason(tmp_path: Path) -> None:
    path = _csv(tmp_path, "1,2026-09-28,Late again\n2,2099-12-31,From the future\n3,1970-01-01,Epoch zero\n"
                          "4,2026-11-29,Yesterday is fine\n")
    items = list(collect([path]))
    rejects = {r.line: r.reason for r in items if isinstance(r, Reject)}
    assert rejects == {3: "date '2099-12-31' is in the future",
                       4: "date '1970-01-01' is implausibly old (before 2000-01-01)"}
    assert all(r.field == "date" for r in items if isinstance(r, Reject))


def test_a_future_date_never_becomes_the_current_period(tmp_path: Path) -> None:
    path = _csv(tmp_path, "".join(f"{i},2026-09-{10 + i:02d},Delivery was late again number {i}\n"
                                  for i in range(12)) + "99,2099-12-31,Hello from 2099\n")
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "data"), "mine", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ingest"]["rejected"] == 1
    figures = json.loads(Path(data["report"]["json"]).read_text())
    assert figures["meta"]["current_period"] == "2026-09-21"  # the week of the newest valid rows
    assert "2099" not in json.dumps(figures)


def test_console_summary_keeps_the_reason_readable(tmp_path: Path) -> None:
    path = _csv(tmp_path, "1,2026-09-28,Fine\n2,2026-09-28,too,many,fields,here\n")
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "data"), "ingest", str(path)])
    assert result.exit_code == 0, result.output
    assert "expected N fields, found N" in result.stdout
    assert "export.csv line 3: expected 3 fields, found 6" in result.stdout
    assert "expected fields, found" not in result.stdout


def test_every_row_keeps_the_exports_own_id(tmp_path: Path) -> None:
    path = _csv(tmp_path, "A-1,2026-09-28,Late again\nA-2,2026-09-28,\nA-3,not a date,Fine\n")
    items = list(collect([path]))
    assert [i.source_id for i in items] == ["A-1", "A-2", "A-3"]
    assert [type(i).__name__ for i in items] == ["Comment", "Reject", "Reject"]
    assert items[0].id == "export:A-1"  # the stored id adds the source
