"""The report's "You said, we did" section (resolved triage cases) and its links to the
service's theme pages (``service_url``)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from voiceminer.config import LEXICON_PIPELINE, Settings
from voiceminer.errors import ConfigError
from voiceminer.report import build_report
from voiceminer.storage import AnalysisResult, Store
from voiceminer.triage import add_user, list_cases, open_cases, update_case
from voiceminer.types import Annotation, Comment, Sentence

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
ACTION = "<script>alert('x')</script>=HYPERLINK(\"http://evil.example\") refunded the fee"


def _settings(tmp_path: Path, **kw) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'store.db'}",
                    pipeline=LEXICON_PIPELINE, **kw)


def _analysed(store: Store, cid: str, text: str, theme: str = "delivery", cause: str = "delivery.late") -> None:
    run = store.begin_run("ingest", {})
    store.ingest_batch(run, [Comment(id=cid, text=text, source="t", created_at=T0 - timedelta(days=1),
                                     channel="email", metadata={})])
    end = len(text)
    anns = [Annotation(cid, "complaint", "complaint", 0.9, "complaint.shared.v1", "1", None, (0, end),
                       {"priority": "high", "priority_score": 0.7, "reasons": ["high because"]}),
            Annotation(cid, "sentiment", "negative", 0.9, "sentiment.v1", "1", None, (0, end), {"score": -0.8}),
            Annotation(cid, "theme", theme, 0.8, "themes.v1", "1", 0, (0, end),
                       {"label": theme.title(), "cause": cause, "cause_label": "Late", "cause_evidence": [0, 4]})]
    store.save_analysis(run, "p", [AnalysisResult(cid, (Sentence(cid, 0, 0, end, text),), tuple(anns))])


def _store_with_cases(settings: Settings, resolve: bool = True) -> Store:
    store = Store.open(settings.database_url)
    _analysed(store, "c1", "Late again, third time this month.")
    _analysed(store, "c2", "The courier was late and rude.")
    open_cases(store, settings, store.begin_run("analyse", {}), now=T0)
    if resolve:
        ana = add_user(store, "ana", "triager", "password123")
        for i, case in enumerate(sorted(list_cases(store, now=T0)[0], key=lambda c: c.id)):
            update_case(store, case.id, ana, case.version, status="resolved", action=ACTION,
                        cause="delivery.courier", now=T0 + timedelta(hours=2 + 4 * i))
    return store


def test_resolved_cases_are_a_report_section(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = _store_with_cases(settings)
    try:
        report = build_report(settings, store=store, out_dir=tmp_path / "r")
    finally:
        store.close()
    figures = json.loads(Path(report.paths["json"]).read_text(encoding="utf-8"))
    rows = figures["you_said_we_did"]
    assert len(rows) == 1
    row = rows[0]
    assert (row["theme"], row["resolved"]) == ("delivery", 2)
    assert row["actions"] == [{"action": ACTION, "count": 2}]
    assert row["median_hours_to_resolve"] == 4.0 and row["p90_hours_to_resolve"] == pytest.approx(5.6)
    assert row["causes"] == [{"id": "delivery.courier", "label": row["causes"][0]["label"], "cases": 2}]
    assert row["period"] == "2026-10-05"  # the week it was resolved (its Monday)
    html = Path(report.paths["html"]).read_text(encoding="utf-8")
    section = html[html.index('<section id="outcomes">'):]
    section = section[:section.index("</section>")]
    assert "&lt;script&gt;alert(" in section and "<script" not in html.lower()
    assert "(×2)" in section and ">4.0<" in section
    assert 'href="' not in section  # no service_url: no links
    md = Path(report.paths["md"]).read_text(encoding="utf-8")
    assert "## You said, we did" in md and "\\<script\\>" in md and "<script>" not in md

    from openpyxl import load_workbook

    ws = load_workbook(report.paths["xlsx"])["You said, we did"]
    actions = [r[4] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert actions == [f"{ACTION} (x2)"]  # starts with '<', so as written; a formula would be quoted
    from voiceminer.report.exports import _sheets
    from voiceminer.textsafety import safe_cell

    figures["you_said_we_did"][0]["actions"][0]["action"] = "=cmd|' /C calc'!A0"
    assert str(safe_cell(_sheets(figures)["You said, we did"][1][0][4])).startswith("'=")


def test_no_resolved_cases_is_one_line(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = _store_with_cases(settings, resolve=False)  # open cases only: nothing resolved
    try:
        report = build_report(settings, store=store, out_dir=tmp_path / "r", formats=["html", "json", "md"])
    finally:
        store.close()
    assert report.figures["you_said_we_did"] == []
    html = Path(report.paths["html"]).read_text(encoding="utf-8")
    section = html[html.index('<section id="outcomes">'):]
    section = section[:section.index("</section>")]
    assert "No triage cases were resolved in this range." in section and "<table" not in section
    assert "No triage cases were resolved in this range." in Path(report.paths["md"]).read_text(encoding="utf-8")


def test_range_keeps_cases_resolved_inside_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    store = _store_with_cases(settings)
    try:
        before = build_report(settings, store=store, out_dir=tmp_path / "a", until=date(2026, 10, 5),
                              formats=["json"])
    finally:
        store.close()
    assert before.figures["you_said_we_did"] == []  # resolved on 5 October: outside [.., 5 Oct)


def test_theme_names_link_to_the_service(tmp_path: Path) -> None:
    settings = _settings(tmp_path, service_url="https://voice.example.com/")
    store = _store_with_cases(settings)
    try:
        linked = build_report(settings, store=store, out_dir=tmp_path / "l", formats=["html"])
        plain = build_report(_settings(tmp_path), store=store, out_dir=tmp_path / "p", formats=["html"])
    finally:
        store.close()
    html = Path(linked.paths["html"]).read_text(encoding="utf-8")
    links = set(re.findall(r'<a href="(https://[^"]+)">', html))
    assert "https://voice.example.com/themes/delivery" in links
    assert all(u.startswith("https://voice.example.com/themes/") for u in links)
    assert not re.search(r'href="https?:', Path(plain.paths["html"]).read_text(encoding="utf-8"))


def test_service_url_must_be_http() -> None:
    with pytest.raises(ConfigError, match="service_url"):
        Settings(database_url="sqlite://", service_url="javascript:alert(1)")
