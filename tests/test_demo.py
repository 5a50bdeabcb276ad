"""The bundled demo corpus, mined end to end: every row accounted for against truth.json."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from voiceminer import jobs
from voiceminer.config import Settings

DEMO = Path(__file__).resolve().parents[1] / "corpora" / "demo"


pytestmark = pytest.mark.models  # the demo is mined with the default (model) pipeline

TRUTH = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mined(tmp_path_factory: pytest.TempPathFactory):
    settings = Settings.load(config_path=DEMO / "voiceminer.toml", env={},
                             overrides={"data_dir": tmp_path_factory.mktemp("demo") / "data"})
    first = jobs.mine(settings, [DEMO / "exports"])
    return settings, first


def test_every_row_is_accounted_for(mined) -> None:
    settings, first = mined
    c = first.ingest.counts
    assert c.rows == TRUTH["totals"]["data_records_all_files"]
    assert c.balanced and c.stored + c.duplicate + c.rejected == c.rows
    store = jobs.open_store(settings)
    assert sum(store.ledger_counts(first.run_id).values()) == c.rows
    assert store.counts()["comments"] == c.stored


def test_rejects_and_duplicates_match_the_planted_mess(mined) -> None:
    settings, first = mined
    rejects = jobs.open_store(settings).rejects(first.run_id)
    by_file = {name: Counter(jobs.reason_kind(r["reason"]) for r in rejects if r["source_file"].endswith(name))
               for name in TRUTH["files"]}
    rating_rejects = 0
    for name, facts in TRUTH["files"].items():
        assert by_file[name]["unparseable date"] == facts["bad_date_rows"], name
        assert by_file[name]["empty text"] == facts["empty_text_rows"], name
        rating_rejects += sum(n for k, n in by_file[name].items() if k.startswith("rating"))
    tickets = by_file["support_tickets.jsonl"]
    assert tickets["invalid JSON"] == 3 and tickets["missing field"] == 2
    # out-of-range scores are rejected; a blank score is kept as "no score"
    assert rating_rejects == sum(f["bad_score_rows"] for f in TRUTH["files"].values()) - 1
    assert first.ingest.counts.stored == TRUTH["totals"]["valid_unique_comments"] - rating_rejects
    dups = (TRUTH["files"]["reviews_site.csv"]["exact_duplicate_rows"]
            + TRUTH["files"]["nps_survey.csv"]["repeated_response_id_rows"]
            + TRUTH["files"]["support_tickets.jsonl"]["exact_duplicate_rows"])
    assert first.ingest.counts.duplicate == dups


def test_encodings_and_channels_come_through(mined) -> None:
    settings, _ = mined
    comments = list(jobs.open_store(settings).iter_comments())
    by_source = Counter(c.source for c in comments)
    assert set(by_source) == {"review_site", "app_store", "nps_survey", "helpdesk"}
    survey = [c for c in comments if c.source == "nps_survey"]
    assert any("’" in c.text for c in survey)  # cp1252 curly quotes decoded
    rated = [c.rating for c in survey if c.rating is not None]
    assert len(rated) > 0.9 * len(survey) and all(0 <= r <= 10 for r in rated)
    assert not any("\x00" in c.text or "\ufffd" in c.text for c in comments)
    assert {c.channel for c in comments} >= {"review", "app_review", "survey", "email", "chat", "phone"}
    assert all(c.created_at is not None for c in comments)
    assert any(c.text.startswith("=HYPERLINK") for c in comments)  # stored verbatim, escaped on output


def test_mining_again_stores_and_analyses_nothing_new(mined) -> None:
    settings, first = mined
    again = jobs.mine(settings, [DEMO / "exports"])
    assert again.ingest.counts.stored == 0
    assert again.ingest.counts.duplicate == first.ingest.counts.stored + first.ingest.counts.duplicate
    assert again.analyse.analysed == 0
    assert Path(again.report["html"]).read_bytes() == Path(first.report["html"]).read_bytes()


def test_report_covers_all_weeks(mined) -> None:
    _, first = mined
    figures = json.loads(Path(first.report["json"]).read_text(encoding="utf-8"))
    assert len(figures["periods"]) == 14
    assert figures["periods"][0]["period"] == "2026-08-03"
    assert sum(p["comments"] for p in figures["periods"]) == first.ingest.counts.stored


SPIKE_WEEK = "2026-09-28"
# the planted need, "choose / schedule / reschedule a delivery time slot" (truth.json), in the words its
# comments use: slots, windows, evening / Saturday / 6-9pm deliveries, choosing or moving the delivery time
SLOT = (r"slot|window|reschedul|evening|saturday|weekend|\d-\d+ ?pm|choose when|when my order|delivery (?:time|day)"
        r"|move my delivery")


@pytest.fixture(scope="module")
def tags(mined):
    """One row per annotation with its comment's week and sentence text."""
    import pandas as pd
    import sqlalchemy as sa

    from voiceminer.aggregate import assign_period
    from voiceminer.storage import schema as t

    settings, _ = mined
    store = jobs.open_store(settings)
    comments = pd.DataFrame(store.query(sa.select(t.comments.c.id, t.comments.c.text, t.comments.c.created_at)))
    comments["week"] = assign_period(pd.to_datetime(comments["created_at"], utc=True), "week", "UTC")
    anns = pd.DataFrame(store.query(sa.select(t.annotations)))
    anns = anns.merge(comments, left_on="comment_id", right_on="id")
    anns["cause"] = anns["data"].map(lambda d: d.get("cause"))
    anns["evidence"] = [text[d["cause_evidence"][0]:d["cause_evidence"][1]] if d.get("cause_evidence") else ""
                        for text, d in zip(anns["text"], anns["data"])]
    return anns


