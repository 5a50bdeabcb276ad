"""Full-text search over comments: an FTS5 index kept in step by triggers (SQLite), a GIN
index on the English tsvector of the text (PostgreSQL).

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SQLITE = [
    "CREATE VIRTUAL TABLE comments_fts USING fts5(text, content='comments', content_rowid='rowid', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER comments_fts_ai AFTER INSERT ON comments BEGIN "
    "INSERT INTO comments_fts(rowid, text) VALUES (new.rowid, new.text); END",
    "CREATE TRIGGER comments_fts_ad AFTER DELETE ON comments BEGIN "
    "INSERT INTO comments_fts(comments_fts, rowid, text) VALUES ('delete', old.rowid, old.text); END",
    "CREATE TRIGGER comments_fts_au AFTER UPDATE OF text ON comments BEGIN "
    "INSERT INTO comments_fts(comments_fts, rowid, text) VALUES ('delete', old.rowid, old.text); "
    "INSERT INTO comments_fts(rowid, text) VALUES (new.rowid, new.text); END",
    "INSERT INTO comments_fts(comments_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE:
            op.execute(statement)
    else:
        op.execute("CREATE INDEX ix_comments_fts ON comments USING gin (to_tsvector('english', text))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("comments_fts_ai", "comments_fts_ad", "comments_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS comments_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_comments_fts")
