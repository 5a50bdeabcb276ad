"""Triage service under load: the queue's sort order and a comment's customer are indexed; web
sessions and failed logins live in the store (so logout ends a session on the server and the login
limit holds across worker processes).

- ``ix_cases_queue``: the queue's order (priority rank, due time, id) as an expression index, so a
  page of the queue reads its rows in order instead of sorting every case.
- ``ix_comments_customer``: the customer a comment belongs to (the first non-empty metadata key of
  customer_id, customer, user_id, account_id, email, as ``key=value``) with its date, so the case
  page finds the customer's other comments without scanning every comment.
- PostgreSQL only: ``comments.search_vector``, the English tsvector of the text as a stored generated
  column, with its GIN index ``ix_comments_search`` in place of 0004's expression index: search ranks
  matches with ts_rank, which otherwise parses every matching text again (200 ms for a common word
  in 100,000 comments).
- ``web_sessions``: one row per signed-in browser (the sha256 of the session id); logout deletes it.
- ``login_failures``: failed logins per (name, client address) with their time, read by the login limit.

The expressions must stay the same text as the queries in voiceminer/triage (cases._RANK,
detail.customer_key): tests/test_triage.py checks that the query plans use these indexes.
(The PostgreSQL search column was added to this revision before any release of it; a PostgreSQL test
database migrated to 0006 earlier than that is to be dropped.)

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTCDateTime = sa.DateTime(timezone=True)
CUSTOMER_KEYS = ("customer_id", "customer", "user_id", "account_id", "email")
RANK = "(CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END)"


def customer_sql(dialect: str, table: str = "") -> str:
    meta = f"{table}.meta" if table else "meta"
    whens = []
    for key in CUSTOMER_KEYS:
        value = f"json_extract({meta}, '$.{key}')" if dialect == "sqlite" else f"({meta} ->> '{key}')"
        whens.append(f"WHEN {value} <> '' THEN '{key}=' || {value}")
    return "(CASE " + " ".join(whens) + " END)"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute(f"CREATE INDEX ix_cases_queue ON cases ({RANK}, due_at, id)")
    op.execute(f"CREATE INDEX ix_comments_customer ON comments ({customer_sql(dialect)}, created_at)")
    if dialect == "postgresql":
        op.execute("ALTER TABLE comments ADD COLUMN search_vector tsvector "
                   "GENERATED ALWAYS AS (to_tsvector('english', text)) STORED")
        op.execute("CREATE INDEX ix_comments_search ON comments USING gin (search_vector)")
        op.execute("DROP INDEX IF EXISTS ix_comments_fts")
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),  # sha256 of the session id in the cookie
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),  # casefolded
        sa.Column("address", sa.String(100), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_login_failures_key", "login_failures", ["name", "address", "at"])
    op.create_index("ix_login_failures_at", "login_failures", ["at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_at", table_name="login_failures")
    op.drop_index("ix_login_failures_key", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_index("ix_web_sessions_user_id", table_name="web_sessions")
    op.drop_table("web_sessions")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX IF NOT EXISTS ix_comments_fts ON comments USING gin (to_tsvector('english', text))")
        op.execute("DROP INDEX IF EXISTS ix_comments_search")
        op.execute("ALTER TABLE comments DROP COLUMN IF EXISTS search_vector")
    op.execute("DROP INDEX IF EXISTS ix_comments_customer")
    op.execute("DROP INDEX IF EXISTS ix_cases_queue")
