"""Triage: users, teams, API tokens, cases with their audit log, and triagers' corrections (labels).

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTCDateTime = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("role IN ('viewer', 'triager', 'admin')", name="ck_users_role"),
    )

    op.create_table(
        "teams",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("lead_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("next_member", sa.Integer, nullable=False, default=0),  # round-robin position
    )

    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    )

    op.create_table(
        "api_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 of the token; the token is shown once
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.String(100), nullable=False, default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_used_at", UTCDateTime),
    )

    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("comment_id", sa.String(200), sa.ForeignKey("comments.id", ondelete="CASCADE"),
                  nullable=False, unique=True),  # one case per comment, however often the job reruns
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("priority_score", sa.Float, nullable=False, default=0.0),
        sa.Column("reasons", sa.JSON, nullable=False, default=list),
        sa.Column("theme", sa.String(200)),  # the model's theme and cause when the case opened ...
        sa.Column("cause", sa.String(200)),
        sa.Column("root_theme", sa.String(200)),  # ... and the root cause confirmed on resolving
        sa.Column("root_cause", sa.String(200)),
        sa.Column("action", sa.Text),
        sa.Column("reply", sa.Text),
        sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id")),
        sa.Column("assignee_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("escalated_to", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("escalated_at", UTCDateTime),
        sa.Column("opened_at", UTCDateTime, nullable=False, index=True),
        sa.Column("due_at", UTCDateTime, nullable=False, index=True),
        sa.Column("resolved_at", UTCDateTime),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, default=1),  # optimistic concurrency
        sa.CheckConstraint("status IN ('new', 'acknowledged', 'in_progress', 'waiting', 'resolved', "
                           "'not_actionable', 'duplicate')", name="ck_cases_status"),
    )

    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id")),  # None: the system (job, SLA timer)
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("old", sa.Text),
        sa.Column("new", sa.Text),
    )

    op.create_table(
        "labels",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("comment_id", sa.String(200), sa.ForeignKey("comments.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),  # theme | cause | sentiment | need
        sa.Column("old", sa.String(200)),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id")),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="SET NULL")),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.CheckConstraint("kind IN ('theme', 'cause', 'sentiment', 'need')", name="ck_labels_kind"),
    )


def downgrade() -> None:
    for name in ("labels", "case_events", "cases", "api_tokens", "team_members", "teams", "users"):
        op.drop_table(name)
