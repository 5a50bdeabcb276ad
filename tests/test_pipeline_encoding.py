"""The default pipeline's encoder work (issue 16.5): each distinct text is encoded once per run, and the
zero-shot themes' taxonomy texts are encoded once per process and, with a store, once per store.

Counts, not timings: the encoders are wrapped to record the texts they are given."""

from collections import Counter
from typing import Any

import pytest

from voiceminer.config import DEFAULT_PIPELINE
from voiceminer.pipeline import Pipeline, StageContext
from voiceminer.pipeline.encode import context_shared, whole_text
from voiceminer.pipeline.themes import clear_fitted, taxonomy_vector_key
from voiceminer.storage import Store
from voiceminer.storage.vectors import VectorCache
from voiceminer.types import Comment

pytestmark = pytest.mark.models

TEXTS = ["Delivery was late again. The box was soaked.",
         "Delivery was late again. Support never answered.",  # a sentence shared with the first comment
         "Delivery was late again.",  # one sentence: no whole-text pass
         "Delivery was late again. The box was soaked.",  # the first comment's text, again
         "Love the app."]


def _comments() -> list[Comment]:
    return [Comment(id=f"c{i}", text=t, source="t") for i, t in enumerate(TEXTS)]


@pytest.fixture()
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, Counter]:
    """Texts given to the shared encoder (``main``) and its sentiment companion (``companion``)."""
    shared = context_shared(StageContext())
    seen: dict[str, Counter] = {"main": Counter(), "companion": Counter()}

    def counting(name: str, encoder: Any) -> None:
        real = encoder.encode

        def encode(texts: Any, **kw: Any) -> Any:
            seen[name].update(texts)
            return real(texts, **kw)

        monkeypatch.setattr(encoder, "encode", encode)

    counting("main", shared.encoder_)
    if shared.companion_ is not None:
        counting("companion", shared.companion_.encoder_)
    return seen


def test_each_distinct_text_is_encoded_once_per_run(calls: dict[str, Counter]) -> None:
    pipeline = Pipeline.from_names(DEFAULT_PIPELINE)
    calls["main"].clear()
    calls["companion"].clear()  # the build's own encoding (the taxonomy) is counted in the next test
    done = pipeline.run(_comments())
    wanted = {s.text for a in done for s in a.sentences} | {w for a in done if (w := whole_text(a))}
    assert len(wanted) == 6  # four distinct sentences, two distinct multi-sentence comments
    assert set(calls["main"]) == wanted and set(calls["main"].values()) == {1}
    if context_shared(StageContext()).companion_ is not None:
        assert set(calls["companion"]) == wanted and set(calls["companion"].values()) == {1}


def test_the_taxonomy_is_encoded_once_per_process_and_once_per_store(calls: dict[str, Counter]) -> None:
    store = Store.open("sqlite://")
    context = StageContext(vector_cache=lambda key: VectorCache(store, key))
    clear_fitted()
    first = Pipeline.from_names(DEFAULT_PIPELINE, context)
    taxonomy_texts = set(calls["main"])
    assert len(taxonomy_texts) > 100  # descriptions, examples and generic sentences of the default taxonomy
    assert not calls["companion"]  # the companion reads comments only
    encoder = context_shared(StageContext()).encoder_
    cached = VectorCache(store, taxonomy_vector_key(encoder.vector_key)).count()
    assert cached == len(calls["main"])  # each distinct taxonomy text, apart from sentence vectors
    assert VectorCache(store, encoder.vector_key).count() == 0

    calls["main"].clear()
    Pipeline.from_names(DEFAULT_PIPELINE, context)  # the same process: the fitted model is reused
    assert not calls["main"]
    clear_fitted()  # as a new process on the same store: the vectors come from the store
    again = Pipeline.from_names(DEFAULT_PIPELINE, context)
    assert not calls["main"]

    clear_fitted()
    fresh = Pipeline.from_names(DEFAULT_PIPELINE)  # no store: encoded again, and the same themes
    assert set(calls["main"]) == taxonomy_texts
    themes = [[(x.sentence_index, x.label, x.score, x.data["cause"]) for x in a.layer("theme")]
              for a in first.run(_comments())]
    assert themes == [[(x.sentence_index, x.label, x.score, x.data["cause"]) for x in a.layer("theme")]
                      for a in again.run(_comments())]
    assert themes == [[(x.sentence_index, x.label, x.score, x.data["cause"]) for x in a.layer("theme")]
                      for a in fresh.run(_comments())]