def _weekly(frame) -> "dict[str, int]":
    return frame.groupby("week").size().to_dict()


def test_complaint_spike_and_its_root_cause_are_found(tags) -> None:
    import numpy as np

    late = tags[(tags["layer"] == "theme") & (tags["cause"] == "delivery.late")]
    weekly = _weekly(late.drop_duplicates("comment_id"))
    others = [n for w, n in weekly.items() if w != SPIKE_WEEK]
    assert weekly[SPIKE_WEEK] >= 2 * np.median(others), weekly
    assert max(weekly, key=weekly.get) == SPIKE_WEEK
    evidence = tags[(tags["layer"] == "theme") & (tags["label"] == "delivery") & (tags["week"] == SPIKE_WEEK)]
    named = evidence["evidence"].str.contains("courier|parceldash", case=False)
    assert named.sum() >= 10, evidence["evidence"].tolist()[:20]
    complaints = tags[(tags["layer"] == "complaint") & tags["sentence_idx"].isna() & (tags["label"] == "complaint")]
    delivery_complaints = complaints[complaints["comment_id"].isin(late["comment_id"])]
    per_week = _weekly(delivery_complaints)
    assert per_week[SPIKE_WEEK] >= 2 * np.median([n for w, n in per_week.items() if w != SPIKE_WEEK])


def test_growing_need_is_found(tags) -> None:
    needs = tags[(tags["layer"] == "need") & tags["label"].str.contains(SLOT, case=False)]
    weekly = _weekly(needs)
    weeks = sorted(tags["week"].unique())
    first, last = sum(weekly.get(w, 0) for w in weeks[:4]), sum(weekly.get(w, 0) for w in weeks[-4:])
    assert last >= 3 * max(first, 1), weekly
    assert needs["label"].str.len().max() <= 200


def test_fading_login_theme_is_found(tags) -> None:
    login = tags[(tags["layer"] == "theme") & (tags["label"] == "account")].drop_duplicates("comment_id")
    weekly = _weekly(login)
    weeks = sorted(tags["week"].unique())
    early, late = sum(weekly.get(w, 0) for w in weeks[:4]), sum(weekly.get(w, 0) for w in weeks[-4:])
    assert early >= 40 and early >= 2 * late, weekly  # 73 planted in weeks 1-4, 2 in weeks 11-14


