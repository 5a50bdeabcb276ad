"""Initial schema: runs, comments, ingest ledger, sentences, annotations, analyses.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("error", sa.Text),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, index=True),
        sa.Column("source", sa.String(100), nullable=False, index=True),
        sa.Column("channel", sa.String(50), index=True),
        sa.Column("rating", sa.Float),
        sa.Column("rating_scale", sa.Float),
        sa.Column("language", sa.String(20)),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("source_file", sa.Text),
        sa.Column("source_line", sa.Integer),
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("ingested_at", TS, nullable=False),
    )
    op.create_table(
        "ingest_ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id"), nullable=False, index=True),
        sa.Column("source_file", sa.Text, nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("comment_id", sa.String(200)),
        sa.Column("field", sa.String(200)),
        sa.Column("reason", sa.Text),
        sa.CheckConstraint("outcome IN ('stored', 'duplicate', 'rejected')", name="ck_ledger_outcome"),
    )
    op.create_table(
        "sentences",
        sa.Column("comment_id", sa.String(200), sa.ForeignKey("comments.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("idx", sa.Integer, primary_key=True),
        sa.Column("start", sa.Integer, nullable=False),
        sa.Column("end", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False, index=True),
    )
    op.create_table(
        "annotations",
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
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_table(
        "analyses",
        sa.Column("comment_id", sa.String(200), sa.ForeignKey("comments.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("pipeline", sa.String(64), nullable=False, index=True),
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("analysed_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("analyses", "annotations", "sentences", "ingest_ledger", "comments", "runs"):
        op.drop_table(table)
