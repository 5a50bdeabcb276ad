"""The bundled demo corpus, mined end to end: every row accounted for against truth.json."""

import json
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
    settings = Settings(data_dir=tmp_path_factory.mktemp("demo") / "data")
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
    assert all(0 <= c.rating <= 10 for c in survey if c.rating is not None)
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
SLOT = r"slot|window|reschedul|evening|choose when"


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
    assert sum(weekly.get(w, 0) for w in weeks[:4]) >= 2 * sum(weekly.get(w, 0) for w in weeks[-4:]), weekly