# -- the report finds every planted pattern (from the JSON of all figures) ---------------------


@pytest.fixture(scope="module")
def figures(mined) -> dict:
    _, first = mined
    return json.loads(Path(first.report["json"]).read_text(encoding="utf-8"))


def test_report_finds_the_spike_and_its_root_cause(figures) -> None:
    spikes = {(s["period"], s["key"], s["test"]) for s in figures["spikes"]}
    assert (SPIKE_WEEK, "delivery.late", "volume") in spikes, figures["spikes"]
    # no false alarm from the many quiet themes: every volume spike is the planted one or its aftershock
    assert {p for p, _, t in spikes if t == "volume"} <= {SPIKE_WEEK, "2026-10-05"}, figures["spikes"]
    delivery = next(rc for rc in figures["root_causes"] if rc["theme"] == "delivery")
    late = next(c for c in delivery["causes"] if c["id"] == "delivery.late")
    assert late["peak_period"] == SPIKE_WEEK and late["spike"]["ratio"] >= 2
    assert {"parceldash", "courier"} & set(late["distinctive_terms"][:2]), late["distinctive_terms"]
    assert late["share_of_peak_naming_terms"] >= 0.4
    assert any("ParcelDash" in line or "parceldash" in line for line in figures["headlines"])


def test_report_alerts_on_the_spike_in_its_week(mined) -> None:
    from datetime import date

    from voiceminer.report import build_report

    settings, _ = mined
    report = build_report(settings, store=jobs.open_store(settings), since=date(2026, 8, 3), until=date(2026, 10, 5),
                          formats=["json"])
    assert report.figures["meta"]["current_period"] == SPIKE_WEEK
    alerts = [a for a in report.figures["alerts"] if a["kind"] == "spike"]
    late = [a for a in alerts if a["key"] == "delivery.late"]
    assert late and late[0]["severity"] == "high", alerts
    assert "parceldash" in late[0]["message"] or "courier" in late[0]["message"]
    # the full-range report (current week 2026-11-02) raises no spike alert: the spike is history there
    _, first = mined
    full = json.loads(Path(first.report["json"]).read_text(encoding="utf-8"))
    assert not [a for a in full["alerts"] if a["kind"] == "spike" and a["key"].startswith("delivery")]
    assert Path(report.paths["alerts_md"]).read_text(encoding="utf-8").count("Late delivery") >= 1


def test_report_finds_the_growing_need(figures) -> None:
    import re

    import numpy as np

    def is_slot(n: dict) -> bool:
        return bool(re.search(SLOT, " ".join(n["statements"]) + n["statement"], re.I))

    slot = [n for n in figures["needs"][:5] if is_slot(n)]
    assert slot, [n["statement"] for n in figures["needs"]]
    # the need comes out as a few groups (picking a slot, evening slots, moving a delivery): together they grow
    weekly = np.sum([[s["comments"] for s in n["series"]] for n in figures["needs"] if is_slot(n)], axis=0)
    assert sum(weekly[-4:]) >= 3 * max(sum(weekly[:4]), 1), weekly
    fastest = next(n for n in figures["needs"] if (n["growth_ratio"] or 0) >= 1.5)  # the summary's headline need
    assert is_slot(fastest) and fastest["growth_ratio"] >= 2 and fastest["trend_per_period"] > 0, fastest
    # the groups of one need point at each other; other needs do not point at them
    slot_names = {n["statement"] for n in figures["needs"] if is_slot(n)}
    assert set(fastest["related"]) & slot_names, fastest["related"]
    # ... and count together, each comment once: more than the need alone, at most the groups' sum
    by_name = {n["statement"]: n for n in figures["needs"]}
    linked = [fastest] + [by_name[name] for name in fastest["related"]]
    assert fastest["comments"] < fastest["related_comments"] <= sum(n["comments"] for n in linked), fastest
    assert all(n["related_comments"] == n["comments"] for n in figures["needs"] if not n["related"])
    assert all(not set(n["related"]) & slot_names for n in figures["needs"] if not is_slot(n))
    assert all(n["quotes"] and all(q["text"] for q in n["quotes"]) for n in slot)


