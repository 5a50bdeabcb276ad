"""Load stored comments and their comment-level tags into a pandas DataFrame.

The figures of every report are computed from this frame (from the store,
never from a job's memory), so any report can be rebuilt later.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from ..storage import Store
from ..storage import schema as t

COLUMNS = ["id", "text", "created_at", "source", "channel", "rating", "rating_scale", "sentiment",
           "sentiment_score"]


def comment_frame(store: Store, since: datetime | None = None, until: datetime | None = None) -> pd.DataFrame:
    """One row per stored comment with its comment-level sentiment (NaN when not analysed).

    ``since``/``until`` bound ``created_at`` (half-open); comments without a date are
    kept only when no bounds are given.
    """
    senti = (sa.select(t.annotations.c.comment_id, t.annotations.c.label, t.annotations.c.score)
             .where(t.annotations.c.layer == "sentiment", t.annotations.c.sentence_idx.is_(None))
             .subquery())
    query = (sa.select(t.comments.c.id, t.comments.c.text, t.comments.c.created_at, t.comments.c.source,
                       t.comments.c.channel, t.comments.c.rating, t.comments.c.rating_scale,
                       senti.c.label.label("sentiment"), senti.c.score.label("sentiment_score"))
             .outerjoin(senti, senti.c.comment_id == t.comments.c.id)
             .order_by(t.comments.c.id))
    if since is not None:
        query = query.where(t.comments.c.created_at >= since)
    if until is not None:
        query = query.where(t.comments.c.created_at < until)
    frame = pd.DataFrame(store.query(query), columns=COLUMNS)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame
