"""Discovery names clusters by a key phrase and shows examples with content (issue 14, point 7).

The clusters are built by hand: the filler sentences found on real data ("@JetBlue I am",
"@SouthwestAir Roger wilco.", "Grüße aus Köln!") sit exactly at their cluster's centre, so
an example picker that takes the nearest sentences shows them, and the label words that
were found ("flight / need / phone") are frequent in the cluster.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from voiceminer.themes import discover, is_small_talk
from voiceminer.themes.cluster_text import content_words, key_phrases, looks_english, pick_examples

PHONE = [
    "@JetBlue I need to change my flight but the phone line is busy",
    "@united on hold on the phone for two hours, I need a rebooking",
    "@SouthwestAir nobody answers the phone line, I need help with my flight",
    "Called the phone line three times and got cut off every time",
    "I need someone to pick up the phone line, my flight leaves tonight",
    "phone line keeps dropping me after an hour on hold",
    "@AmericanAir your phone line hangs up on me, need to rebook the flight",
    "the phone line says call back later, I need this flight changed",
    "stuck on hold on the phone line again, flight is tomorrow",
    "why is the phone line wait four hours, I need to fix my flight",
]
BAGS = [
    "@united lost my bag on the flight to Denver, need it back",
    "lost bag and nobody at the baggage desk knows where it is",
    "my lost bag still has not arrived after three days",
    "the baggage claim took an hour and my bag was damaged",
    "second lost bag this month, I need my clothes for the flight",
    "@JetBlue my bag was left in Boston and I need it",
    "baggage desk staff could not trace the lost bag",
    "damaged bag handle ripped off at baggage claim",
    "they lost the bag with my medication, I need it today",
    "a lost bag on a direct flight, how is that possible",
]
FILLERS = {"phone": ["@JetBlue I am", "@SouthwestAir Roger wilco."], "bags": ["Grüße aus Köln!"]}


def _clustered(seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Two clusters in vector space; the filler sentences sit exactly at their centre."""
    rng = np.random.default_rng(seed)
    centres = {"phone": np.eye(2, 16)[0], "bags": np.eye(2, 16)[1]}
    texts, vectors = [], []
    for name, group in (("phone", PHONE), ("bags", BAGS)):
        for text in FILLERS[name]:
            texts.append(text)
            vectors.append(centres[name])
        for text in group:
            texts.append(text)
            vectors.append(centres[name] + rng.normal(0, 0.15, 16))
    return texts, np.vstack(vectors)


@pytest.fixture(scope="module")
def found():
    texts, vectors = _clustered()
    return discover(texts, vectors, min_cluster_size=5, k_range=[2], max_unclustered=0, lexical_weight=0)


def _cluster_of(found, word):
    return next(c for c in found.clusters if any(word in e.lower() for e in c.examples))


def test_labels_are_one_key_phrase_not_a_word_list(found):
    for c in found.clusters:
        assert "/" not in c.label and "@" not in c.label and "http" not in c.label.lower()
        assert 1 <= len(c.label.split()) <= 3
    phone, bags = _cluster_of(found, "phone"), _cluster_of(found, "bag")
    assert phone.label.lower() == "phone line"  # not "flight / need / phone"
    assert bags.label.lower() == "lost bag"
    for c in found.clusters:  # words common to both clusters, or filler, never name one
        assert not {"need", "flight", "i", "am"} & set(c.label.lower().split())


def test_examples_have_content_never_fillers(found):
    shown = [e for c in found.clusters for e in c.examples]
    for filler in ("@JetBlue I am", "@SouthwestAir Roger wilco.", "Grüße aus Köln!"):
        assert filler not in shown
    for c in found.clusters:
        assert len(c.examples) == 3
        for e in c.examples:
            assert len(content_words(e)) >= 3
    # the examples show what the label names
    assert all("phone line" in e.lower() for e in _cluster_of(found, "phone").examples)


def test_fillers_are_small_talk_and_the_language_check():
    assert is_small_talk("@JetBlue I am") and is_small_talk("@SouthwestAir Roger wilco.")
    assert not is_small_talk("@united lost my bag")
    assert not looks_english("Grüße aus Köln!") and looks_english("Lost my bag in Köln")
    # a German corpus keeps its German examples
    german = ["Die Lieferung kam zwei Tage zu spät an", "Grüße aus Köln, die Lieferung fehlt leider"]
    assert pick_examples(german, None, 2, english=False) == german
    assert pick_examples(german, None, 2, english=True) == []


