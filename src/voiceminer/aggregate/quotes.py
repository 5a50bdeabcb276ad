"""Representative quotes: the rows nearest the centre of their group, not the first ones.

>>> import numpy as np, pandas as pd
>>> rows = pd.DataFrame({"comment_id": ["a", "b", "c"], "text_hash": ["h1", "h2", "h3"], "score": [.9, .8, .7]})
>>> vecs = {"h1": np.array([1.0, 0.0]), "h2": np.array([0.7, 0.7]), "h3": np.array([0.0, 1.0])}
>>> representative(rows, vecs, 1)["comment_id"].tolist()    # h2 sits between the other two
['b']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .frames import load_vectors


# Two sentences this close (cosine of their vectors) read as the same quote; the demo's "there's no
# way to reach a human quickly" and its curly-apostrophe twin sit above it, distinct requests well below.
NEAR = 0.97
MAX_DISTINCT = 10  # quotes are picked for distinctness up to this many; the rest keep their order


def representative(rows: pd.DataFrame, vectors: dict[str, np.ndarray], n: int) -> pd.DataFrame:
    """Up to ``n`` rows, one per comment, ordered by closeness to the mean of the rows' vectors
    (cosine); rows without vectors fall back to the highest ``score``. Deterministic.

    A sentence that repeats one already quoted from another comment (the same ``text_hash``, or a
    vector within cosine ``NEAR`` of it: customers and templates repeat themselves, down to a
    curly apostrophe) is passed over while distinct sentences remain, so each quote adds evidence.

    >>> rows = pd.DataFrame({"comment_id": ["a", "b", "c"], "text_hash": ["h1", "h1", "h2"], "score": [.9, .8, .7]})
    >>> representative(rows, {}, 2)["comment_id"].tolist()   # b repeats a's sentence
    ['a', 'c']
    >>> representative(rows, {}, 3)["comment_id"].tolist()   # ... and comes last when more are asked for
    ['a', 'c', 'b']
    """
    if rows.empty:
        return rows
    rows = rows.sort_values(["comment_id"] + (["sentence_idx"] if "sentence_idx" in rows else []))
    load_vectors(vectors, rows["text_hash"])
    have = rows["text_hash"].map(lambda h: isinstance(h, str) and h in vectors)
    X = None  # the rows' unit vectors, in the rows' order
    if have.all() and len(rows) > 1:
        X = np.vstack([vectors[h] for h in rows["text_hash"]]).astype(np.float64)
        X /= np.linalg.norm(X, axis=1, keepdims=True).clip(1e-9)
        order = np.argsort(-(X @ X.mean(0)), kind="stable")
        rows, X = rows.iloc[order], X[order]
    elif "score" in rows:
        rows = rows.sort_values(["score", "comment_id"], ascending=[False, True], kind="stable")
    first = ~rows["comment_id"].duplicated().to_numpy()
    rows = rows[first]
    if X is not None:
        X = X[first]
        picked: list[int] = []
        for i in range(len(rows)):  # greedy, in order: only the quotes shown need to differ
            if len(picked) >= min(n, MAX_DISTINCT):
                break
            if not picked or float((X[picked] @ X[i]).max()) < NEAR:
                picked.append(i)
        chosen = set(picked)
        rows = rows.iloc[picked + [i for i in range(len(rows)) if i not in chosen]]
    elif "text_hash" in rows and rows["text_hash"].notna().all():
        repeat = rows["text_hash"].duplicated()
        rows = pd.concat([rows[~repeat], rows[repeat]])
    return rows.head(n)
