"""The report: escaped customer text, self-contained, deterministic, exports, alerts, weekly job."""

import csv
import json
import re
import threading
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from voiceminer import jobs
from voiceminer.config import LEXICAL_PIPELINE, LEXICON_PIPELINE, Settings
from voiceminer.report import build_report
from voiceminer.report.summary import executive_summary

HOSTILE = "<script>alert('x')</script> the delivery was awful and late, terrible service"
FORMULA = '=HYPERLINK("http://evil.example","click") awful awful awful service'


def _lexicon(tmp_path: Path, **kw) -> Settings:
    return Settings(data_dir=tmp_path / "data", pipeline=LEXICON_PIPELINE, **kw)


def _export(tmp_path: Path, rows: list[dict], name: str = "x.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


def test_hostile_text_is_escaped_and_report_is_self_contained(tmp_path: Path) -> None:
    rows = [{"id": str(i), "text": HOSTILE if i == 0 else f"Awful, horrible delivery number {i}, really bad.",
             "date": "2026-09-01"} for i in range(3)]
    result = jobs.mine(_lexicon(tmp_path), [_export(tmp_path, rows)])
    html = Path(result.report["html"]).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(" in html
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "@import" not in html and "url(" not in html
    assert "Content-Security-Policy" in html
    md = Path(result.report["md"]).read_text(encoding="utf-8")
    assert "<script>" not in md


def test_exports_cannot_run_formulas(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    rows = [{"id": str(i), "text": FORMULA, "date": "2026-09-01"} for i in range(1)]
    rows += [{"id": f"b{i}", "text": f"Lovely fresh veg, great service number {i}", "date": "2026-09-02"}
             for i in range(3)]
    result = jobs.mine(_lexicon(tmp_path), [_export(tmp_path, rows)])
    report = build_report(_lexicon(tmp_path), store=jobs.open_store(_lexicon(tmp_path)))
    # put customer text into a sheet: the summary quotes the worst comment of the period
    report.figures["headlines"].append(FORMULA)
    from voiceminer.report.exports import write_xlsx

    path = write_xlsx(report.figures, tmp_path / "x.xlsx")
    cells = [c.value for ws in load_workbook(path) for row in ws.iter_rows() for c in row if c.value]
    assert any(str(v).startswith("'=HYPERLINK") for v in cells)
    assert not any(str(v).startswith("=") for v in cells)
    with open(result.report["csv"], encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == ["level", "id", "label", "period", "comments", "share", "net_sentiment"]


def test_executive_summary_from_numbers() -> None:
    figures = {
        "meta": {"period": "week", "first_day": "2026-09-21", "last_day": "2026-09-28", "min_volume": 10,
                 "first_date": "2026-09-21", "last_date": "2026-10-04"},
        "overall": {"comments": 30, "sources": 2, "channels": 1, "negative_share": 0.5, "positive_share": 0.25,
                    "nps": {"nps": -20.0, "responses": 10}, "csat": None},
        "periods": [{"period": "2026-09-21", "comments": 10, "net_sentiment": 10.0, "negative_share": 0.3},
                    {"period": "2026-09-28", "comments": 20, "net_sentiment": -40.0, "negative_share": 0.6}],
        "alerts": [], "themes": [], "spikes": [], "root_causes": [], "needs": [], "gone_quiet": [],
        "drivers": {"impact": []},
        "promises": [{"label": "Plastic-free", "verdict": "never raised", "comments": 300, "mentions": 0,
                      "rule_of_three": 0.01}],
    }
    lines = executive_summary(figures)
    assert lines[0].startswith("30 comments from 2 source(s) between 2026-09-21 and 2026-10-04: net sentiment -25")
    assert "NPS -20 from 10 survey answers" in lines[0]
    assert "net sentiment -40 (-50 on the period before)" in lines[1]
    assert any("0 of 300 comments, so fewer than 1.00% of customers" in line for line in lines)


def test_empty_store_still_renders(tmp_path: Path) -> None:
    settings = _lexicon(tmp_path)
    report = build_report(settings, store=jobs.open_store(settings))
    assert "No comments are stored" in Path(report.paths["html"]).read_text(encoding="utf-8")
    assert report.figures["alerts"] == [] and Path(report.paths["alerts_json"]).exists()


def test_report_range_filters_comments(tmp_path: Path) -> None:
    export = tmp_path / "x.csv"
    export.write_text("id,text,date\n1,Good stuff here,2026-09-01\n2,Bad stuff here,2026-09-20\n", encoding="utf-8")
    settings = _lexicon(tmp_path, timezone="Europe/London")
    jobs.mine(settings, [export])
    report = build_report(settings, store=jobs.open_store(settings), since=datetime(2026, 9, 10).date(),
                          period="month")
    assert report.figures["overall"]["comments"] == 1
    assert report.figures["periods"][0]["period"] == "2026-09-01"
    assert datetime.fromisoformat(report.figures["overall"]["first"]) == datetime(2026, 9, 19, 23, tzinfo=timezone.utc)


def _weeks(n_weeks: int, start: date = date(2026, 8, 3)) -> list[dict]:
    """Lexicon-friendly comments: an NPS survey, one planted complaint keyword ('refund') spiking in the last week."""
    from datetime import timedelta

    rows = []
    for w in range(n_weeks):
        day = start + timedelta(days=7 * w + 2)
        for i in range(40):
            bad = (w == n_weeks - 1 and i < 20) or i < 2
            text = "Still waiting for my refund, awful service." if bad else f"Lovely fresh food, thank you ({i})."
            rows.append({"response_id": f"w{w}-{i}", "comment": text, "submitted": day.isoformat(),
                         "nps_score": 2 if bad else 9})
    return rows


def test_weekly_job_adds_the_week_and_compares_with_history(tmp_path: Path) -> None:
    settings = _lexicon(tmp_path)
    rows = _weeks(6)
    first = jobs.mine(settings, [_export(tmp_path, rows[:200], "w1-5.jsonl")])
    f1 = json.loads(Path(first.report["json"]).read_text(encoding="utf-8"))
    assert f1["meta"]["current_period"] == "2026-08-31" and len(f1["periods"]) == 5
    second = jobs.mine(settings, [_export(tmp_path, rows[200:], "w6.jsonl")])
    f2 = json.loads(Path(second.report["json"]).read_text(encoding="utf-8"))
    assert f2["meta"]["current_period"] == "2026-09-07" and len(f2["periods"]) == 6
    assert f2["periods"][-1]["nps"]["nps"] == pytest.approx(100 * (20 - 20) / 40)
    assert f2["periods"][0]["nps"]["nps"] == pytest.approx(100 * (38 - 2) / 40)
    again = jobs.mine(settings, [_export(tmp_path, rows[200:], "w6.jsonl")])
    assert Path(again.report["html"]).read_bytes() == Path(second.report["html"]).read_bytes()
    assert Path(again.report["json"]).read_bytes() == Path(second.report["json"]).read_bytes()


def test_a_partial_current_week_is_marked_not_read_as_a_drop(tmp_path: Path) -> None:
    # comments every day for five weeks, then a Monday and a Tuesday: the last week holds 2 of its 7 days
    from datetime import timedelta

    def daily(first: date, days: int) -> list[dict]:
        return [{"response_id": f"{first + timedelta(days=d)}-{i}",
                 "comment": "The delivery was late again, awful." if i < 2 else f"Lovely fresh food ({i}).",
                 "submitted": (first + timedelta(days=d)).isoformat(), "nps_score": 9}
                for d in range(days) for i in range(6)]

    settings = Settings(data_dir=tmp_path / "data", pipeline=LEXICAL_PIPELINE)  # keyword themes: theme charts
    result = jobs.mine(settings, [_export(tmp_path, daily(date(2026, 8, 3), 37))])
    f = json.loads(Path(result.report["json"]).read_text(encoding="utf-8"))
    assert f["meta"]["current_period"] == "2026-09-07"
    assert f["meta"]["partial_periods"] == {"2026-09-07": {"days": 2, "of": 7}}  # the first week is whole
    assert any(line.startswith("Current period, the week of 2026-09-07 (data for 2 of its 7 days so far)")
               for line in f["headlines"])
    html = Path(result.report["html"]).read_text(encoding="utf-8")
    assert "current week: 2026-09-07 (partial: data for 2 of its 7 days)" in html
    assert "09-07*" in html and "stroke-dasharray" in html
    assert "Partial period (09-07: data for 2 of its 7 days): not comparable with whole periods." in html
    # a range that ends with a whole week marks nothing; one that ends mid-week marks it, whatever the data
    whole = build_report(settings, store=jobs.open_store(settings), until=date(2026, 9, 7))
    assert whole.figures["meta"]["partial_periods"] == {} and "Partial period" not in \
        Path(whole.paths["html"]).read_text(encoding="utf-8")
    cut = build_report(settings, store=jobs.open_store(settings), until=date(2026, 9, 3))
    assert cut.figures["meta"]["partial_periods"] == {"2026-08-31": {"days": 3, "of": 7}}


def test_a_weekly_survey_is_not_read_as_partial_weeks(tmp_path: Path) -> None:
    # answers come on Wednesdays only: a week whose data stops on a Wednesday is not therefore partial
    settings = _lexicon(tmp_path)
    result = jobs.mine(settings, [_export(tmp_path, _weeks(5))])
    f = json.loads(Path(result.report["json"]).read_text(encoding="utf-8"))
    assert f["meta"]["partial_periods"] == {}
    assert not any("so far" in line for line in f["headlines"])


class _Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_alerts_go_to_the_webhook_once(tmp_path: Path) -> None:
    from voiceminer.report.alerts import deliver_alerts

    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        figures = {"meta": {"period": "week", "current_period": "2026-09-28", "first_day": "2026-08-03",
                            "last_day": "2026-09-28"},
                   "alerts": [{"kind": "spike", "severity": "high", "message": "Late delivery: mentions 2.6x"}]}
        paths, sent = deliver_alerts(figures, tmp_path, url)
        assert sent["status"] == "sent" and len(_Hook.received) == 1
        assert _Hook.received[0]["alerts"][0]["message"].startswith("Late delivery")
        assert "Late delivery" in Path(paths["alerts_md"]).read_text(encoding="utf-8")
        _, again = deliver_alerts(figures, tmp_path, url)
        assert again["status"] == "already sent" and len(_Hook.received) == 1
    finally:
        server.shutdown()
    _, failed = deliver_alerts({**figures, "alerts": [{"kind": "x", "severity": "high", "message": "other"}]},
                               tmp_path, url)
    assert failed["status"] == "failed"  # server gone: reported, not raised


def test_bad_report_arguments_are_clear(tmp_path: Path) -> None:
    from voiceminer.errors import ConfigError

    settings = _lexicon(tmp_path)
    with pytest.raises(ConfigError, match="--since"):
        build_report(settings, store=jobs.open_store(settings), since=date(2026, 9, 2), until=date(2026, 9, 1))
    with pytest.raises(ConfigError, match="format"):
        build_report(settings, store=jobs.open_store(settings), formats=["pdf"])


@pytest.mark.browser
def test_script_in_a_comment_shows_as_text_in_chromium(tmp_path: Path) -> None:
    from browser import render

    rows = [{"id": str(i), "text": HOSTILE if i == 0 else f"Awful, horrible delivery number {i}, really bad.",
             "date": "2026-09-01"} for i in range(3)]
    result = jobs.mine(_lexicon(tmp_path), [_export(tmp_path, rows)])
    page = render(Path(result.report["html"]), screenshot=tmp_path / "hostile.png")
    assert page.console_errors == [] and page.requests == []
    assert page.scripts == 0
    assert "<script>alert('x')</script> the delivery was awful" in page.text


def test_range_bounds_are_local_days_and_json_is_strict(tmp_path: Path) -> None:
    """--since/--until are calendar days in the configured zone (stored times are UTC); comments
    without a date or channel, control characters and list metadata cannot break any export."""
    rows = [
        {"id": "aug", "text": "Late evening on 31 August, terrible", "date": "2026-09-01T02:00:00Z"},  # NY: Aug 31
        {"id": "sep", "text": "Evening of 30 September, awful service", "date": "2026-10-01T02:00:00Z"},  # NY: Sep 30
        {"id": "mid", "text": "Mid month, lovely food \x0b\x1b", "date": "2026-09-15T12:00:00Z",
         "meta": {"tags": ["a", "b"], "plan": "Basic"}},
        {"id": "nodate", "text": "No date on this one, awful"},
    ]
    settings = _lexicon(tmp_path, timezone="America/New_York")
    jobs.mine(settings, [_export(tmp_path, rows)])
    report = build_report(settings, store=jobs.open_store(settings), since=date(2026, 9, 1), until=date(2026, 10, 1),
                          period="month")
    f = report.figures
    assert [p["period"] for p in f["periods"]] == ["2026-09-01"] and f["overall"]["comments"] == 2 + 0
    assert f["meta"]["first_date"] == "2026-09-01" and f["meta"]["last_date"] == "2026-09-30"
    json.loads(Path(report.paths["json"]).read_text(encoding="utf-8"))  # strict JSON (no NaN)
    everything = build_report(settings, store=jobs.open_store(settings), period="month", out_dir=tmp_path / "all")
    text = Path(everything.paths["json"]).read_text(encoding="utf-8")
    assert "NaN" not in text and json.loads(text)["overall"]["undated"] == 1
    assert "nan" not in Path(everything.paths["html"]).read_text(encoding="utf-8").split("<body>")[1].lower().split()


def test_alert_markdown_is_escaped() -> None:
    from voiceminer.report.alerts import alerts_markdown

    md = alerts_markdown({"period": "week", "current_period": "2026-09-28",
                          "alerts": [{"severity": "high", "kind": "emerging",
                                      "message": "# new topic <img src=x> [click](http://evil) *now*"}]})
    line = md.splitlines()[-1]
    assert "\\#" in line and "\\<img" in line and "\\[click\\]" in line and "\\*now\\*" in line


def test_a_report_killed_while_writing_leaves_the_old_files_whole(tmp_path: Path, monkeypatch) -> None:
    """``mine`` reuses an unchanged report's files: a write that dies half-way must not leave a
    truncated file under a report's name (each file is written aside, then renamed over)."""
    from openpyxl import Workbook, load_workbook

    settings = _lexicon(tmp_path)
    rows = [{"id": str(i), "text": f"Awful late delivery number {i}.", "date": "2026-09-01"} for i in range(3)]
    jobs.mine(settings, [_export(tmp_path, rows)])
    first = build_report(settings, store=jobs.open_store(settings))
    before = {k: Path(p).read_bytes() for k, p in first.paths.items()}

    def killed(self, filename):  # the process dies after writing the first bytes of the workbook
        Path(filename).write_bytes(b"PK\x03\x04")
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(Workbook, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        build_report(settings, store=jobs.open_store(settings))
    after = {k: Path(p).read_bytes() for k, p in first.paths.items()}
    assert after == before
    assert load_workbook(first.paths["xlsx"]).sheetnames  # still a whole workbook
    assert not [p.name for p in Path(first.paths["html"]).parent.iterdir() if p.name.endswith(".tmp")]


def test_undated_comments_count_in_the_week_they_were_collected(tmp_path: Path) -> None:
    """An export without dates (a restaurant's review dump, a survey's free text) is the week's feedback:
    each comment is filed under its ingest time, so the report still has themes, causes and charts, and
    says so. Before, every period-based figure was empty and every theme was listed as never mentioned."""
    from voiceminer.storage import schema as t

    texts = ["The delivery was late again and the driver was rude.", "Awful delivery, late by two hours.",
             "The staff were rude to me at the till.", "Lovely fresh bread, thank you.",
             "Refund still not here, terrible service.", "The delivery was late, so dinner was ruined."]
    export = tmp_path / "reviews.csv"
    export.write_text("review_id,review\n" + "".join(f'{i},"{x}"\n' for i, x in enumerate(texts)), encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", pipeline=LEXICAL_PIPELINE)
    jobs.mine(settings, [export])
    store = jobs.open_store(settings)
    with store.engine.begin() as conn:  # collected on Wednesday 2 September 2026
        conn.execute(t.comments.update().values(ingested_at=datetime(2026, 9, 2, 10, tzinfo=timezone.utc)))
    report = build_report(settings, store=store)
    f = report.figures
    assert f["meta"]["periods"] == ["2026-08-31"] and f["meta"]["current_period"] == "2026-08-31"
    assert f["overall"]["undated"] == 6 and f["data_quality"]["undated_comments"] == 6
    assert f["themes"] and f["themes"][0]["comments"] >= 3
    never = {n["id"] for n in f["never_mentioned_themes"]}
    assert not never & {x["id"] for x in f["themes"]}
    assert "6 comment(s) come from exports without dates: each is counted in the week it was collected" \
        in " ".join(f["headlines"])
    assert f["headlines"][0].startswith("6 comments from 1 source(s) on 2026-09-02:")
    html = Path(report.paths["html"]).read_text(encoding="utf-8")
    volume = html[html.index('aria-label="Theme volume'):] if 'aria-label="Theme volume' in html else html
    assert "<polyline" not in volume.split("</svg>")[0]  # one period: bars, not a line through one point
    assert "None of these comments has a rating" in html  # not "Not enough scored comments for this chart."
    # --since/--until file undated comments by when they were collected
    assert build_report(settings, store=store, since=date(2026, 9, 1), until=date(2026, 9, 3),
                        out_dir=tmp_path / "in").figures["overall"]["comments"] == 6
    assert build_report(settings, store=store, since=date(2026, 9, 3),
                        out_dir=tmp_path / "out").figures["overall"]["comments"] == 0
    # a dated export with one empty date: that comment is in no period (filed under the ingest day, it
    # would open a week of its own, years after the rest), and the summary says so
    dated = tmp_path / "dated.csv"
    dated.write_text("id,text,date\nd1,The delivery was late.,2015-02-17\nd2,Lovely bread.,2015-02-18\n"
                     "d3,Rude staff.,\n", encoding="utf-8")
    jobs.mine(settings, [dated])
    mixed = build_report(settings, store=store, out_dir=tmp_path / "mixed").figures
    assert (mixed["meta"]["periods"][0], mixed["meta"]["periods"][-1]) == ("2015-02-16", "2026-08-31")  # d3 opened
    # no week of its own (it was ingested today)
    assert mixed["overall"]["undated"] == 7 and mixed["overall"]["undated_filed"] == 6
    assert "1 comment(s) have no date (an empty date in an export that dates the others)" in " ".join(mixed["headlines"])
    # read two comments at a time (issue 16.2), the figures add up to the same: undated, filed and dated
    # comments in chunks of their own, chunks without a theme or a date
    from dataclasses import replace

    from voiceminer.report.figures import compute_figures

    whole = compute_figures(settings, store, None, None, "week")
    assert compute_figures(replace(settings, report_chunk=2), store, None, None, "week") == whole


def test_root_causes_chart_negative_comments_and_mark_the_sentence() -> None:
    """A cause's chart counts the comments that complain about it (the section's own figure), not every
    mention; a quote marks the clause that names the cause, else the sentence that mentions it; a range of
    one period has no peak."""
    import pandas as pd

    from voiceminer.aggregate.causes import root_causes

    late_text, fine_text = "Arrived at 9pm. The van was late again.", "The van was on time, lovely driver."
    comments = pd.DataFrame({"id": ["a", "b", "c", "d"], "period": ["2026-08-31"] * 3 + ["2026-09-07"],
                             "text": [late_text, late_text, fine_text, "Late because of the snow, what a joke."]})
    mentions = pd.DataFrame({
        "comment_id": ["a", "b", "c", "d"], "sentence_idx": [1, 1, 0, 0], "theme": ["delivery"] * 4,
        "cause": ["delivery.late"] * 4, "sentence_sentiment": ["negative", "negative", "positive", "negative"],
        "start": [16, 16, 0, 0], "end": [39, 39, 35, 38], "score": [0.9, 0.8, 0.9, 0.7],
        "evidence": [None, None, None, [16, 24]]})
    cause_table = pd.DataFrame({"key": ["delivery.late"] * 2, "period": ["2026-08-31", "2026-09-07"],
                                "comments": [3, 1]})
    [rc] = root_causes(comments, mentions, cause_table, [], {"delivery.late": "Late delivery"})
    [late] = rc["causes"]
    assert late["negative_comments"] == 3
    assert late["negative_series"] == [{"period": "2026-08-31", "comments": 2}, {"period": "2026-09-07", "comments": 1}]
    assert late["series"][0]["comments"] == 3  # every mention, the volume that spikes are tested on
    spans = {q["comment_id"]: q["text"][slice(*q["evidence_span"])] for q in late["quotes"]}
    assert spans["d"] == "the snow" and spans["a"] == "The van was late again."
    one = root_causes(comments[comments["period"] == "2026-08-31"], mentions[mentions["comment_id"] != "d"],
                      cause_table.iloc[:1], [], {})
    assert one[0]["causes"][0]["peak_period"] is None


def test_comments_not_in_english_are_flagged_counted_and_said(tmp_path: Path) -> None:
    """The models read English: a comment surely in another language gets a ``language`` tag (label its
    code), ``tag`` prints it, and the report counts those comments, leaves their tags out of its figures and
    says so. English comments, short ones and unsure ones get none."""
    from voiceminer.tagging import tag

    rows = [{"id": "fr1", "text": "Il manquait la moitié de ma commande et le service client ne répond pas.",
             "date": "2026-09-01"},
            {"id": "fr2", "text": "Service client très agréable, problème réglé en cinq minutes.", "date": "2026-09-01"},
            {"id": "es1", "text": "El servicio de atención al cliente tardó tres días en responder. Muy mal.",
             "date": "2026-09-02"},
            {"id": "en1", "text": "The delivery was late again and nobody called me back.", "date": "2026-09-02"},
            {"id": "en2", "text": "@HarvestHelp sometimes i get good food and ok service.", "date": "2026-09-02"},
            {"id": "short", "text": "Muy bien", "date": "2026-09-02"}]
    settings = Settings(data_dir=tmp_path / "data",
                        pipeline=("segment.sentencizer.v1", "language.langid.v1", "sentiment.vader.v1"))
    export = _export(tmp_path, rows)
    result = jobs.mine(settings, [export])
    f = json.loads(Path(result.report["json"]).read_text(encoding="utf-8"))
    assert f["data_quality"]["not_english"] == {"fr": 2, "es": 1}
    assert "3 comment(s) are not in English (fr 2, es 1): VoiceMiner's models read English, so the figures leave " \
           "out their sentiment, themes and needs." in f["headlines"]
    # they count, but what the English models said about them moves no figure
    assert f["overall"]["comments"] == 6 and f["data_quality"]["analysed_comments"] == 3
    assert "not in English (left out of the figures): fr 2, es 1" in Path(result.report["html"]).read_text(encoding="utf-8")
    tag(settings, [export], tmp_path / "tags.jsonl")
    langs = {r["id"]: r["language"] for r in map(json.loads, (tmp_path / "tags.jsonl").read_text().splitlines())}
    assert langs == {"fr1": "fr", "fr2": "fr", "es1": "es", "en1": None, "en2": None, "short": None}


def test_a_chunk_of_the_report_reads_its_own_annotations_by_comment_id(tmp_path: Path) -> None:
    """Each chunk of a report (issue 16.2) reads the annotations of its own comments through the comment-id
    index, not every annotation of the layer in the store: otherwise a report of many chunks would cost
    chunks x annotations (SQLite's plan picked the layer index, an equality, over the id range)."""
    import sqlalchemy as sa

    from voiceminer.aggregate import frames

    settings = _lexicon(tmp_path)
    jobs.mine(settings, [_export(tmp_path, [{"id": f"c{i}", "created_at": "2026-03-04", "text": HOSTILE}
                                            for i in range(6)])])
    store = jobs.open_store(settings)
    sent: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, params, context, executemany):
        sent.append((statement, params))

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        chunk = ("c2", "c4")
        assert len(frames.mention_frame(store, ids=chunk, undated=[])["comment_id"].unique()) <= 2
        frames.need_frame(store, ids=chunk, undated=[])
        frames.language_tags(store, ids=chunk, undated=[])
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    reads = [(s, p) for s, p in sent if "FROM annotations" in s and "JOIN comments" in s]
    assert len(reads) >= 3, sent
    with store.engine.connect() as conn:
        for statement, params in reads:
            plan = "\n".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params))
            assert "ix_annotations_comment_id (comment_id>? AND comment_id<?)" in plan, (statement, plan)
