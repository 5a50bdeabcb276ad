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


def test_no_praise_is_quoted_from_a_complaint() -> None:
    # "I didn't miss my flight" reads positive, but its comment is a complaint: sarcasm or a concession
    texts = ["I didn't miss my flight. They gave my ticket to someone else, not my fault.",
             "The crew got us there early, lovely flight.", "Smooth boarding and a friendly gate team today."]
    comments = pd.DataFrame({"id": ["a", "b", "c"], "text": texts, "period": ["w1"] * 3, "channel": ["x"] * 3,
                             "sentiment": ["negative", "positive", "positive"]})
    mentions = pd.DataFrame({"comment_id": ["a", "b", "c"], "sentence_idx": [0, 0, 0], "theme": ["flight"] * 3,
                             "sentence_sentiment": ["positive"] * 3, "start": [0, 0, 0], "end": [24, 43, 48]})
    sentences = pd.DataFrame({"comment_id": ["a", "b", "c"], "idx": [0, 0, 0], "text_hash": ["ha", "hb", "hc"]})
    vectors = {"ha": np.array([1, 0, 0, 0], np.float32), "hb": np.array([.8, .6, 0, 0], np.float32),
               "hc": np.array([.8, 0, .6, 0], np.float32)}
    quoted = [q.comment_id for q in theme_quotes(comments, mentions, sentences, vectors, ["flight"])["flight"]["positive"]]
    assert sorted(quoted) == ["b", "c"]
    # a neutral comment may still give a positive quote; a negative one never, even when none is left
    quoted = [q.comment_id for q in theme_quotes(comments.assign(sentiment=["negative", "positive", "neutral"]),
                                                 mentions, sentences, vectors, ["flight"])["flight"]["positive"]]
    assert sorted(quoted) == ["b", "c"]
    only = theme_quotes(comments.iloc[:1], mentions.iloc[:1], sentences, vectors, ["flight"])
    assert only["flight"]["positive"] == []


def test_vector_figures_read_capped_samples_from_the_store(tmp_path, monkeypatch) -> None:
    """Emerging topics and quotes read the vectors of a capped sample of sentences, fetched from the
    store when asked for, so a report's memory does not grow with the sentences in its range; below
    the caps they read every sentence they need and the figures are the same as from a full dict."""
    from voiceminer.aggregate import frames
    from voiceminer.aggregate.frames import StoredVectors, lazy_vectors
    from voiceminer.storage import Store
    from voiceminer.storage.vectors import VectorCache

    rng = np.random.default_rng(0)
    n = 120  # two topics a week, five weeks; the second grows in the last week
    ids = [f"c{i:03d}" for i in range(n)]
    periods = [f"w{i % 5}" for i in range(n)]
    texts = [("Parking at the depot is a nightmare." if i % 3 else "Music in the app is far too loud.") for i in range(n)]
    comments = pd.DataFrame({"id": ids, "text": texts, "period": periods, "channel": ["email"] * n})
    hashes = [f"h{i:03d}" for i in range(n)]
    sentences = pd.DataFrame({"comment_id": ids, "idx": [0] * n, "start": [0] * n,
                              "end": [len(t) for t in texts], "text_hash": hashes})
    mentions = pd.DataFrame({"comment_id": ids[:40], "sentence_idx": [0] * 40, "theme": ["delivery"] * 40,
                             "sentence_sentiment": ["negative"] * 40, "start": [0] * 40,
                             "end": [len(t) for t in texts[:40]]})
    vecs = {h: (np.eye(2, 16)[int(i % 3 == 0)] + rng.normal(0, .02, 16)).astype(np.float32) for i, h in enumerate(hashes)}
    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}")
    VectorCache(store, "enc@a").put(vecs)

    def run(vectors):
        topics = emerging_topics(comments, sentences, mentions, vectors, "w4", SpikeRules(min_volume=1))
        return topics, theme_quotes(comments, mentions, sentences, vectors, ["delivery"])

    lazy = lazy_vectors(store, hashes)
    assert isinstance(lazy, StoredVectors) and lazy.encoder == "enc@a" and len(lazy) == 0  # nothing read yet
    assert run(lazy) == run(dict(vecs))  # the same figures as from every vector at once
    assert len(lazy) == n  # 80 free sentences for the clusters, 40 mentions for the quotes
    monkeypatch.setattr(frames, "MAX_SENTENCES", {"emerging": 30, "quotes": 10, "background": 10})
    monkeypatch.setitem(emerging_topics.__globals__, "MAX_SENTENCES", frames.MAX_SENTENCES)
    monkeypatch.setitem(theme_quotes.__globals__, "MAX_SENTENCES", frames.MAX_SENTENCES)
    capped = lazy_vectors(store, hashes)
    topics, quotes = run(capped)
    assert len(capped) <= 30 + 10  # the samples' vectors only (the covered background is read as text)
    assert "30 sentences outside the taxonomy were clustered (a uniform sample of the 80 in" in topics.note
    assert quotes["delivery"]["negative"]
    assert not lazy_vectors(store, [])  # no hashes: no encoder, nothing to read