def test_report_new_topics_leave_out_small_talk(figures) -> None:
    from voiceminer.themes import is_small_talk

    assert figures["emerging"], figures["emerging_note"]
    assert "left out" in figures["emerging_note"]  # the demo's greetings and "Thanks in advance." are many
    examples = [e for c in figures["emerging"] for e in c["examples"]]
    assert examples and not [e for e in examples if is_small_talk(e)]
    assert not [c["label"] for c in figures["emerging"] if c["label"].startswith(("thanks", "hello", "hh"))]


def test_report_needs_name_what_is_needed(figures) -> None:
    statements = [s for n in figures["needs"] for s in [n["statement"], *n["statements"]]]
    assert not {"add fix", "look into this", "soak"} & set(statements), statements
    # a complaint is no need ("Veg was covered in mud, took ages to clean" was "cover in mud, took ages to clean"),
    # and a statement reads as words, not "add : choosing ..." or "make I ..."
    assert not [s for s in statements if "mud" in s or re.match(r"^\w+\s*[:;,]|^make (?:i|we) ", s, re.I)], statements


def test_report_finds_the_fading_theme(figures) -> None:
    quiet = {q["key"]: q for q in figures["gone_quiet"]}
    login = quiet.get("account.login") or quiet.get("account")
    assert login is not None, figures["gone_quiet"]
    assert login["peak_periods"][0] <= "2026-08-10" and login["recent_mean"] <= 0.3 * login["peak_mean"]


def test_report_finds_the_promise_no_customer_mentions(figures) -> None:
    promises = {p["id"]: p for p in figures["promises"]}
    plastic = promises["plastic_free"]
    n = figures["overall"]["comments"]
    assert plastic["mentions"] == 0 and plastic["verdict"] == "never raised"
    assert plastic["rule_of_three"] == pytest.approx(3 / n, abs=1e-6)
    assert plastic["share_upper_95"] < 3 / n
    # raised, and going badly: the price-match guarantee (about 2% of comments, mostly negative)
    price = promises["price_match"]
    assert price["verdict"] == "raised and going badly" and 0.01 <= price["share"] <= 0.04


def test_report_scores_and_drivers(figures) -> None:
    assert figures["overall"]["nps"]["responses"] > 500
    assert all("nps" in p for p in figures["periods"])
    impact = {d["theme"]: d for d in figures["drivers"]["impact"]}
    # delivery is a planted driver of detractors: removing its comments raises the score
    assert impact["delivery"]["rating_impact"] > 0
    reg = {c["name"]: c for c in figures["drivers"]["regression"]["coefficients"]}
    assert reg["delivery"]["ci_high"] < 0


@pytest.mark.browser
def test_report_renders_in_chromium(mined, tmp_path: Path) -> None:
    from browser import render

    _, first = mined
    html = Path(first.report["html"])
    page = render(html, screenshot=tmp_path / "report.png", width=1100)
    assert page.console_errors == [] and page.requests == [], (page.console_errors, page.requests)
    assert page.scripts == 0
    assert "Root causes of complaints" in page.text and "Unmet needs" in page.text
    assert (tmp_path / "report.png").stat().st_size > 20_000


# -- themes against the per-comment truth (issue 14: precision where it matters, one late-delivery concept) ----

TRUTH_ROWS = [json.loads(line) for line in (DEMO / "truth_comments.jsonl").read_text(encoding="utf-8").splitlines()]


