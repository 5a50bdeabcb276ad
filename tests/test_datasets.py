"""Labeled-dataset loaders: content, label sets and the deterministic train/val split.

Tests that need ../shared/datasets (or $VOICEMINER_DATASETS) skip when it is missing (and
fail on CI, see datasets_required.py); the split, error-message and parser tests run everywhere.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from datasets_required import datasets_or_skip

from voiceminer.evaluation.datasets import (
    ALL_LOADERS,
    MAMS_CATEGORIES,
    SEMEVAL14_CATEGORIES,
    DatasetMissing,
    Example,
    datasets_root,
    hu_liu_sentiment,
    semeval_sentence_sentiment,
    split,
    split_of,
    uci_sentiment,
)
from voiceminer.evaluation.datasets_base import normalize

SENTIMENT3 = {"positive", "negative", "neutral"}
AIRLINE_REASONS = {"Customer Service Issue", "Late Flight", "Can't Tell", "Cancelled Flight", "Lost Luggage",
                   "Bad Flight", "Flight Booking Problems", "Flight Attendant Complaints", "longlines",
                   "Damaged Luggage"}
RELEVANT = {"requirements_relevant", "not_relevant"}
# loader name -> (expected label set (None: not fixed), multi-label?)
EXPECTED: dict[str, tuple[set[str] | None, bool]] = {
    "uci_sentiment": ({"positive", "negative"}, False),
    "semeval_restaurants_sentiment": (SENTIMENT3, False),
    "semeval_laptops_sentiment": (SENTIMENT3, False),
    "semeval14_categories": (set(SEMEVAL14_CATEGORIES), True),
    "semeval1516_restaurants_categories": (None, True),
    "semeval1516_laptops_categories": (None, True),
    "mams_categories": (set(MAMS_CATEGORIES), True),
    "airline_sentiment": (SENTIMENT3, False),
    "airline_reasons": (AIRLINE_REASONS, False),
    "complaints": ({"complaint", "not_complaint"}, False),
    "needs": ({"need", "not_need"}, False),
    "hu_liu_sentiment": ({"positive", "negative"}, False),
    "app_reviews_p1": (RELEVANT, False),
    "app_reviews_p2": (RELEVANT, False),
    "app_reviews_p3": ({"quality", "stability", "feature", "performance", "none"}, False),
}


@pytest.fixture(scope="module")
def root() -> Path:
    return datasets_or_skip()


@pytest.fixture(scope="module")
def loaded(root: Path) -> dict[str, list[Example]]:
    return {name: loader(root=root) for name, loader in ALL_LOADERS.items()}


def _labels(ex: Example) -> tuple[str, ...]:
    return ex.label if isinstance(ex.label, tuple) else (ex.label,)


def test_every_loader_is_covered() -> None:
    assert set(EXPECTED) == set(ALL_LOADERS)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loader_content(name: str, loaded: dict[str, list[Example]]) -> None:
    examples = loaded[name]
    expected, multi = EXPECTED[name]
    assert len(examples) >= 300
    assert all(ex.text and ex.text == ex.text.strip() for ex in examples)
    assert all(isinstance(ex.label, tuple) == multi for ex in examples)
    seen = set()
    labels = set()
    for ex in examples:
        key = (ex.dataset, normalize(ex.text), ex.label)
        assert key not in seen, f"duplicate (text, label) in {ex.dataset}: {ex.text!r}"
        seen.add(key)
        labels.update(_labels(ex))
        if multi:
            assert ex.label and list(ex.label) == sorted(set(ex.label))
            assert set(ex.meta["polarities"]) == set(ex.label)
    if expected is not None:
        assert labels == expected
    for side in ("train", "val"):  # every class of a single-label task is on both sides
        side_labels = {lab for ex in split(examples, side) for lab in _labels(ex)}
        assert multi or side_labels == labels


def test_loaders_are_deterministic(root: Path, loaded: dict[str, list[Example]]) -> None:
    assert ALL_LOADERS["airline_sentiment"](root=root) == loaded["airline_sentiment"]
    assert ALL_LOADERS["semeval_restaurants_sentiment"](root=root) == loaded["semeval_restaurants_sentiment"]


def test_dataset_names_and_meta(loaded: dict[str, list[Example]]) -> None:
    assert {ex.dataset for ex in loaded["uci_sentiment"]} == {"uci_amazon", "uci_yelp"}
    assert {ex.dataset for ex in loaded["semeval_restaurants_sentiment"]} == {
        "semeval14_restaurants", "semeval15_restaurants", "semeval16_restaurants"}
    assert {ex.dataset for ex in loaded["airline_sentiment"]} == {"airline"}
    negatives = [ex for ex in loaded["airline_sentiment"] if ex.label == "negative"]
    assert all("airline" in ex.meta and "negativereason" in ex.meta for ex in negatives)
    assert any("\n" in ex.text for ex in loaded["airline_sentiment"])  # real CSV parsing kept newlines
    assert all(ex.meta["domain"] for ex in loaded["complaints"])
    assert not any(ex.label == "complaint" and ex.meta["domain"].startswith("random")
                   for ex in loaded["complaints"])
    assert all(ex.meta["negativereason"] == ex.label for ex in loaded["airline_reasons"])


def test_split_is_disjoint_and_consistent_across_datasets(loaded: dict[str, list[Example]]) -> None:
    side_of_text: dict[str, set[str]] = defaultdict(set)
    datasets_of_text: dict[str, set[str]] = defaultdict(set)
    for examples in loaded.values():
        train, val = split(examples, "train"), split(examples, "val")
        assert len(train) + len(val) == len(examples)
        by_dataset: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for side, part in (("train", train), ("val", val)):
            for ex in part:
                key = normalize(ex.text)
                by_dataset[ex.dataset][side].add(key)
                side_of_text[key].add(side)
                datasets_of_text[key].add(ex.dataset)
        for dataset, sides in by_dataset.items():
            assert not sides["train"] & sides["val"], f"text in both train and val of {dataset}"
    assert all(len(sides) == 1 for sides in side_of_text.values())
    shared = [key for key, names in datasets_of_text.items() if len(names) > 1]
    assert len(shared) > 100  # e.g. SemEval-2015 sentences reused in 2016


def test_val_fraction_on_real_data(loaded: dict[str, list[Example]]) -> None:
    for name in ("airline_sentiment", "needs", "semeval_restaurants_sentiment", "mams_categories"):
        examples = loaded[name]
        fraction = len(split(examples, "val")) / len(examples)
        assert 0.17 <= fraction <= 0.23, (name, fraction)


def test_split_of_is_deterministic_and_normalized() -> None:
    text = "The food was great, the service  slow."
    # pinned sides (sha256 of the normalized text): the same in every process and release; a split that
    # moved would leak validation texts into training, and a salted or random one fails here
    pinned = [split_of(f"sentence number {i}") for i in range(12)]
    assert pinned == ["val", "train", "train", "train", "val", "train", "train", "train", "train", "train",
                      "val", "train"]
    assert split_of(text) == "val"
    assert split_of(text) == split_of("  the FOOD was great,\tthe service slow.\n")
    assert split_of(text, 0.0) == "train" and split_of(text, 1.0) == "val"
    texts = [f"sentence number {i}" for i in range(20000)]
    fraction = sum(split_of(t) == "val" for t in texts) / len(texts)
    assert 0.19 <= fraction <= 0.21
    # monotone: growing the val fraction only moves texts from train to val
    assert all(split_of(t, 0.3) == "val" for t in texts[:2000] if split_of(t, 0.2) == "val")
    with pytest.raises(ValueError):
        split_of(text, 1.5)
    with pytest.raises(ValueError):
        split([Example(text, "positive", "x")], "test")


def test_example_is_hashable() -> None:
    a = Example("hi", ("food",), "mams", {"polarities": {"food": "positive"}})
    assert hash(a) == hash(Example("hi", ("food",), "mams"))


def test_missing_folder_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "no-such-datasets"
    with pytest.raises(DatasetMissing) as info:
        datasets_root(missing)
    assert str(missing) in str(info.value) and "VOICEMINER_DATASETS" in str(info.value)
    monkeypatch.setenv("VOICEMINER_DATASETS", str(missing))
    with pytest.raises(DatasetMissing) as info:
        uci_sentiment()
    assert str(missing) in str(info.value)
    monkeypatch.setenv("VOICEMINER_DATASETS", str(tmp_path))  # exists, but the corpus is absent
    with pytest.raises(DatasetMissing) as info:
        uci_sentiment()
    assert "uci_sentiment_labelled_sentences" in str(info.value)
    assert info.value.exit_code == 3


def test_semeval_sentence_rule(tmp_path: Path) -> None:
    folder = tmp_path / "semeval2015_absa"
    folder.mkdir()
    op = '<Opinion category="FOOD#QUALITY" polarity="{}"/>'
    sentences = {
        "All good.": ["positive", "positive"],
        "Mixed bag.": ["positive", "negative"],
        "Just neutral.": ["neutral"],
        "No opinions here.": [],
    }
    body = "".join(
        f'<sentence id="{i}"><text>{text}</text>'
        + (f"<Opinions>{''.join(op.format(p) for p in pols)}</Opinions>" if pols else "")
        + "</sentence>"
        for i, (text, pols) in enumerate(sentences.items()))
    (folder / "ABSA-15_Restaurants_Train_Final.xml").write_text(
        f'<Reviews><Review rid="1"><sentences>{body}</sentences></Review></Reviews>', encoding="utf-8")
    got = semeval_sentence_sentiment("restaurants", years=(2015,), root=tmp_path)
    assert [(ex.text, ex.label, ex.dataset) for ex in got] == [
        ("All good.", "positive", "semeval15_restaurants"), ("Just neutral.", "neutral", "semeval15_restaurants")]


def test_hu_liu_parser(tmp_path: Path) -> None:
    folder = tmp_path / "hu_liu_customer_reviews"
    folder.mkdir()
    (folder / "Readme.txt").write_text("x[+2]##not a review\r\n")
    (folder / "Cam.txt").write_bytes(
        b"*** header ***\r\n[t]great camera\r\n"
        b"picture[+2], use[+1}##nice pictures .\r\n"
        b"battery[-3][p]##it dies fast .\r\n"
        b"lens[+2], price[-1]##mixed .\r\n"
        b"##no opinion .\r\n"
        b"setup[2]##setup was easy .\r\n")
    got = hu_liu_sentiment(root=tmp_path)
    assert [(ex.text, ex.label) for ex in got] == [
        ("nice pictures .", "positive"), ("it dies fast .", "negative"), ("setup was easy .", "positive")]
    assert got[0].meta["product"] == "Cam"
