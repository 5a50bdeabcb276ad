"""The relational schema (SQLAlchemy Core). Changes go through Alembic migrations.

Tables:
- ``runs``: one row per job run (ingest, mine, analyse), with its counts.
- ``comments``: one row per unique comment (id = source id or content hash).
- ``ingest_ledger``: one row per input row of every run: stored, duplicate or rejected (+ reason).
- ``sentences``: sentences/clauses of the latest analysis of each comment, with spans.
- ``annotations``: tags with evidence span, score and producer (stage name + version).
- ``analyses``: which pipeline last analysed each comment (so reruns skip finished work).
- ``encodings``: sentence vectors by (encoder key, text hash): the encoder runs once per unique sentence.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

UTCDateTime = sa.DateTime(timezone=True)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("params", sa.JSON, nullable=False, default=dict),
    sa.Column("counts", sa.JSON, nullable=False, default=dict),
    sa.Column("error", sa.Text),
)

comments = sa.Table(
    "comments", metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("text_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, index=True),
    sa.Column("source", sa.String(100), nullable=False, index=True),
    sa.Column("channel", sa.String(50), index=True),
    sa.Column("rating", sa.Float),
    sa.Column("rating_scale", sa.Float),
    sa.Column("language", sa.String(20)),
    sa.Column("meta", sa.JSON, nullable=False, default=dict),
    sa.Column("source_file", sa.Text),
    sa.Column("source_line", sa.Integer),
    sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("ingested_at", UTCDateTime, nullable=False),
)

ingest_ledger = sa.Table(
    "ingest_ledger", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id"), nullable=False, index=True),
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(12), nullable=False),  # stored | duplicate | rejected
    sa.Column("comment_id", sa.String(200)),
    sa.Column("field", sa.String(200)),
    sa.Column("reason", sa.Text),
    sa.CheckConstraint("outcome IN ('stored', 'duplicate', 'rejected')", name="ck_ledger_outcome"),
)

sentences = sa.Table(
    "sentences", metadata,
    sa.Column("comment_id", sa.String(200), sa.ForeignKey("comments.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True),
    sa.Column("start", sa.Integer, nullable=False),
    sa.Column("end", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(12), nullable=False),
    sa.Column("text_hash", sa.String(64), nullable=False, index=True),
)

annotations = sa.Table(
    "annotations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("comment_id", sa.String(200), sa.ForeignKey("comments.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("sentence_idx", sa.Integer),
    sa.Column("layer", sa.String(40), nullable=False, index=True),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("span_start", sa.Integer),
    sa.Column("span_end", sa.Integer),
    sa.Column("producer", sa.String(100), nullable=False),
    sa.Column("producer_version", sa.String(40), nullable=False),
    sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("data", sa.JSON, nullable=False, default=dict),
)

analyses = sa.Table(
    "analyses", metadata,
    sa.Column("comment_id", sa.String(200), sa.ForeignKey("comments.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("pipeline", sa.String(64), nullable=False, index=True),
    sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id"), nullable=False),
    sa.Column("analysed_at", UTCDateTime, nullable=False),
)

encodings = sa.Table(
    "encodings", metadata,
    sa.Column("encoder", sa.String(80), primary_key=True),
    sa.Column("text_hash", sa.String(64), primary_key=True),
    sa.Column("vector", sa.LargeBinary, nullable=False),
)
