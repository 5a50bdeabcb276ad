"""Claimable work units for distributed analysis (a batch of comment ids claimed with a lease),
and the pipeline keys remembered by the fingerprint of their inputs.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTCDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "work_units",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("worker", sa.String(200)),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("done_at", UTCDateTime),
        sa.CheckConstraint("status IN ('pending', 'claimed', 'done')", name="ck_work_units_status"),
    )
    op.create_index("ix_work_units_pipeline_status", "work_units", ["pipeline", "status"])
    op.create_table(
        "work_unit_comments",
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("work_units.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("comment_id", sa.String(200), sa.ForeignKey("comments.id", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_index("ix_work_unit_comments_comment_id", "work_unit_comments", ["comment_id"])
    op.create_table(
        "pipeline_keys",
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("pipeline", sa.String(64), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pipeline_keys")
    op.drop_index("ix_work_unit_comments_comment_id", table_name="work_unit_comments")
    op.drop_table("work_unit_comments")
    op.drop_index("ix_work_units_pipeline_status", table_name="work_units")
    op.drop_table("work_units")
