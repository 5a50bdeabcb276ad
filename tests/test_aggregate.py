"""Aggregation pieces: promises config and matching, need grouping, segments, settings."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from voiceminer.aggregate.needs import group_needs
from voiceminer.aggregate.promises import load_promises, promise_figures
from voiceminer.aggregate.themes import segment_columns, theme_periods
from voiceminer.config import Settings
from voiceminer.errors import ConfigError


def _comments(texts: list[str], periods: list[str], sentiment: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame({"id": [f"c{i}" for i in range(len(texts))], "text": texts, "period": periods,
                         "sentiment": sentiment or ["negative"] * len(texts),
                         "sentiment_score": [-0.5] * len(texts)})


NO_MENTIONS = pd.DataFrame(columns=["comment_id", "theme", "cause", "sentence_sentiment"])


def test_promises_file_errors_name_the_file_and_entry(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("promises:\n  - id: a\n    label: A\n    keywords: [x]\n  - label: no id\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"p\.yaml, entry 2"):
        load_promises(bad)
    bad.write_text("promises: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_promises(bad)
    bad.write_text("promises:\n  - id: a\n    label: A\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="keywords"):
        load_promises(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_promises(tmp_path / "missing.yaml")


def test_promise_keywords_match_whole_words_and_prefixes(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("promises:\n  - id: eco\n    label: Plastic-free\n    keywords: ['packag*', plastic]\n"
                    "  - id: never\n    label: Carbon neutral\n    keywords: [carbon]\n", encoding="utf-8")
    promises = load_promises(path)
    texts = ["So much PACKAGING again", "plastic bag everywhere", "plasticky taste", "fine", "ok"] * 20
    figures = promise_figures(promises, _comments(texts, ["w1"] * 50 + ["w2"] * 50), NO_MENTIONS)
    eco, never = (next(f for f in figures if f["id"] == k) for k in ("eco", "never"))
    assert eco["mentions"] == 40 and eco["verdict"] == "raised and going badly"  # "plasticky" is no match
    assert never["mentions"] == 0 and never["verdict"] == "never raised"
    assert never["rule_of_three"] == pytest.approx(0.03) and "3/n" in never["explanation"]


def test_need_groups_do_not_depend_on_row_order() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(4, 16)
    vecs = {f"h{i}": (centres[i % 2] + rng.normal(0, 0.05, 16)).astype(np.float32) for i in range(12)}
    needs = pd.DataFrame({"comment_id": [f"c{i}" for i in range(12)], "sentence_idx": 0,
                          "statement": ["x"] * 12, "text_hash": [f"h{i}" for i in range(12)]})
    a = group_needs(needs, vecs)
    shuffled = needs.sample(frac=1, random_state=3)
    b = group_needs(shuffled, vecs).reindex(needs.index)
    assert a.nunique() == 2 and b.nunique() == 2
    assert (pd.crosstab(a, b).values > 0).sum() == 2  # same partition


def test_need_groups_of_a_large_range_group_a_sample_and_assign_the_rest(monkeypatch) -> None:
    """Grouping compares every pair of statements; past the cap a sample is grouped and every other
    need joins its nearest sampled statement's group: the same partition, a distance matrix of the cap."""
    from voiceminer.aggregate import frames
    from voiceminer.aggregate.needs import _grouped

    topics = ["choose my delivery slot", "add a dark mode to the app", "let me pause my subscription"]
    n = 60
    needs = pd.DataFrame({"comment_id": [f"c{i:02d}" for i in range(n)], "sentence_idx": 0,
                          "statement": [f"{topics[i % 3]} please" if i % 2 else topics[i % 3] for i in range(n)],
                          "text_hash": [f"h{i:02d}" for i in range(n)]})
    full, dist, _ = _grouped(needs, {})
    assert full.nunique() == 3 and dist.shape == (n, n)
    monkeypatch.setitem(frames.MAX_SENTENCES, "needs", 12)
    capped, dist, position = _grouped(needs, {})
    assert dist.shape == (12, 12) and position.notna().sum() == 12
    assert (pd.crosstab(full, capped).values > 0).sum() == 3  # the same three groups


def test_theme_periods_fill_quiet_periods_with_zero() -> None:
    comments = _comments(["a", "b", "c"], ["w1", "w2", "w3"])
    mentions = pd.DataFrame({"comment_id": ["c0"], "theme": ["login"], "sentence_sentiment": ["negative"]})
    table = theme_periods(comments, mentions, "theme")
    assert table["comments"].tolist() == [1, 0, 0] and table["period"].tolist() == ["w1", "w2", "w3"]


