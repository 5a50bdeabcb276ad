"""The store on SQLite and on the real PostgreSQL server."""

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from voiceminer.errors import StoreError
from voiceminer.storage import AnalysisResult, Store
from voiceminer.storage import schema as t
from voiceminer.types import Annotation, Comment, Reject, Sentence

WHEN = datetime(2026, 9, 28, 9, 30, tzinfo=timezone.utc)


def comment(i: int, text: str = "Late again.") -> Comment:
    return Comment(id=f"src:{i}", text=f"{text} #{i}", source="src", created_at=WHEN, channel="review",
                   rating=2.0, rating_scale=5.0, metadata={"product": "kit", "n": i},
                   source_file="in.csv", source_line=i + 1)


def test_migrations_match_the_schema(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    store = Store.open(db_url)
    assert store.schema_revision() == "0006"
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), t.metadata)
    # the full-text index (FTS5 tables on SQLite; on PostgreSQL the generated search_vector column with
    # its GIN index) and the expression indexes of migration 0006 (the queue's order, a comment's
    # customer) live outside the metadata
    outside = ("comments_fts", "search_vector", "ix_comments_search", "ix_cases_queue", "ix_comments_customer")
    assert [d for d in diff if not any(name in repr(d) for name in outside)] == []
    Store.open(db_url)  # migrating again is a no-op


def test_ingest_counts_and_ledger(db_url: str) -> None:
    store = Store.open(db_url)
    run = store.begin_run("ingest", {})
    items = [comment(1), comment(2), Reject("in.csv", 4, "empty text", field="text"), comment(1)]
    counts = store.ingest_batch(run, items)
    assert counts.as_dict() == {"rows": 4, "stored": 2, "duplicate": 1, "rejected": 1}
    assert store.ledger_counts(run) == {"stored": 2, "duplicate": 1, "rejected": 1}
    assert store.rejects(run)[0]["field"] == "text" and store.rejects(run)[0]["line"] == 4
    stored = list(store.iter_comments())
    assert [c.id for c in stored] == ["src:1", "src:2"]
    assert stored[0].created_at == WHEN and stored[0].metadata == {"product": "kit", "n": 1}


def test_same_batch_twice_stores_nothing_new(db_url: str) -> None:
    store = Store.open(db_url)
    batch = [comment(i) for i in range(5)]
    store.ingest_batch(store.begin_run("ingest", {}), batch)
    again = store.ingest_batch(store.begin_run("ingest", {}), batch + [comment(3, "Changed text")])
    assert again.as_dict() == {"rows": 6, "stored": 0, "duplicate": 6, "rejected": 0}
    assert store.counts()["comments"] == 5
    assert store.ledger_counts() == {"stored": 5, "duplicate": 6, "rejected": 0}
    assert store.input_rows_summary() == {"stored": 5, "duplicate": 0, "rejected": 0}


def _result(c: Comment, label: str) -> AnalysisResult:
    s = Sentence(c.id, 0, 0, len(c.text), c.text)
    a = Annotation(c.id, "sentiment", label, -0.5, "test.stage", "1", sentence_index=0, span=(0, len(c.text)))
    return AnalysisResult(c.id, (s,), (a,))


def test_analysis_is_replaced_and_pending_tracks_pipeline(db_url: str) -> None:
    store = Store.open(db_url)
    run = store.begin_run("analyse", {})
    store.ingest_batch(run, [comment(i) for i in range(7)])
    assert store.count_pending("p1") == 7
    batches = list(store.pending_comments("p1", 3))
    assert [len(b) for b in batches] == [3, 3, 1]
    store.save_analysis(run, "p1", [_result(c, "negative") for c in batches[0]])
    assert store.count_pending("p1") == 4 and store.count_pending("p2") == 7
    store.save_analysis(run, "p1", [_result(batches[0][0], "positive")])  # re-analysis replaces
    with store.engine.connect() as conn:
        labels = conn.execute(sa.select(t.annotations.c.label)
                              .where(t.annotations.c.comment_id == batches[0][0].id)).scalars().all()
        n_sent = conn.execute(sa.select(sa.func.count()).select_from(t.sentences)).scalar_one()
    assert labels == ["positive"] and n_sent == 3


def test_run_lifecycle_and_dead_runs_marked_interrupted(db_url: str) -> None:
    store = Store.open(db_url)
    run = store.begin_run("mine", {"inputs": ["x"]})
    store.finish_run(run, "completed", {"rows": 1})
    assert store.get_run(run).status == "completed" and store.get_run(run).counts == {"rows": 1}
    dead = store.begin_run("mine", {})
    with store.engine.begin() as conn:  # pretend the process that owned it died
        params = conn.execute(sa.select(t.runs.c.params).where(t.runs.c.id == dead)).scalar_one()
        conn.execute(t.runs.update().where(t.runs.c.id == dead).values(params={**params, "_pid": 2 ** 22 + 7}))
    store.begin_run("mine", {})
    assert store.get_run(dead).status == "interrupted"
    with pytest.raises(StoreError):
        store.get_run("nope")


def test_sqlite_uses_wal(tmp_path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'x.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_unreachable_database_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot open the store"):
        Store.open("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2")


def test_vector_cache_round_trip_and_idempotent_put(db_url: str) -> None:
    import numpy as np

    from voiceminer.storage.vectors import VectorCache

    store = Store.open(db_url)
    cache = VectorCache(store, "enc@1")
    vecs = {"a": np.arange(4, dtype=np.float32), "b": np.ones(4, dtype=np.float32)}
    cache.put(vecs)
    cache.put({"a": np.zeros(4, dtype=np.float32)})  # already there: kept, no error
    got = cache.get(["a", "b", "c"])
    assert set(got) == {"a", "b"} and got["a"].tolist() == [0, 1, 2, 3]
    assert VectorCache(store, "enc@2").get(["a"]) == {} and cache.count() == 2
