"""The relational schema (SQLAlchemy Core). Changes go through Alembic migrations.

Tables:
- ``runs``: one row per job run (ingest, mine, analyse), with its counts.
- ``comments``: one row per unique comment (id = source id or content hash).
- ``ingest_ledger``: one row per input row of every run: stored, duplicate or rejected (+ reason).
- ``sentences``: sentences/clauses of the latest analysis of each comment, with spans.
- ``annotations``: tags with evidence span, score and producer (stage name + version).
- ``analyses``: which pipeline last analysed each comment (so reruns skip finished work).
- ``encodings``: sentence vectors by (encoder key, text hash): the encoder runs once per unique sentence.
- ``users``, ``teams``, ``team_members``, ``api_tokens``: who may use the triage service.
- ``cases``: one per flagged comment, with workflow status, assignee, SLA due time and root cause;
  ``case_events``: the audit log (who, when, field, from, to); ``labels``: triagers' corrections.
- ``work_units`` (+ ``work_unit_comments``): batches of comment ids that an analysis worker claims with a
  lease (pending -> claimed -> done; a dead worker's claim returns to the pool), for the Dask engine.
- ``pipeline_keys``: the pipeline key last built for a fingerprint of its inputs (code, models, settings),
  so a run with nothing pending knows its key without loading a model.
- ``web_sessions``: signed-in browsers of the triage service (logout deletes the row);
  ``login_failures``: failed logins per (name, address), read by the login limit of every worker.
  Migration 0006 also adds two expression indexes that live outside this metadata: the queue's order
  (``ix_cases_queue``) and a comment's customer (``ix_comments_customer``).
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

# -- triage (issue 15): users, teams, cases with their history, and triagers' corrections --------
users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("role", sa.String(12), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("role IN ('viewer', 'triager', 'admin')", name="ck_users_role"),
)

teams = sa.Table(
    "teams", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False, unique=True),
    sa.Column("lead_id", sa.Integer, sa.ForeignKey("users.id")),
    sa.Column("next_member", sa.Integer, nullable=False, default=0),  # round-robin position
)

team_members = sa.Table(
    "team_members", metadata,
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 of the token; the token is shown once
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("label", sa.String(100), nullable=False, default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("last_used_at", UTCDateTime),
)

cases = sa.Table(
    "cases", metadata,
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

case_events = sa.Table(
    "case_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id")),  # None: the system (job, SLA timer)
    sa.Column("field", sa.String(40), nullable=False),
    sa.Column("old", sa.Text),
    sa.Column("new", sa.Text),
)

labels = sa.Table(
    "labels", metadata,
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

# -- distributed analysis (issue 16): claimable work units, remembered pipeline keys ----------------
work_units = sa.Table(
    "work_units", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pipeline", sa.String(64), nullable=False),
    sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.id"), nullable=False),  # the run that planned it
    sa.Column("status", sa.String(10), nullable=False),  # pending | claimed | done
    sa.Column("worker", sa.String(200)),  # who holds (or finished) it
    sa.Column("lease_until", UTCDateTime),  # a claim past this time may be taken by another worker
    sa.Column("attempts", sa.Integer, nullable=False, default=0),  # claims so far
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("done_at", UTCDateTime),
    sa.CheckConstraint("status IN ('pending', 'claimed', 'done')", name="ck_work_units_status"),
    sa.Index("ix_work_units_pipeline_status", "pipeline", "status"),
)

work_unit_comments = sa.Table(
    "work_unit_comments", metadata,
    sa.Column("unit_id", sa.Integer, sa.ForeignKey("work_units.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("comment_id", sa.String(200), sa.ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True,
              index=True),
)

pipeline_keys = sa.Table(
    "pipeline_keys", metadata,
    sa.Column("fingerprint", sa.String(64), primary_key=True),
    sa.Column("pipeline", sa.String(64), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# -- the triage service (migration 0006): server-side sessions and the login limit's failures -------
web_sessions = sa.Table(
    "web_sessions", metadata,
    sa.Column("id_hash", sa.String(64), primary_key=True),  # sha256 of the session id in the cookie
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False, index=True),
)

login_failures = sa.Table(
    "login_failures", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False),  # casefolded
    sa.Column("address", sa.String(100), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False, index=True),
    sa.Index("ix_login_failures_key", "name", "address", "at"),
)


def layer_in(annotations: sa.Table, *layers: str) -> sa.ColumnElement[bool]:
    """``annotations.layer IN layers`` written so that no index on the layer can serve it (``layer ||
    ''``): the rows are then found by their comment id. SQLite, without statistics, otherwise picks the
    layer's index for a join or for a batch of a few hundred ids, and scans the whole layer each time."""
    return annotations.c.layer.concat("").in_(layers)