def _precision_script():
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[1] / "scripts" / "demo_theme_precision.py"
    spec = importlib.util.spec_from_file_location("demo_theme_precision", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["demo_theme_precision"] = module
    spec.loader.exec_module(module)
    return module


def test_per_comment_truth_covers_every_stored_comment(mined) -> None:
    settings, _ = mined
    stored = {c.id for c in jobs.open_store(settings).iter_comments()}
    ids = {r["id"] for r in TRUTH_ROWS}
    assert len(ids) == len(TRUTH_ROWS) == TRUTH["totals"]["valid_unique_comments"]
    assert stored <= ids  # every stored comment has its truth (rows with out-of-range scores are rejected)
    late9 = [r for r in TRUTH_ROWS if r["week"] == 9 and {"late", "cause"} & set(r["topics"])]
    assert len(late9) == TRUTH["weeks"][8]["late_delivery"]


# Target (issue 14, point 5): every theme with 20 or more mentions at precision >= 0.85. The zero-shot themes do
# not reach it on every theme yet: the themes still under it are listed (scripts/demo_theme_precision.py prints
# them), no other theme may fall under it, and the precision over all their mentions may not drop.
PRECISION_TARGET, MIN_MENTIONS = 0.85, 20
STILL_UNDER_TARGET = {'billing.overcharged', 'support', 'support.unreachable'}
MIN_POOLED_PRECISION = 0.93  # 0.940 with the cause classifier breaking near ties between causes (late delivery passes) and a
# promise kept with the turn after it (delivery days and times passes); 0.938 (onnx; 0.939 torch-bf16) with the geometry map mixed into the cosines (0.937 before: returns, speed and
# online ordering now pass, late delivery and overcharged sit just under at 0.84 and 0.83); 0.937 measured with the topic-free generic sentences among the background phrases and
# general praise among Delivery's examples (0.925 before; 0.892 with the themes' classifier alone, 0.776 without either
# classifier, 0.665 before taxonomy v3 and the margin-0 calibration, 0.574 with v1)
# Late delivery's recall: 0.79 measured (0.83 before delivery praise moved from Courier conduct to Delivery's general
# reading, which now keeps some late comments' sentences too); the planted spike keeps 43 of its 53 comments
MIN_LATE_RECALL = 0.77


def test_theme_precision_against_the_per_comment_truth(mined) -> None:
    settings, _ = mined
    script = _precision_script()
    scores = {s.id: s for s in script.score_store(settings)}
    below = {s.id: round(s.precision, 3) for s in script.failures(list(scores.values()), MIN_MENTIONS, PRECISION_TARGET)}
    assert not set(below) - STILL_UNDER_TARGET, {i: p for i, p in below.items() if i not in STILL_UNDER_TARGET}
    pooled = script.pooled_precision(list(scores.values()), MIN_MENTIONS)
    assert pooled >= MIN_POOLED_PRECISION, pooled
    # the confident mistakes of the issue: hygiene was the second top complaint cause, late delivery was two themes
    health = scores.get("safety.health")
    assert health is None or health.mentions < 60 or health.precision >= PRECISION_TARGET, health
    assert scores["delivery.late"].recall >= MIN_LATE_RECALL and scores["delivery.late"].precision >= 0.75, scores["delivery.late"]
    delayed = scores.get("disruption.delayed")
    assert delayed is None or delayed.mentions <= scores["delivery.late"].mentions / 2, delayed


def test_the_late_delivery_spike_is_one_alert_with_most_of_its_comments(mined, tags) -> None:
    from datetime import date

    from voiceminer.report import build_report

    settings, _ = mined
    report = build_report(settings, store=jobs.open_store(settings), since=date(2026, 8, 3), until=date(2026, 10, 5),
                          formats=["json"])
    spikes = [a for a in report.figures["alerts"] if a["kind"] == "spike"]
    lateness = [a["key"] for a in spikes if a["key"] == "delivery.late" or a["key"].split(".")[0] == "speed"]
    assert lateness == ["delivery.late"], [(a["key"], a["message"]) for a in spikes]
    volume = {s["key"] for s in report.figures["spikes"] if s["period"] == SPIKE_WEEK and s["test"] == "volume"}
    assert not {k for k in volume if k.split(".")[0] == "speed"}, volume
    planted = {r["id"] for r in TRUTH_ROWS if r["week"] == 9 and {"late", "cause"} & set(r["topics"])}
    late = set(tags[(tags["layer"] == "theme") & (tags["cause"] == "delivery.late")]["comment_id"])
    assert len(planted & late) >= 0.8 * len(planted), (len(planted & late), len(planted))


def test_rescoring_from_the_cached_vectors_reproduces_the_stored_themes(mined) -> None:
    # scripts/demo_theme_precision.py --rescore tries a taxonomy or calibration without mining again; it is only
    # worth that if, unchanged, it gives exactly what themes.v1 stored
    settings, _ = mined
    script = _precision_script()
    rescored = script.rescored_themes(settings)
    stored = script.assigned_themes(jobs.open_store(settings))
    assert {k: v for k, v in rescored.items() if v} == {k: v for k, v in stored.items() if v}
    late, planted = script.late_share(stored, {r["id"]: r for r in TRUTH_ROWS}, 9)
    assert planted == TRUTH["weeks"][8]["late_delivery"] and late >= 0.8 * planted


def test_a_report_read_in_chunks_equals_the_report_read_at_once(mined) -> None:
    """Issue 16.2: a range is read report_chunk comments at a time and its exact figures add up chunk by
    chunk; above report_sample comments the detail figures read a uniform sample, and the summary says so."""
    from dataclasses import replace

    from voiceminer.report.figures import compute_figures
    from voiceminer.report.summary import executive_summary

    settings, _ = mined
    store = jobs.open_store(settings)
    whole = compute_figures(settings, store, None, None, "week")
    total = whole["overall"]["comments"]
    assert total > 3_000 and whole["meta"]["sample"] is None
    chunked = compute_figures(replace(settings, report_chunk=700), store, None, None, "week")  # 6 chunks
    assert json.dumps(chunked, sort_keys=True) == json.dumps(whole, sort_keys=True)
    sampled = compute_figures(replace(settings, report_chunk=700, report_sample=1_000), store, None, None, "week")
    assert sampled["meta"]["sample"]["of"] == total and 800 < sampled["meta"]["sample"]["comments"] < 1_200
    one_chunk = compute_figures(replace(settings, report_sample=1_000), store, None, None, "week")

    def complaints(f: dict) -> list:  # the root causes' counts (their quotes and words read the sample)
        return [(r["theme"], r["negative_comments"], r["with_cause"],
                 [(c["id"], c["negative_comments"], c["negative_series"]) for c in r["causes"]]) for r in f["root_causes"]]

    for figures in (sampled, one_chunk):
        for key in ("overall", "periods", "channels", "themes", "causes", "spikes", "gone_quiet", "data_quality",
                    "never_mentioned_themes", "promises", "segments", "theme_by_segment", "drivers"):
            assert figures[key] == whole[key], key
        assert complaints(figures) == complaints(whole)
    assert sampled["needs"] != whole["needs"] and sampled["quotes"] != whole["quotes"]  # these read the sample
    assert any(f"holds {total:,} comments" in line for line in executive_summary(sampled))
    assert any("comments of the sample" in line for line in executive_summary(sampled) if line.startswith("Unmet need"))
    assert not any("uniform sample" in line for line in executive_summary(whole))
    # each section read from the sample says so in the HTML (needs, drivers, segments, quotes, ...)
    from voiceminer.report.html import render_html

    sampled["headlines"], whole["headlines"] = executive_summary(sampled), executive_summary(whole)
    assert render_html(sampled).count('class="note sampled"') >= 3
    assert 'class="note sampled"' not in render_html(whole)