def test_longer_phrase_wins_over_its_head_word():
    group = [f"the customer service agent {w} me" for w in ("ignored", "hung up on", "lied to", "blamed")] + [
        "customer service never called back", "service was slow", "no reply from customer service"]
    other = ["the seat was broken", "my seat had no legroom", "seat back screen dead", "tiny seat again"]
    phrases = [[p for p, _ in g] for g in key_phrases([group, other], 3)]
    assert phrases[0][0] == "customer service"
    assert "service" not in phrases[0]  # inside the phrase already taken
    assert phrases[1][0] == "seat"


def test_a_word_common_in_the_background_names_no_new_topic():
    """On an airline's uncovered tweets a cluster was called "flight": a word in a third of every tweet, covered
    or not. Against the sentences the taxonomy covers it names nothing; a word rare there still does."""
    group = [f"the flight to {c} was fine but the gate was changed twice" for c in ("Denver", "Boston", "Miami")] + [
        f"flight {w} and nobody told us about the gate" for w in ("boarded", "left", "landed")]
    other = [f"the crew member {w} my seat" for w in ("cleaned", "fixed", "checked", "moved", "ignored")]
    covered = [f"the flight was {w} {when}" for w in ("delayed", "late", "cancelled", "overbooked", "diverted",
                                                      "full", "slow", "rerouted", "bumped", "grounded")
               for when in ("again", "twice")]
    without, with_background = ([[p for p, _ in g] for g in key_phrases([group, other], 3, bg)] for bg in ((), covered))
    assert "flight" in without[0]  # the only comparison was the other cluster
    assert "flight" not in with_background[0]
    assert with_background[0][0] == "gate"


def test_handles_urls_and_numbers_never_enter_phrases():
    group = [f"@DeltaAssist my refund for order 123{i} never came http://t.co/abc{i}" for i in range(6)]
    other = [f"@DeltaAssist the wifi on board was down {i}" for i in range(6)]
    for phrases in key_phrases([group, other], 5):
        assert phrases
        for p, share in phrases:
            assert 0 < share <= 1
            assert not re.search(r"@|http|t\.co|\d", p), p


def test_no_shared_phrase_says_so():
    nouns = ("apple", "bridge", "candle", "dolphin", "engine", "forest", "guitar", "harbour", "island",
             "jacket", "kettle", "lantern")
    texts = [f"the {w} was there" for w in nouns]
    vectors = np.vstack([np.eye(2, 8)[i % 2] + 0.01 * i for i in range(len(texts))])
    d = discover(texts, vectors, min_cluster_size=3, k_range=[2], max_unclustered=0, lexical_weight=0)
    assert [c.label for c in d.clusters] == ["No shared topic"] * 2
    assert all(c.key_phrases == () for c in d.clusters)


def test_report_new_topics_use_the_labels_and_never_flag_a_cluster_without_one():
    from voiceminer.aggregate.signals import emerging_clusters

    rng = np.random.default_rng(2)
    centres = np.eye(3, 24)
    nouns = ["apple", "bridge", "candle", "dolphin", "engine", "forest", "guitar", "harbour", "island",
             "jacket", "kettle", "lantern", "meadow", "needle", "orchard", "pillow"]
    texts, vecs, periods = [], [], []
    for week in range(5):  # two steady topics; in the last week, 16 sentences sharing no phrase
        for topic, n in ((0, 6), (1, 6), (2, 16 if week == 4 else 0)):
            for i in range(n):
                texts.append((f"my lost bag again {week}-{i}", f"the phone line was busy {week}-{i}",
                              f"the {nouns[i]} was there")[topic])
                vecs.append(centres[topic] + rng.normal(0, 0.03, 24))
                periods.append(f"w{week}")
    found = emerging_clusters(texts, np.array(vecs, np.float32), periods, "w4")
    by_label = {c["label"]: c for c in found}
    assert {"lost bag", "phone line", "No shared topic"} <= set(by_label)
    assert not by_label["No shared topic"]["topical"] and not by_label["No shared topic"]["emerging"]
    assert by_label["phone line"]["topical"] and by_label["phone line"]["label_share"] == 1.0
    assert found[-1]["label"] == "No shared topic"  # listed last


def test_times_and_numbers_leave_nothing_behind_in_phrases():
    group = [f"please add a {h}-{h + 3}pm delivery option" for h in range(4, 9)]
    other = [f"the {w} was cold" for w in ("soup", "pasta", "bread", "coffee", "tea")]
    phrases = [p for p, _ in key_phrases([group, other], 3)[0]]
    assert phrases[0] == "delivery option" and not any("pm" in p.split() for p in phrases)
