"""Discovery's grouping without the names (``partition``), as scripts/discovery_stability.py
measures it (issue 18, point 4): the same partition as :func:`discover`, in any input order."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from voiceminer.themes.discover import discover, partition


def _blobs(seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.eye(3, 12)
    words = ("bag lost at the belt", "seat broken in row", "refund never arrived for")
    texts, vecs = [], []
    for c, w in enumerate(words):
        for i in range(15):
            texts.append(f"{w} {i} again")
            vecs.append(centres[c] + rng.normal(0, 0.1, 12))
    return texts, np.vstack(vecs)


def test_partition_is_discovers_grouping_in_any_order():
    texts, vecs = _blobs()
    kw = dict(min_cluster_size=5, k_range=[2, 3, 4], max_unclustered=0.05, lexical_weight=0.0)
    a = partition(texts, vecs, **kw)
    d = discover(texts, vecs, **kw)
    assert [x is None for x in a] == [x is None for x in d.assignments]
    kept = [i for i, x in enumerate(a) if x is not None]
    assert adjusted_rand_score([a[i] for i in kept], [d.assignments[i] for i in kept]) == 1.0
    back = partition(texts[::-1], vecs[::-1].copy(), **kw)[::-1]
    assert adjusted_rand_score([-1 if x is None else x for x in a], [-1 if x is None else x for x in back]) == 1.0
    assert len({x for x in a if x is not None}) == 3


def test_partition_of_too_few_is_unclustered():
    texts, vecs = _blobs()
    assert partition(texts[:5], vecs[:5]) == [None] * 5


def test_evaluate_measures_discovery_on_the_validation_split_only():
    """The shared encoder learnt the train split's reasons, so evaluate's discovery NMI reads only
    validation tweets (scoring the train tweets too gave 0.451 where unseen data gave 0.31-0.36)."""
    from types import SimpleNamespace

    from voiceminer.evaluation import datasets as ds
    from voiceminer.evaluation.themes_eval import discovery_rows

    examples = [ds.Example(f"my {w} problem number {i} with the flight", w, "airline_reasons", {})
                for i in range(60) for w in ("bag", "seat")]
    val = ds.split(examples, "val")
    assert 0 < len(val) < len(examples)
    seen: list[int] = []

    def vectors(texts):
        seen.append(len(texts))
        return np.random.default_rng(0).normal(size=(len(texts), 8))

    ev = SimpleNamespace(load=lambda name: examples, shared_vectors=vectors)
    rows = discovery_rows(ev, lambda *a: SimpleNamespace(key=a[0], n=a[3]), {})
    assert seen == [len(val)]
    assert {r.n for r in rows} == {len(val)}
