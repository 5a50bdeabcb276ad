"""Segments are what customers, their channel or the export say, never VoiceMiner's own outputs
(issue 14, point 8: needs were "raised most by priority: low")."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from voiceminer import jobs
from voiceminer.aggregate.needs import unmet_needs
from voiceminer.aggregate.themes import (
    COMPUTED,
    segment_columns,
    segment_label,
    segment_table,
    theme_by_segment,
)
from voiceminer.config import LEXICAL_PIPELINE, Settings


def _frame(n: int = 120) -> pd.DataFrame:
    """A comment frame as :func:`comment_frame` builds it: VoiceMiner's own columns (sentiment,
    complaint, priority) with few values, beside the input's channel and metadata."""
    return pd.DataFrame({
        "id": [f"c{i}" for i in range(n)], "text": [f"text {i}" for i in range(n)],
        "period": [f"w{i % 4}" for i in range(n)],
        "channel": ["email", "chat", "phone"] * (n // 3), "source": ["tickets"] * n,
        "sentiment": ["negative", "neutral", "positive"] * (n // 3),
        "sentiment_score": [0.1, 0.5, 0.9] * (n // 3),
        "is_complaint": [True, False] * (n // 2), "priority": ["low", "medium", "high"] * (n // 3),
        "meta.priority": ["low", "normal", "high", "low"] * (n // 4),
        "meta.region": ["North", "South"] * (n // 2),
    })


def test_voiceminer_outputs_are_never_segment_columns() -> None:
    cols = segment_columns(_frame())
    assert cols == ["channel", "meta.priority", "meta.region"]
    assert not set(cols) & COMPUTED
    assert not {"sentiment", "sentiment_score", "is_complaint", "priority"} & set(cols)


def test_an_input_field_named_like_an_output_says_where_it_comes_from() -> None:
    assert segment_label("meta.priority") == "priority (from the export)"
    assert segment_label("meta.sentiment") == "sentiment (from the export)"
    assert segment_label("meta.region") == "region" and segment_label("channel") == "channel"


@pytest.mark.parametrize("column", ["priority", "sentiment", "is_complaint", "sentiment_score"])
def test_segment_figures_refuse_voiceminer_outputs(column: str) -> None:
    comments = _frame()
    cs = pd.DataFrame({"comment_id": comments["id"], "key": ["delivery"] * len(comments),
                       "label": comments["sentiment"], "mixed": False})
    with pytest.raises(ValueError, match="input attributes"):
        segment_table(comments, cs, column)
    with pytest.raises(ValueError, match="input attributes"):
        theme_by_segment(comments, cs, ["channel", column])
    needs = pd.DataFrame({"comment_id": comments["id"][:12], "sentence_idx": 0, "statement": "evening slots",
                          "score": 0.9, "start": 0, "end": 4, "explicit": True, "text_hash": None})
    with pytest.raises(ValueError, match="input attributes"):
        unmet_needs(comments, needs, {}, ["channel", column])


def test_need_segments_come_from_input_attributes_with_their_labels() -> None:
    comments = _frame()
    # the need is raised by low-priority tickets (the export's field) far more than their share
    low = comments.index[comments["meta.priority"] == "low"][:12]
    needs = pd.DataFrame({"comment_id": comments.loc[low, "id"].tolist(), "sentence_idx": 0,
                          "statement": "add evening delivery slots", "score": 0.9, "start": 0, "end": 4,
                          "explicit": True, "text_hash": None})
    found = unmet_needs(comments, needs, {}, segment_columns(comments))
    segments = found[0]["segments"]
    assert segments, "the planted lift is found"
    for s in segments:
        assert s["segment"] in ("channel", "source") or s["segment"].startswith("meta.")
    top = next(s for s in segments if s["segment"] == "meta.priority")
    assert top["value"] == "low" and top["segment_label"] == "priority (from the export)"


def test_report_names_segments_by_origin(tmp_path: Path) -> None:
    rows = [{"id": str(i), "text": ("Awful late delivery again." if i % 3 else "Lovely fresh food, thanks."),
             "date": f"2026-09-{1 + i % 20:02d}", "channel": ("email", "chat")[i % 2],
             "priority": ("low", "high")[i % 2], "region": ("North", "South", "East")[i % 3]} for i in range(90)]
    path = tmp_path / "tickets.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    settings = Settings(data_dir=tmp_path / "data", pipeline=LEXICAL_PIPELINE)  # keyword themes
    result = jobs.mine(settings, [path])
    figures = json.loads(Path(result.report["json"]).read_text(encoding="utf-8"))
    seen = {(s["segment"], s["segment_label"]) for s in figures["segments"]}
    assert ("meta.priority", "priority (from the export)") in seen and ("meta.region", "region") in seen
    assert all(s in ("channel", "source") or s.startswith("meta.") for s, _ in seen)
    html = Path(result.report["html"]).read_text(encoding="utf-8")
    assert "priority (from the export) = low" in html and "<td>priority = " not in html
    assert np.isfinite([s["negative_share"] for s in figures["segments"]]).all()
    # the themes a segment talks more about are named by their labels, not their ids
    lifted = [t for s in figures["segments"] for t in s["over_indexed_themes"]]
    assert lifted and all(t["label"] and t["label"] != t["theme"] for t in lifted)
    assert f"{lifted[0]['label']} <span class=\"muted\">({lifted[0]['lift']}×)" in html


def test_a_segment_lists_only_themes_it_talks_about_more_than_average() -> None:
    comments = _frame()
    # "delivery" everywhere; "refunds" only in the North, so the South over-indexes on nothing
    keys = ["delivery"] * len(comments) + ["refunds"] * 30
    ids = comments["id"].tolist() + comments.loc[comments["meta.region"] == "North", "id"].tolist()[:30]
    cs = pd.DataFrame({"comment_id": ids, "key": keys, "label": "negative", "mixed": False})
    rows = {r["value"]: r for r in segment_table(comments, cs, "meta.region")}
    assert [t["theme"] for t in rows["North"]["over_indexed_themes"]] == ["refunds"]
    assert rows["South"]["over_indexed_themes"] == []  # delivery at 1.0x is not "more than average"
    assert all(t["lift"] >= 1.2 for r in rows.values() for t in r["over_indexed_themes"])


def test_scattered_need_statements_are_not_reported_as_none() -> None:
    """Needs raised by fewer than 3 comments alike are not listed as patterns, but the report still says how
    many sentences state a need and shows the surest (explicit first): 92 scattered requests in 2,465
    support tweets read as "No need statements in this range"."""
    from voiceminer.aggregate.needs import need_overview

    comments = _frame(12)
    statements = ["send me a link to the driver", "fix the platform drainage", "x", "add evening slots"]
    needs = pd.DataFrame({"comment_id": comments["id"][:4], "sentence_idx": 0, "statement": statements,
                          "score": [0.7, 0.95, 0.99, 0.6], "start": 0, "end": 4,
                          "explicit": [True, False, True, True], "text_hash": None})
    listed = unmet_needs(comments, needs, {}, [])
    assert listed == []
    o = need_overview(comments, needs, listed, examples=2)
    assert (o["sentences"], o["comments"], o["listed_comments"]) == (4, 4, 0)
    # explicit requests first, then the surest; a one-word statement does not read as a need
    assert [e["statement"] for e in o["examples"]] == ["send me a link to the driver", "add evening slots"]
    assert o["examples"][0]["text"] == "text 0" and o["examples"][0]["span"] == [0, 4]
    assert need_overview(comments, needs.iloc[:0], [])["sentences"] == 0
