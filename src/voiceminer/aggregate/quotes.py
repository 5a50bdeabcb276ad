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


def representative(rows: pd.DataFrame, vectors: dict[str, np.ndarray], n: int) -> pd.DataFrame:
    """Up to ``n`` rows, one per comment, ordered by closeness to the mean of the rows' vectors
    (cosine); rows without vectors fall back to the highest ``score``. Deterministic."""
    if rows.empty:
        return rows
    rows = rows.sort_values(["comment_id"] + (["sentence_idx"] if "sentence_idx" in rows else []))
    have = rows["text_hash"].map(lambda h: isinstance(h, str) and h in vectors)
    if have.all() and len(rows) > 1:
        X = np.vstack([vectors[h] for h in rows["text_hash"]]).astype(np.float64)
        X /= np.linalg.norm(X, axis=1, keepdims=True).clip(1e-9)
        centre = X.mean(0)
        rows = rows.iloc[np.argsort(-(X @ centre), kind="stable")]
    elif "score" in rows:
        rows = rows.sort_values(["score", "comment_id"], ascending=[False, True], kind="stable")
    return rows.drop_duplicates("comment_id").head(n)
