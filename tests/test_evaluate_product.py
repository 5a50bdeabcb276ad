"""`voiceminer evaluate`'s product rows on tiny fake datasets, without the shipped model: the
``model`` column must come from the tag path's records, the ``head`` column from the head on the
whole text, with the breakdown by number of sentences and the unmet-need precision / recall."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from voiceminer.config import LEXICON_PIPELINE
from voiceminer.evaluation import datasets as ds
from voiceminer.evaluation import evaluate as ev_mod
from voiceminer.evaluation.evaluate import Evaluator, accuracy, binary_f1, format_table
from voiceminer.evaluation.product import ProductPath, TextVectorCache, sentiment_label


def vec(text: str, dim: int = 6) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
    return np.random.default_rng(seed).normal(size=dim).astype(np.float32)


class FakeEncoder:
    def __init__(self, key: str) -> None:
        self.key, self.calls = key, 0
        self.vector_key = key  # the cache key (a backend suffix on ONNX; none here)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += len(texts)
        return np.stack([vec(t) for t in texts]) if texts else np.zeros((0, 6), np.float32)


class FakeShared:
    """Head stand-in: sentiment negative for texts with 'bad', complaint / need by keyword."""

    companion_ = None
    thresholds: ClassVar[dict[str, float]] = {"complaint": 0.5, "need": 0.5}

    def __init__(self) -> None:
        self.encoder_ = FakeEncoder("shared@1")
        self.texts: dict[str, str] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = self.encoder_.encode(texts)
        self.texts.update({vec(t).tobytes(): t for t in texts})
        return out

    def _text(self, v: np.ndarray) -> str:
        return self.texts[np.asarray(v, np.float32).tobytes()]

    def sentiment(self, vectors: np.ndarray, other: Any = None) -> np.ndarray:
        return np.array([[0.8, 0.1, 0.1] if "bad" in self._text(v) else [0.1, 0.1, 0.8] for v in vectors])

    def predict(self, vectors: np.ndarray, tasks: Any = None) -> dict[str, np.ndarray]:
        def two(word: str) -> np.ndarray:
            return np.array([[0.1, 0.9] if word in self._text(v) else [0.9, 0.1] for v in vectors])
        return {"complaint": two("bad"), "need": two("wish")}


class FakeProduct:
    """Tag records chosen by the test: complaint when 'awful' is in the text, a need for 'add'."""

    def records(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        return [{"sentiment": {"label": "neutral", "score": 0.0},
                 "complaint": {"is_complaint": "awful" in t}, "needs": [{"text": "x"}] if "add" in t else [],
                 "sentences": [{"need_score": 0.9 if "wish" in p else 0.1} for p in t.split(". ")]}
                for t in texts]


def fake_data() -> dict[str, list[ds.Example]]:
    rows: dict[str, list[ds.Example]] = {}
    words = ["bad", "good", "awful", "fine"]
    for name in ev_mod.SENTIMENT_LOADERS + ("complaints", "needs", "app_reviews_p3"):
        out = []
        for i in range(80):
            w = words[i % 4]
            text = f"{name} {w} thing {i}." + (f" More {w} words here {i}." if i % 3 == 0 else "")
            if name == "complaints":
                label = "complaint" if w in ("bad", "awful") else "not_complaint"
            elif name == "needs":
                text, label = (f"I wish for item {i}", "need") if i % 2 else (f"Item {i} is here", "not_need")
            elif name == "app_reviews_p3":
                text, label = (f"Please add feature {i}", "feature") if i % 3 == 0 else (f"It crashes {i}", "stability")
            else:
                label = "negative" if w in ("bad", "awful") else "positive"
            out.append(ds.Example(text, label, name))
        rows[name] = out
    return rows


@pytest.fixture
def evaluator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Evaluator:
    data = fake_data()
    ev = Evaluator(root=tmp_path, models_dir=tmp_path / "models", cache_dir=tmp_path / "cache")
    ev._shared, ev._base = FakeShared(), FakeEncoder("base@1")
    monkeypatch.setattr(Evaluator, "load", lambda self, name: data[name])
    monkeypatch.setattr(ev_mod, "vader_labels", lambda texts, two_way=False: ["negative"] * len(texts))
    return ev


def test_sentiment_rows_read_the_tag_path(evaluator: Evaluator, monkeypatch: pytest.MonkeyPatch) -> None:
    from voiceminer import tagging

    monkeypatch.setattr(tagging, "TAG_PIPELINE", LEXICON_PIPELINE)  # the tag path, with VADER for the heads
    rows = {r.task: r for r in evaluator.sentiment()}
    airline = rows["sentiment_3way_airline"]
    val = ds.split(fake_data()["airline_sentiment"], "val")
    records = ProductPath(evaluator.product.context).records([e.text for e in val])
    assert airline.scores["model"] == pytest.approx(accuracy([e.label for e in val],
                                                             [sentiment_label(r) for r in records]))
    head = ["negative" if "bad" in e.text else "positive" for e in val]
    assert airline.scores["head"] == pytest.approx(accuracy([e.label for e in val], head))
    buckets = {b["sentences"]: b for b in airline.detail["by_sentences"]}
    assert set(buckets) == {"1", "2", "all"} and buckets["all"]["n"] == len(val)
    assert buckets["2"]["n"] == sum(1 for e in val if "More" in e.text)
    assert "by number of sentences" in format_table(list(rows.values()))


def test_binary_rows_and_unmet_needs_read_the_tag_records(evaluator: Evaluator) -> None:
    evaluator._product = FakeProduct()
    rows = {r.task: r for r in evaluator.binary()}
    complaint, need, unmet = rows["complaint"], rows["need"], rows["unmet_need"]
    # the records flag 'awful' only (half the complaints); the head flags 'bad', the other half
    val = ds.split(fake_data()["complaints"], "val")
    gold = [e.label == "complaint" for e in val]
    assert complaint.scores["model"] == pytest.approx(binary_f1(gold, ["awful" in e.text for e in val]))
    assert complaint.scores["head"] == pytest.approx(binary_f1(gold, ["bad" in e.text for e in val]))
    assert need.scores["model"] == pytest.approx(1.0)  # a sentence's need score over the threshold
    assert unmet.scores["model"] == pytest.approx(1.0) and unmet.detail["precision"] == 1.0
    assert unmet.detail["recall"] == 1.0 and unmet.detail["positives"] > 0
    assert rows["request_kind"].scores["model"] is None  # the tag path gives no request kind
    assert complaint.detail["by_sentences"][-1]["sentences"] == "all"


def test_text_vectors_are_cached_per_text_across_rows(tmp_path: Path) -> None:
    enc = FakeEncoder("k@1")
    cache = TextVectorCache(tmp_path, enc.key)
    first = cache.vectors(["a", "b", "a"], enc.encode)
    again = TextVectorCache(tmp_path, enc.key).vectors(["b", "c"], enc.encode)
    assert enc.calls == 3 and np.allclose(first[1], again[0]) and np.allclose(first[0], first[2])
