"""The HTML report: escaped customer text, self-contained, deterministic."""

import json
import re
from datetime import datetime, timezone
from pathlib import Path

from voiceminer import jobs
from voiceminer.config import LEXICON_PIPELINE, Settings
from voiceminer.report import build_report, headlines

HOSTILE = "<script>alert('x')</script> the delivery was awful and late, terrible service"


def test_hostile_text_is_escaped_and_report_is_self_contained(tmp_path: Path) -> None:
    export = tmp_path / "x.jsonl"
    rows = [{"id": str(i), "text": HOSTILE if i == 0 else f"Awful, horrible delivery number {i}, really bad.",
             "date": f"2026-09-{1 + 7 * i:02d}"} for i in range(5)]
    export.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", pipeline=LEXICON_PIPELINE)
    result = jobs.mine(settings, [export])
    html = Path(result.report["html"]).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(" in html
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "@import" not in html and "url(" not in html
    assert "Content-Security-Policy" in html


def test_headlines_from_numbers() -> None:
    figures = {
        "meta": {"period": "week"},
        "overall": {"comments": 30, "sources": 2, "channels": 1, "negative_share": 0.5, "positive_share": 0.25},
        "periods": [{"period": "2026-09-21", "comments": 10, "net_sentiment": 10.0, "negative_share": 0.3},
                    {"period": "2026-09-28", "comments": 20, "net_sentiment": -40.0, "negative_share": 0.6}],
        "channels": [{"channel": "survey", "negative_share": 0.5}],
    }
    lines = headlines(figures)
    assert lines[0].startswith("30 comments from 2 source(s)")
    assert "net sentiment -40 (-50 points on the week before)" in lines[1]
    assert "Lowest net sentiment: 2026-09-28" in lines[2]


def test_empty_store_still_renders(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", pipeline=LEXICON_PIPELINE)
    report = build_report(settings, store=jobs.open_store(settings))
    assert "No comments are stored" in Path(report.paths["html"]).read_text(encoding="utf-8")


def test_report_range_filters_comments(tmp_path: Path) -> None:
    export = tmp_path / "x.csv"
    export.write_text("id,text,date\n1,Good stuff here,2026-09-01\n2,Bad stuff here,2026-09-20\n", encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", timezone="Europe/London", pipeline=LEXICON_PIPELINE)
    jobs.mine(settings, [export])
    report = build_report(settings, store=jobs.open_store(settings), since=datetime(2026, 9, 10).date(),
                          period="month")
    assert report.figures["overall"]["comments"] == 1
    assert report.figures["periods"][0]["period"] == "2026-09-01"
    assert datetime.fromisoformat(report.figures["overall"]["first"]) == datetime(2026, 9, 19, 23, tzinfo=timezone.utc)
