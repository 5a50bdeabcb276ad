"""The CLI: exit codes scripts rely on, --json, --quiet, and where things are written."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voiceminer.cli.main import app

runner = CliRunner()


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "survey.csv"
    path.write_text("response_id;submitted;nps_score;comment\n"
                    "1;28/09/2026 09:15;2;Late delivery again, driver was rude.\n"
                    "2;29/09/2026 10:00;10;Fresh veg and a lovely driver!\n"
                    "3;30/09/2026 11:00;11;Score out of range here.\n"
                    "4;30/09/2026 12:00;7;\n", encoding="utf-8")
    return path


def vm(tmp_path: Path, *args: str):
    return runner.invoke(app, ["--data-dir", str(tmp_path / "data"), *args])


def test_mine_prints_summary_and_where_it_wrote(tmp_path: Path, export: Path) -> None:
    result = vm(tmp_path, "mine", str(export))
    assert result.exit_code == 0, result.output
    assert "read 4 row(s) from 1 file(s): 2 stored, 0 duplicate, 2 rejected" in result.stdout
    assert "report (html):" in result.stdout and "quarantine:" in result.stdout
    html = next((tmp_path / "data" / "reports").glob("*.html"))
    assert str(html) in result.stdout


def test_ingest_says_when_rows_have_no_date(tmp_path: Path, export: Path) -> None:
    assert "no date" not in vm(tmp_path, "ingest", str(export)).stdout  # every row dated
    undated = tmp_path / "reviews.csv"
    undated.write_text("review_id,review\n1,Lovely food.\n2,Rude staff.\n", encoding="utf-8")
    result = vm(tmp_path, "ingest", str(undated))
    assert result.exit_code == 0, result.output
    assert "2 row(s) had no date: reports file them under the day they were collected" in result.stdout
    assert "--map created_at=COLUMN" in result.stdout
    assert json.loads(vm(tmp_path, "ingest", str(undated), "--json").stdout)["undated"] == 2


def test_ingest_and_tag_say_which_column_was_read_as_what(tmp_path: Path) -> None:
    """A wrong guess (the label column read as the text) showed only as odd themes; the summary names it."""
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text("id,text,reason\n1,my bag never arrived,Lost Luggage\n", encoding="utf-8")
    result = vm(tmp_path, "ingest", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"))
    assert result.exit_code == 0, result.output
    assert "2 files (a.csv, b.csv): text from 'text', id 'id', no date column; also kept: 'reason'" in result.stdout
    layouts = json.loads(vm(tmp_path, "ingest", str(tmp_path / "a.csv"), "--json").stdout)["layouts"]
    assert layouts == [{"file": "a.csv", "preset": None, "text": ["text"], "id": "id", "created_at": None,
                        "rating": None, "title": None, "channel": None, "metadata": ["reason"], "headerless": False}]


def test_json_summary_is_machine_readable(tmp_path: Path, export: Path) -> None:
    result = vm(tmp_path, "ingest", str(export), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["rows"], data["stored"], data["rejected"]) == (4, 2, 2)
    assert data["reject_reasons"] == {"rating N outside 0-10": 1, "empty text": 1}
    status = json.loads(vm(tmp_path, "status", "--json").stdout)
    assert status["counts"]["comments"] == 2 and status["runs"][0]["kind"] == "ingest"


def test_quiet_prints_nothing(tmp_path: Path, export: Path) -> None:
    result = vm(tmp_path, "--quiet", "ingest", str(export))
    assert result.exit_code == 0 and result.stdout == ""


@pytest.mark.parametrize("args, code, message", [
    (["ingest", "missing.csv"], 3, "missing.csv"),
    (["ingest", "{export}", "--preset", "nope"], 3, "nope"),
    (["ingest", "{export}", "--map", "txet=comment"], 3, "txet"),
    (["--timezone", "Mars/Base", "ingest", "{export}"], 4, "IANA"),
    (["report", "--since", "yesterday"], 4, "--since"),
    (["--database-url", "postgresql+psycopg://postgres@127.0.0.1:1/x?connect_timeout=2", "status"], 5, "store"),
    (["ingest", "{export}", "--strict"], 6, "2 row(s) rejected"),
    (["ingest", "{export}", "--no-such-option"], 2, "No such option"),
])
def test_exit_codes(tmp_path: Path, export: Path, args: list[str], code: int, message: str) -> None:
    result = vm(tmp_path, *[a.replace("{export}", str(export)) for a in args])
    assert result.exit_code == code, result.output
    assert message in result.output


def test_report_rebuilds_a_range_from_the_store(tmp_path: Path, export: Path) -> None:
    assert vm(tmp_path, "mine", str(export)).exit_code == 0
    result = vm(tmp_path, "report", "--since", "2026-09-29", "--until", "2026-10-01", "--json")
    data = json.loads(result.stdout)
    assert data["summary"]["overall"]["comments"] == 1
    assert Path(data["report"]["html"]).name == "report_week_2026-09-29_2026-10-01.html"


def test_console_script_is_installed(tmp_path: Path, export: Path) -> None:
    exe = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "voiceminer"
    if not exe.exists():
        if os.environ.get("CI"):  # CI runs scripts/test.sh, which installs it: missing is a failure there
            pytest.fail(f"{exe} is missing on CI")
        pytest.skip("no .venv console script (tests not run through scripts/test.sh)")
    done = subprocess.run([str(exe), "--data-dir", str(tmp_path / "d"), "ingest", str(export), "--strict"],
                          capture_output=True, text=True)
    assert done.returncode == 6 and "rejected" in done.stderr