def test_segment_columns_skip_ids_and_free_text() -> None:
    n = 100
    frame = pd.DataFrame({"channel": ["a", "b"] * 50, "source": ["s"] * n,
                          "meta.plan": ["Basic", "Plus", "Pro", "Basic"] * 25,
                          "meta.customer_id": [f"id{i}" for i in range(n)],
                          "meta.rare": [None] * 95 + ["x", "y", "x", "y", "x"]})
    assert segment_columns(frame) == ["channel", "meta.plan"]


def test_report_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="alert_webhook"):
        Settings(alert_webhook="ftp://example.com")
    with pytest.raises(ConfigError, match="baseline_periods"):
        Settings(baseline_periods=0)
    s = Settings.load(env={"VOICEMINER_MIN_VOLUME": "5", "VOICEMINER_PROMISES": "p.yaml"}, config_path=None)
    assert s.min_volume == 5 and s.promises == Path("p.yaml")


def test_emerging_cluster_is_flagged_when_it_grows() -> None:
    from voiceminer.aggregate.signals import emerging_clusters

    rng = np.random.default_rng(1)
    centres = np.eye(3, 24)
    texts, vecs, periods = [], [], []
    # two steady topics, 6 a week for 5 weeks; a third that appears only in the last week (15 sentences)
    for week in range(5):
        for topic, n in ((0, 6), (1, 6), (2, 15 if week == 4 else 0)):
            for i in range(n):
                texts.append(f"{('parking', 'music', 'new loyalty app')[topic]} remark {week}-{i}")
                vecs.append(centres[topic] + rng.normal(0, 0.03, 24))
                periods.append(f"w{week}")
    found = emerging_clusters(texts, np.array(vecs, np.float32), periods, "w4")
    flagged = [c for c in found if c["emerging"]]
    assert len(flagged) == 1 and "loyalty" in flagged[0]["label"] and flagged[0]["before"] == 0
    assert all(not c["emerging"] for c in found if "loyalty" not in c["label"])


def test_mentions_without_sentence_sentiment_have_no_net_sentiment() -> None:
    comments = _comments(["a", "b"], ["w1", "w1"])
    mentions = pd.DataFrame({"comment_id": ["c0", "c1"], "theme": ["x", "x"], "sentence_sentiment": [None, None]})
    table = theme_periods(comments, mentions, "theme")
    assert table["comments"].tolist() == [2] and pd.isna(table["net_sentiment"].iloc[0])
    assert table["neutral"].tolist() == [0]


def test_quotes_pass_over_a_sentence_already_quoted() -> None:
    """Two comments with the same sentence, or a near twin (curly apostrophe), are not both quoted."""
    from voiceminer.aggregate.quotes import representative

    rng = np.random.default_rng(1)
    centre, other = rng.normal(size=8), rng.normal(size=8)
    vectors = {"same": centre, "twin": centre + 0.01 * rng.normal(size=8), "near": centre + 0.6 * other,
               "far": other}
    rows = pd.DataFrame({"comment_id": ["a", "b", "c", "d", "e"], "text_hash": ["same", "same", "twin", "near", "far"],
                         "score": [0.5] * 5})
    ids = representative(rows, vectors, 3)["comment_id"].tolist()
    assert len(set(ids) & {"a", "b", "c"}) == 1 and {"d", "e"} < set(ids)  # one of the three copies, and the others
    assert len(representative(rows, vectors, 5)) == 5  # repeats still come when more quotes are asked for than exist
    assert representative(rows, vectors, 5)["comment_id"].tolist()[:3] == ids


def test_report_vectors_prefer_the_main_encoder_over_its_companion(tmp_path: Path) -> None:
    """The store keeps the sentiment companion's vectors beside the main encoder's; the report reads the main ones."""
    from voiceminer.aggregate.frames import stored_vectors
    from voiceminer.models.shared import shared_key
    from voiceminer.storage import Store
    from voiceminer.storage.vectors import VectorCache

    store = Store.open(f"sqlite:///{tmp_path / 'v.db'}")
    VectorCache(store, "enc@aaa").put({"h1": np.ones(4, np.float32), "h2": np.ones(4, np.float32)})
    VectorCache(store, "enc@bbb").put({"h1": np.zeros(8, np.float32), "h2": np.zeros(8, np.float32)})
    VectorCache(store, "enc@ccc").put({"h1": np.zeros(2, np.float32)})
    assert len(stored_vectors(store, ["h1", "h2"], prefer="enc@bbb")["h1"]) == 8
    assert len(stored_vectors(store, ["h1", "h2"], prefer="enc@ccc")["h1"]) == 4  # covers less: not taken
    assert len(stored_vectors(store, ["h1", "h2"])["h1"]) == 4  # no preference: the first key of the tie
    assert shared_key(tmp_path, "missing") is None
    assert shared_key(name="shared-v2").startswith("voiceminer-shared@")
