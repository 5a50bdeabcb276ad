"""Comment-level decisions, need kinds, need scores and need statements, with stand-in models
(no encoder is loaded): each test fails if the rule it names breaks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from voiceminer.flags import implicit_statement, need_statement
from voiceminer.pipeline import Analysed, heads
from voiceminer.pipeline.encode import SharedEncodeStage
from voiceminer.pipeline.segment import SentencizerStage
from voiceminer.tagging import record
from voiceminer.types import Comment


class FakeModel:
    """A 'model' whose vectors are the heads' outputs: columns 0-2 sentiment probabilities,
    3 P(complaint), 4 P(need). Texts map to vectors through ``table``."""

    companion_ = None
    version = "0"

    def __init__(self, table: dict[str, Sequence[float]]) -> None:
        self.table = table
        self.encoded: list[str] = []
        self.thresholds = {"complaint": 0.5, "need": 0.3}

        class Enc:
            key, dim = "fake@1", 5

        self.encoder_ = Enc()
        self.heads_ = type("H", (), {"labels": {"sentiment": ["negative", "neutral", "positive"],
                                                "complaint": ["no", "yes"], "need": ["no", "yes"]}})()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded += list(texts)
        return np.array([self.table[t] for t in texts], np.float32)

    def sentiment(self, vectors: np.ndarray, other: Any = None) -> np.ndarray:
        return np.asarray(vectors)[:, :3]

    def predict(self, vectors: np.ndarray, tasks: Sequence[str] = ()) -> dict[str, np.ndarray]:
        v = np.asarray(vectors)
        return {"complaint": np.stack([1 - v[:, 3], v[:, 3]], 1), "need": np.stack([1 - v[:, 4], v[:, 4]], 1)}


def analyse(text: str, table: dict[str, Sequence[float]]) -> tuple[Analysed, FakeModel]:
    """Segment ``text`` and encode it with the stand-in model, as the pipeline does."""
    model = FakeModel(table)
    enc = SharedEncodeStage()
    enc.model_ = model
    seg = SentencizerStage().load()
    a = seg([Analysed(Comment(id="c", text=text, source="t"))])[0]
    return enc([a])[0], model


def stage(cls: type, model: FakeModel) -> Any:
    st = cls()
    st.model_ = model
    st.version = "test"
    if cls is heads.NeedsStage:
        st.kind_ = None
    return st


# "Thanks for nothing." reads negative, the long second sentence positive: the length-weighted mean
# of the sentences says positive, the head on the whole text (what it was trained on) says negative.
THANKS = "Thanks for nothing. Great job on the new app, really, well done everyone involved."
TABLE = {"Thanks for nothing.": [0.80, 0.10, 0.10, 0.70, 0.0],
         "Great job on the new app, really, well done everyone involved.": [0.05, 0.05, 0.90, 0.10, 0.0],
         THANKS: [0.90, 0.05, 0.05, 0.95, 0.0]}


def test_a_multi_sentence_comment_is_encoded_whole_and_a_single_one_is_not() -> None:
    a, model = analyse(THANKS, TABLE)
    assert len(a.sentences) == 2 and a.whole is not None
    assert np.allclose(a.whole, TABLE[THANKS]) and THANKS in model.encoded
    one, model = analyse("Thanks for nothing.", TABLE)
    assert one.whole is None and model.encoded == ["Thanks for nothing."]


@pytest.mark.parametrize("cls", [heads.SharedSentimentStage, heads.SarcasmAwareSentimentStage])
def test_comment_sentiment_reads_the_whole_text_where_the_mean_of_sentences_is_wrong(cls: type) -> None:
    a, model = analyse(THANKS, TABLE)
    out = stage(cls, model)([a])[0]
    sentences = [x for x in out.layer("sentiment") if x.sentence_index is not None]
    comment = next(x for x in out.layer("sentiment") if x.sentence_index is None)
    assert [x.label for x in sentences] == ["negative", "positive"]
    lengths = np.array([len(s.text) for s in a.sentences], float)
    mean = (np.array([TABLE[s.text][:3] for s in a.sentences]) * lengths[:, None]).sum(0) / lengths.sum()
    assert mean.argmax() == 2, "the case must be one where the mean of the sentences is wrong"
    assert comment.label == "negative" and comment.score < 0
    expected = heads.WHOLE_SENTIMENT * np.array(TABLE[THANKS][:3]) + (1 - heads.WHOLE_SENTIMENT) * mean
    assert comment.data["probs"] == pytest.approx(expected.tolist(), abs=1e-3)
    assert comment.data["whole"] == pytest.approx(TABLE[THANKS][:3], abs=1e-3)


def test_single_sentence_comment_keeps_its_sentence_scores() -> None:
    a, model = analyse("Thanks for nothing.", TABLE)
    out = stage(heads.SharedSentimentStage, model)([a])[0]
    sent, comment = out.layer("sentiment")
    assert comment.sentence_index is None and comment.data["probs"] == sent.data["probs"]
    assert "whole" not in comment.data


def test_comment_complaint_blends_the_whole_text_with_the_most_complaining_sentence() -> None:
    a, model = analyse(THANKS, TABLE)
    a = stage(heads.SharedSentimentStage, model)([a])[0]
    out = stage(heads.ComplaintStage, model)([a])[0]
    comment = next(x for x in out.layer("complaint") if x.sentence_index is None)
    expected = heads.WHOLE_COMPLAINT * 0.95 + (1 - heads.WHOLE_COMPLAINT) * 0.70
    assert comment.score == pytest.approx(expected, abs=1e-3)
    assert comment.data["whole"] == pytest.approx(0.95) and comment.data["sentences"] == pytest.approx(0.70)


def test_need_kinds_and_every_sentence_need_score_in_the_tag_record() -> None:
    text = ("I wish I could pick a delivery slot. We finally installed it and the straps are impossible to "
            "tighten. The driver was lovely.")
    table = {"I wish I could pick a delivery slot.": [0.3, 0.6, 0.1, 0.1, 0.9],
             "We finally installed it and the straps are impossible to tighten.": [0.6, 0.3, 0.1, 0.5, 0.95],
             "The driver was lovely.": [0.02, 0.03, 0.95, 0.0, 0.6],
             text: [0.4, 0.3, 0.3, 0.4, 0.8]}
    a, model = analyse(text, table)
    a = stage(heads.SharedSentimentStage, model)([a])[0]
    out = stage(heads.NeedsStage, model)([a])[0]
    rec = record(out)
    assert [(n["text"], n["kind"]) for n in rec["needs"]] == [
        ("pick a delivery slot", "explicit"), ("make the straps easier to tighten", "implicit")]
    assert [s["need_score"] for s in rec["sentences"]] == pytest.approx([0.9, 0.95, 0.6])
    assert rec["sentences"][1]["need"]["kind"] == "implicit" and rec["sentences"][2]["need"] is None


def test_need_statements_read_as_needs() -> None:
    assert need_statement("We finally installed it and the straps are impossible to tighten") == \
        "make the straps easier to tighten"
    assert need_statement("I wish you installed ramps at the entrance") == "install ramps at the entrance"
    assert "instal " not in need_statement("If only they installed it for us") + " "
    assert implicit_statement("The portions are way too small.") == "make the portions bigger"
    assert implicit_statement("Another update and still no iphone 6 support.") == "add iphone 6 support"
    assert implicit_statement("I can't believe how good this is.") is None
    assert implicit_statement("The only thing I didn't like was that there wasn't a strap to carry it.") == \
        "add strap to carry it"
    assert need_statement("Only wish: choosing the delivery day and time myself.") == \
        "choose the delivery day and time myself"
    # a first-person state has no "make X ..." reading: the customer's words stand (was "make I at work ...")
    assert not need_statement("I'm at work until 6 so daytime-only delivery is useless.").startswith("make I")


def test_an_implicit_need_states_a_lack_or_an_obstacle() -> None:
    assert heads.unmet_need("We ordered it twice last week and got the wrong size.", 0.95, 0.3, False) is None
    # without a cue, a sentence stating no lack or obstacle is a report, not a need (demo: "cover in mud, ...")
    assert heads.unmet_need("Veg was covered in mud, took ages to clean.", 0.95, 0.3, False) is None
    assert heads.unmet_need("The salad leaves arrive slimy and the bread is stale.", 0.95, 0.3, False) is None
    assert heads.unmet_need("No notification when the order was on its way.", 0.95, 0.3, False) == \
        ("add notification when the order was on its way", ())
    # a cue is enough on its own (the need head's score aside)
    assert heads.unmet_need("But wish it had push notifications.", 0.1, 0.3, False)[0] == "add push notifications"
    found = heads.unmet_need("We finally installed it and the straps are impossible to tighten", 0.95, 0.3, False)
    assert found == ("make the straps easier to tighten", ())


def test_a_comment_too_long_for_the_encoder_keeps_its_sentences_aggregate() -> None:
    from voiceminer.pipeline.encode import WHOLE_MAX_CHARS

    first, second = "The delivery was late again. ", "The soup was " + "very " * (WHOLE_MAX_CHARS // 5) + "cold."
    text = first + second
    a, model = analyse(text, {first.strip(): [0.8, 0.1, 0.1, 0.9, 0.0], second: [0.7, 0.2, 0.1, 0.8, 0.0]})
    assert len(a.sentences) == 2 and a.whole is None and text not in model.encoded
    comment = next(x for x in stage(heads.SharedSentimentStage, model)([a])[0].layer("sentiment")
                   if x.sentence_index is None)
    assert "whole" not in comment.data and comment.label == "negative"
