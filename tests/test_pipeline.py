"""Stage contracts, segmentation spans, pipeline order checks and the VADER baseline."""

from typing import ClassVar

import pytest

from voiceminer.config import DEFAULT_PIPELINE, LEXICAL_PIPELINE, LEXICON_PIPELINE
from voiceminer.errors import PipelineError
from voiceminer.pipeline import Analysed, Pipeline
from voiceminer.pipeline.segment import SentencizerStage
from voiceminer.registry import stages
from voiceminer.types import Comment

TEXTS = [
    "Delivery was late but the driver was lovely. Fine!",
    "Great, another delay 🙄\nAlthough the soup was cold, the bread was fresh and warm.",
    "",
    "ok",
    "I can't log in. The password reset email never arrives; however support fixed it in minutes.",
    "<script>alert('x')</script> =SUM(A1) — naïve café ☕",
]


def comments() -> list[Comment]:
    return [Comment(id=f"c{i}", text=t, source="t") for i, t in enumerate(TEXTS)]


# v1 of the sentiment stage stays registered (configs and stored runs name it); it is tested too.
V1_PIPELINE = tuple("sentiment.shared.v1" if n == "sentiment.shared.v2" else n for n in DEFAULT_PIPELINE)
PIPELINES = {"lexicon": LEXICON_PIPELINE, "lexical": LEXICAL_PIPELINE, "default": DEFAULT_PIPELINE,
             "sentiment-v1": V1_PIPELINE}


@pytest.fixture(scope="module", params=["lexicon", "lexical", pytest.param("default", marks=pytest.mark.models),
                                        pytest.param("sentiment-v1", marks=pytest.mark.models)])
def full_pipeline(request: pytest.FixtureRequest) -> Pipeline:
    return Pipeline.from_names(PIPELINES[request.param])


def test_segment_spans_point_into_the_comment() -> None:
    seg = SentencizerStage().load()
    for text in TEXTS:
        for s in seg.split(text, "c"):
            assert text[s.start:s.end] == s.text and s.text.strip() == s.text and s.text
    parts = seg.split(TEXTS[0])
    assert [p.text for p in parts] == ["Delivery was late", "but the driver was lovely.", "Fine!"]
    assert [p.kind for p in parts] == ["clause", "clause", "sentence"]
    assert [p.index for p in parts] == [0, 1, 2]


def test_segment_splits_lines_and_keeps_short_turns_whole() -> None:
    seg = SentencizerStage().load()
    assert [s.text for s in seg.split(TEXTS[1])] == [
        "Great, another delay 🙄", "Although the soup was cold, the bread was fresh and warm."]
    assert [s.text for s in seg.split("Good but slow")] == ["Good but slow"]


def test_segment_keeps_a_promise_with_the_turn_after_it() -> None:
    """What was promised or expected and what happened are one complaint (the gap), not two clauses; a later turn
    in the same sentence, after no such clause, still splits."""
    seg = SentencizerStage().load()
    for text in ("The delivery window said 9-10am but it came at 6pm.", "They promised a refund in 5 days but nothing came.",
                 "The app shows delivered, but there was no parcel.", "It was supposed to arrive Monday but it came Friday."):
        assert [s.text for s in seg.split(text)] == [text]
    assert [s.text for s in seg.split("The site said in stock but it was not, and the food was great but the "
                                      "service was slow.")] == [
        "The site said in stock but it was not, and the food was great", "but the service was slow."]
    for text, first in (("All I can say is the food was great but the service was slow.", "All I can say is the food was great"),
                        ("Our starters never showed up but the mains were lovely.", "Our starters never showed up")):
        assert [s.text for s in seg.split(text)] == [first, text[len(first) + 1:]]  # not a promise: it splits


def test_every_registered_stage_is_in_a_tested_pipeline() -> None:
    # stages that test modules register for themselves (tests/engine_stages.py: "test.*") are not the product's
    shipped = {name for name in stages.names() if not name.startswith("test.")}
    assert shipped == {name for names in PIPELINES.values() for name in names}


def test_stages_keep_order_valid_spans_and_are_deterministic(full_pipeline: Pipeline) -> None:
    batch = comments()
    first = full_pipeline.run(batch)
    second = full_pipeline.run(list(batch))
    assert [a.comment.id for a in first] == [c.id for c in batch]
    assert first == second
    for a in first:
        for ann in a.annotations:
            if ann.span is not None:
                assert 0 <= ann.span[0] <= ann.span[1] <= len(a.comment.text)
            assert ann.producer and ann.producer_version


def test_stages_do_not_mutate_their_input() -> None:
    stage = stages.get("segment.sentencizer.v1")().load()
    batch = [Analysed(c) for c in comments()]
    out = stage(batch)
    assert all(b.sentences == () for b in batch) and any(o.sentences for o in out)


def test_pipeline_order_is_checked_when_built() -> None:
    with pytest.raises(PipelineError, match="requires sentences"):
        Pipeline.from_names(["sentiment.vader.v1", "segment.sentencizer.v1"])
    with pytest.raises(PipelineError, match="unknown stage"):
        Pipeline.from_names(["nope.v1"])
    with pytest.raises(PipelineError, match="no stages"):
        Pipeline.from_names([])


def test_pipeline_rejects_a_stage_that_drops_comments() -> None:
    class Dropper:
        name: ClassVar[str] = "test.dropper.v1"
        version: ClassVar[str] = "1"
        requires: ClassVar[tuple[str, ...]] = ()
        produces: ClassVar[tuple[str, ...]] = ()

        def load(self):
            return self

        def __call__(self, batch):
            return list(batch)[1:]

    with pytest.raises(PipelineError, match="length or order"):
        Pipeline([Dropper()]).run(comments())


def test_key_changes_with_stage_versions() -> None:
    a = Pipeline.from_names(["segment.sentencizer.v1"])
    b = Pipeline.from_names(["segment.sentencizer.v1", "sentiment.vader.v1"])
    assert a.key != b.key and len(a.key) == 16


def test_vader_sentence_and_comment_sentiment() -> None:
    p = Pipeline.from_names(["segment.sentencizer.v1", "sentiment.vader.v1"])
    out = p.run([Comment(id="x", text="The food was not good. The staff were wonderful and kind!", source="t")])[0]
    by_sentence = {a.sentence_index: a for a in out.annotations}
    assert by_sentence[0].label == "negative" and by_sentence[1].label == "positive"
    overall = by_sentence[None]
    assert overall.span == (0, len(out.comment.text)) and -1 <= overall.score <= 1
