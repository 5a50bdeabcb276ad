"""aggregate.highlights: the alerts, emerging topics and quotes every view shares, as typed results."""

from __future__ import annotations

import numpy as np
import pandas as pd

from voiceminer.aggregate.highlights import Alert, Quote, current_alerts, emerging_topics, theme_quotes
from voiceminer.aggregate.signals import SpikeRules

SPIKE = {"period": "w2", "level": "cause", "key": "delivery.late", "label": "Late", "test": "volume",
         "ratio": 3.0, "count": 40, "of": 200, "q_value": 0.0001}


def test_alerts_are_typed_and_keep_the_json_form() -> None:
    causes = [{"causes": [{"id": "delivery.late", "distinctive_terms": ["storm", "depot", "strike", "x"],
                           "spike": {"period": "w2"}}]}]
    emerging = [{"id": 3, "label": "app crash", "emerging": True, "current": 9, "ratio": 4.0},
                {"id": 4, "label": "quiet", "emerging": False}]
    promise = {"id": "p1", "label": "Next day", "verdict": "raised and going badly", "negative_share": 0.7,
               "current": {"q_value": 0.01, "ratio_vs_before": 2.0, "mentions": 15}}
    weak = {**promise, "id": "p2", "current": {**promise["current"], "q_value": 0.2}}
    old = {**SPIKE, "period": "w1"}
    alerts = current_alerts([SPIKE, old], emerging, [promise, weak], "w2", causes)
    assert all(isinstance(a, Alert) for a in alerts)
    assert [(a.kind, a.key, a.severity) for a in alerts] == [
        ("spike", "delivery.late", "high"), ("emerging", "cluster-3", "medium"), ("promise", "p1", "medium")]
    spike = alerts[0].as_dict()
    assert list(spike) == ["kind", "level", "key", "label", "test", "severity", "message"]
    assert spike["message"].endswith("; they name 'storm', 'depot', 'strike'")
    assert list(alerts[1].as_dict()) == ["kind", "key", "label", "severity", "message"]


def test_emerging_topics_explain_why_there_are_none() -> None:
    empty = pd.DataFrame(columns=["comment_id", "idx", "start", "end", "text_hash"])
    topics = emerging_topics(pd.DataFrame(), empty, pd.DataFrame(), {}, "w1", SpikeRules())
    assert topics.clusters is None and topics.note == "No analysed sentences in this range."
    sentences = pd.DataFrame({"comment_id": ["a"], "idx": [0], "start": [0], "end": [20], "text_hash": ["h"]})
    mentions = pd.DataFrame({"comment_id": [], "sentence_idx": []})
    topics = emerging_topics(pd.DataFrame(), sentences, mentions, {}, "w1", SpikeRules())
    assert topics.clusters is None and "need sentence vectors" in topics.note


def test_theme_quotes_are_typed() -> None:
    comments = pd.DataFrame({"id": ["a", "b"], "text": ["The parcel came three days late.", "Short."],
                             "period": ["w1", "w1"], "channel": ["email", "email"]})
    mentions = pd.DataFrame({"comment_id": ["a", "b"], "sentence_idx": [0, 0], "theme": ["delivery"] * 2,
                             "sentence_sentiment": ["negative"] * 2, "start": [0, 0], "end": [32, 6]})
    sentences = pd.DataFrame({"comment_id": ["a", "b"], "idx": [0, 0], "text_hash": ["ha", "hb"]})
    vectors = {"ha": np.ones(4, dtype=np.float32), "hb": np.ones(4, dtype=np.float32)}
    quotes = theme_quotes(comments, mentions, sentences, vectors, ["delivery"])
    assert quotes["delivery"]["negative"] == [Quote("a", "w1", "email", "The parcel came three days late.", [0, 32])]
    assert quotes["delivery"]["positive"] == []  # no positive mention; "Short." is too short to quote
    assert list(quotes["delivery"]["negative"][0].as_dict()) == ["comment_id", "period", "channel", "text", "span"]
