"""Triage domain: cases from flags, routing, SLA and escalation, workflow, conflicts, labels,
search and "you said, we did", on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from voiceminer.config import LEXICON_PIPELINE, Settings
from voiceminer.errors import ConflictError, PermissionDenied, TriageError
from voiceminer.storage import AnalysisResult, Store
from voiceminer.themes.training import read_labeled_csv
from voiceminer.triage import (CaseFilter, add_team, add_user, case_detail, correct, export_labels, get_case,
                               history, list_cases, open_cases, search_comments, update_case, you_said_we_did)
from voiceminer.types import Annotation, Comment, Sentence

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=timezone.utc)


def _settings(**kw) -> Settings:
    return Settings(database_url="sqlite://", pipeline=LEXICON_PIPELINE, **kw)


def _analysed(store: Store, cid: str, text: str, priority: str, *, cues=(), theme="delivery",
              cause="delivery.late", meta=None, language=None, rating=None, scale=None) -> None:
    run = store.begin_run("ingest", {})
    store.ingest_batch(run, [Comment(id=cid, text=text, source="t", created_at=T0 - timedelta(days=1),
                                     channel="email", metadata=meta or {}, rating=rating, rating_scale=scale)])
    end = len(text)
    anns = [Annotation(cid, "complaint", "complaint", 0.9, "complaint.shared.v1", "1", None, (0, end),
                       {"priority": priority, "priority_score": 0.7, "reasons": [f"{priority} because"]}),
            Annotation(cid, "complaint", "complaint", 0.9, "complaint.shared.v1", "1", 0, (0, end)),
            Annotation(cid, "theme", theme, 0.8, "themes.v1", "1", 0, (0, end),
                       {"label": theme.title(), "cause": cause, "cause_label": "Late", "cause_evidence": [0, 4]})]
    anns += [Annotation(cid, "cue", kind, 1.0, "complaint.shared.v1", "1", None, (0, 4), {"phrase": text[:4]})
             for kind in cues]
    if language:
        anns.append(Annotation(cid, "language", language, 0.99, "language.langid.v1", "1", None, (0, end)))
    store.save_analysis(run, "p", [AnalysisResult(cid, (Sentence(cid, 0, 0, end, text),), tuple(anns))])


@pytest.fixture
def store(db_url: str) -> Store:
    s = Store.open(db_url)
    yield s
    s.close()


def test_cases_open_once_by_the_rules(store: Store) -> None:
    _analysed(store, "c1", "Late again, third time.", "high")
    _analysed(store, "c2", "Fine I guess.", "low")
    _analysed(store, "c3", "I'm cancelling my account.", "low", cues=("churn",))
    _analysed(store, "c4", "Hurry please.", "low", cues=("urgency",))
    settings, run = _settings(), store.begin_run("analyse", {})
    assert open_cases(store, settings, run, now=T0) == 2
    assert open_cases(store, settings, run, now=T0) == 0  # rerun: never a second case
    assert open_cases(store, settings, run, now=T0, comment_ids=["c1", "c3"]) == 0
    cases, _ = list_cases(store, now=T0)
    assert sorted(c.comment_id for c in cases) == ["c1", "c3"]
    c1 = next(c for c in cases if c.comment_id == "c1")
    assert (c1.theme, c1.cause, c1.priority, c1.status) == ("delivery", "delivery.late", "high", "new")
    assert c1.due_at == T0 + timedelta(hours=4) and c1.reasons == ["high because"]
    assert "cue: churn" in next(c for c in cases if c.comment_id == "c3").reasons


def test_comments_not_in_english_go_to_a_person(store: Store) -> None:
    """The English models flagged French praise and let French, Spanish and German complaints through: a comment
    not in English opens a case for a person to read whatever they said, unless its rating says it is praise."""
    _analysed(store, "fr1", "Service client très agréable, problème réglé en cinq minutes.", "medium",
              theme="speed", cause=None, language="fr", rating=5, scale=5)  # praise, rated so: no case
    _analysed(store, "fr2", "Il manquait la moitié de ma commande et le service client ne répond pas.", "low",
              language="fr")
    _analysed(store, "de1", "Leider fehlten wieder zwei Artikel in meiner Lieferung.", "low", language="de",
              rating=1, scale=5)
    _analysed(store, "en1", "Fine I guess.", "low")
    settings = _settings(default_team="Support")
    assert open_cases(store, settings, store.begin_run("analyse", {}), now=T0) == 2
    cases = {c.comment_id: c for c in list_cases(store, now=T0)[0]}
    assert set(cases) == {"fr2", "de1"}
    fr2, de1 = cases["fr2"], cases["de1"]
    assert (fr2.priority, fr2.theme, fr2.cause, fr2.team) == ("low", None, None, "Support")
    assert fr2.reasons == ["not in English (fr): the models read English, so a person should read it"]
    assert de1.priority == "medium" and "low rating (1 of 5)" in de1.reasons
    # switched off: the models' own flag decides, as for any comment (and the French praise, flagged, opens one)
    _analysed(store, "es1", "Me faltaban dos productos del pedido y nadie me ha contestado todavía.", "high",
              language="es")
    _analysed(store, "es2", "La fruta llegó muy fresca y el repartidor fue muy amable.", "low", language="es")
    assert open_cases(store, _settings(case_other_languages=False), store.begin_run("analyse", {}), now=T0) == 2
    assert {c.comment_id for c in list_cases(store, now=T0)[0]} == {"fr1", "fr2", "de1", "es1"}


def test_routing_round_robin_and_escalation(store: Store) -> None:
    for name in ("ana", "ben", "lead"):
        add_user(store, name, "triager", "password123")
    add_team(store, "Logistics", lead="lead", members=["ana", "ben"])
    for i in range(4):
        _analysed(store, f"d{i}", f"Late delivery number {i}.", "medium")
    _analysed(store, "p1", "Too expensive now.", "high", theme="price", cause="price.increase")
    settings = _settings(routing={"delivery": "Logistics"}, default_team="Support")
    open_cases(store, settings, store.begin_run("analyse", {}), now=T0)
    cases, _ = list_cases(store, now=T0)
    delivery = sorted((c for c in cases if c.theme == "delivery"), key=lambda c: c.id)
    assert [c.assignee for c in delivery] == ["ana", "ben", "ana", "ben"]
    assert {c.team for c in delivery} == {"Logistics"}
    price = next(c for c in cases if c.theme == "price")
    assert price.team == "Support" and price.assignee is None  # the default team exists but has no members
    from voiceminer.triage import escalate_overdue

    later = T0 + timedelta(hours=30)  # medium SLA 24 h and high 4 h both passed
    assert escalate_overdue(store, settings, later) == 5
    assert escalate_overdue(store, settings, later) == 0  # once each
    again = get_case(store, delivery[0].id, later)
    assert again.overdue and again.escalated_to == "lead"
    assert any(e["field"] == "escalated" and e["to"] == "lead" for e in history(store, delivery[0].id))
    overdue, _ = list_cases(store, CaseFilter(overdue=True), now=later)
    assert len(overdue) == 5


def test_workflow_resolve_needs_root_cause_and_action(store: Store) -> None:
    _analysed(store, "c1", "Late again, third time.", "high")
    open_cases(store, _settings(), store.begin_run("analyse", {}), now=T0)
    ana = add_user(store, "ana", "triager", "password123")
    viewer = add_user(store, "val", "viewer", "password123")
    case = list_cases(store, now=T0)[0][0]
    with pytest.raises(PermissionDenied):
        update_case(store, case.id, viewer, case.version, status="acknowledged")
    case = update_case(store, case.id, ana, case.version, status="acknowledged", assignee="ana", now=T0)
    with pytest.raises(TriageError, match="cannot go from acknowledged to new"):
        update_case(store, case.id, ana, case.version, status="new")
    with pytest.raises(TriageError, match="action taken"):
        update_case(store, case.id, ana, case.version, status="resolved")
    case = update_case(store, case.id, ana, case.version, status="resolved", action="Refunded the delivery fee",
                       reply="Sorry, we refunded the fee.", cause="delivery.courier", now=T0 + timedelta(hours=2))
    assert case.status == "resolved" and case.resolved_at == T0 + timedelta(hours=2)
    assert (case.root_theme, case.root_cause, case.cause) == ("delivery", "delivery.courier", "delivery.late")
    fields = [(e["user"], e["field"], e["from"], e["to"]) for e in history(store, case.id)]
    assert ("ana", "status", "new", "acknowledged") in fields
    assert ("ana", "assignee", None, "ana") in fields
    assert ("ana", "root_cause", "delivery.late", "delivery.courier") in fields
    assert ("ana", "status", "acknowledged", "resolved") in fields
    from voiceminer.triage import list_labels

    # the changed cause is a correction; resolving confirms the model's theme: both teach train-themes
    assert sorted((x["kind"], x["old"], x["value"]) for x in list_labels(store)) == [
        ("cause", "delivery.late", "delivery.courier"), ("theme", "delivery", "delivery")]
    rows = you_said_we_did(store, period="week")
    assert rows[0]["theme"] == "delivery" and rows[0]["resolved"] == 1
    assert rows[0]["actions"] == [{"action": "Refunded the delivery fee", "count": 1}]
    assert rows[0]["median_hours_to_resolve"] == 2.0


def test_second_writer_gets_a_conflict_with_the_current_state(store: Store) -> None:
    _analysed(store, "c1", "Late again, third time.", "high")
    open_cases(store, _settings(), store.begin_run("analyse", {}), now=T0)
    ana, ben = add_user(store, "ana", "triager", "password123"), add_user(store, "ben", "admin", "password123")
    case = list_cases(store, now=T0)[0][0]
    update_case(store, case.id, ana, case.version, status="in_progress")
    with pytest.raises(ConflictError) as err:
        update_case(store, case.id, ben, case.version, status="waiting")
    assert err.value.current["status"] == "in_progress" and err.value.current["version"] == case.version + 1
    assert get_case(store, case.id).status == "in_progress"


def test_corrections_become_a_train_themes_file(store: Store, tmp_path: Path) -> None:
    _analysed(store, "c1", "=SUM(A1) the courier left it in the rain", "high")
    _analysed(store, "c2", "Charged twice this week.", "high", theme="delivery", cause="delivery.late")
    open_cases(store, _settings(), store.begin_run("analyse", {}), now=T0)
    ana = add_user(store, "ana", "triager", "password123")
    cases = {c.comment_id: c for c in list_cases(store, now=T0)[0]}
    update_case(store, cases["c2"].id, ana, cases["c2"].version, theme="billing", cause="billing.overcharged")
    update_case(store, cases["c1"].id, ana, cases["c1"].version, cause="delivery.courier")
    correct(store, "c1", ana, "sentiment", "negative")
    with pytest.raises(TriageError, match="sentiment must be one of"):
        correct(store, "c1", ana, "sentiment", "angry")
    out = tmp_path / "labels.csv"
    assert export_labels(store, out) == 2
    texts, labels = read_labeled_csv(out)
    assert labels == [["delivery", "delivery.courier"], ["billing", "billing.overcharged"]]
    assert texts[0].startswith("'=SUM")  # formula neutralised
    with out.open() as fh:
        assert [r["comment_id"] for r in csv.DictReader(fh)] == ["c1", "c2"]


def test_queue_order_cursor_and_filters(store: Store) -> None:
    for i, prio in enumerate(["medium", "high", "medium", "high", "medium"]):
        _analysed(store, f"c{i}", f"Problem number {i}.", prio, theme="billing" if i == 4 else "delivery",
                  meta={"customer_id": "C-1"} if i < 2 else None)
    settings = _settings()
    open_cases(store, settings, store.begin_run("analyse", {}), now=T0)
    seen, cursor = [], None
    while True:
        page, cursor = list_cases(store, limit=2, cursor=cursor, now=T0)
        seen += page
        if cursor is None:
            break
    assert [c.priority for c in seen] == ["high", "high", "medium", "medium", "medium"]
    assert len({c.id for c in seen}) == 5
    assert [c.comment_id for c in list_cases(store, CaseFilter(theme="billing"), now=T0)[0]] == ["c4"]
    assert len(list_cases(store, CaseFilter(assignee=""), now=T0)[0]) == 5
    assert len(list_cases(store, CaseFilter(channel="email", priority="high"), now=T0)[0]) == 2
    with pytest.raises(TriageError, match="bad cursor"):
        list_cases(store, cursor="not-a-cursor")
    detail = case_detail(store, seen[0].id)
    kinds = {h["kind"] for h in detail["highlights"]}
    assert {"theme", "cause", "complaint"} <= kinds


def test_customer_other_comments(store: Store) -> None:
    _analysed(store, "a", "Late again.", "high", meta={"customer_id": "C-9"})
    _analysed(store, "b", "Still late.", "low", meta={"customer_id": "C-9"})
    _analysed(store, "c", "Other person.", "low", meta={"customer_id": "C-1"})
    open_cases(store, _settings(), store.begin_run("analyse", {}), now=T0)
    case = list_cases(store, now=T0)[0][0]
    assert [o["id"] for o in case_detail(store, case.id)["other_comments"]] == ["b"]


def test_search_is_full_text_and_safe(store: Store) -> None:
    _analysed(store, "a", "The refund never arrived.", "high")
    _analysed(store, "b", "Refunds are slow and support is rude.", "low")
    _analysed(store, "c", "Delivery was late.", "low")
    open_cases(store, _settings(), store.begin_run("analyse", {}), now=T0)
    found, _ = search_comments(store, "refund")
    assert {r["id"] for r in found} == {"a", "b"}  # stemmed: refund matches refunds
    assert search_comments(store, "refund", CaseFilter(status="new"))[0][0]["id"] == "a"
    assert search_comments(store, "') OR 1=1 --")[0] == []  # operators and quotes are words, not syntax
    with pytest.raises(TriageError, match="give some words"):
        search_comments(store, "  ")


# -- the reads the service makes on every page use their indexes (migration 0006) ------------------
def _plan(store: Store, run) -> str:
    """The query plan of the last statement ``run()`` sends, as the database would run it. On PostgreSQL
    sequential scans and sorts are priced out, so the plan shows whether an index *can* serve the query
    (a few test rows would otherwise always be scanned)."""
    import sqlalchemy as sa

    sent = []

    def capture(conn, cursor, statement, params, context, executemany) -> None:
        sent.append((statement, params))

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        run()
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    statement, params = sent[-1]
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return "\n".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params))
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_sort = off")
        return "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, params))


def test_queue_page_reads_the_queue_index_in_order(store: Store) -> None:
    for i, priority in enumerate(["low", "high", "medium", "high", "medium"]):
        _analysed(store, f"q{i}", f"Late delivery {i}.", priority, cues=("churn",) if priority == "low" else ())
    open_cases(store, _settings(), store.begin_run("analyse", {}), now=T0)
    for filt in (CaseFilter(), CaseFilter(status="new"), CaseFilter(theme="delivery"), CaseFilter(channel="email")):
        plan = _plan(store, lambda f=filt: list_cases(store, f, limit=2, now=T0))
        assert "ix_cases_queue" in plan, (filt, plan)
        if store.engine.dialect.name == "sqlite":
            assert "TEMP B-TREE" not in plan, (filt, plan)  # read in order, not sorted
    cases, _ = list_cases(store, now=T0)
    assert [c.priority for c in cases] == ["high", "high", "medium", "medium", "low"]


def test_opening_cases_looks_the_batch_up_by_comment_id(store: Store) -> None:
    """A batch of a few hundred ids is read through the comment-id index: the layer's index (which
    SQLite prefers for that many ids) scans every theme, cue and complaint in the store per batch, and
    a run slows down as the store grows."""
    from voiceminer.triage.cases import _candidates
    from voiceminer.triage.learn import stored_themes

    for i in range(3):
        _analysed(store, f"b{i}", f"Late delivery {i}.", "high")
    batch = [f"b{i}" for i in range(3)] + [f"missing-{i}" for i in range(253)]  # the default batch size
    for run in (lambda: _candidates(store, batch), lambda: stored_themes(store, batch)):
        plan = _plan(store, run)
        assert "ix_annotations_comment_id" in plan and "ix_annotations_layer" not in plan, plan
    assert set(_candidates(store, batch)) == {"b0", "b1", "b2"}
    assert stored_themes(store, ["b0"])["b0"]


def test_queue_count_stops_at_its_cap(store: Store) -> None:
    from voiceminer.triage import count_cases

    for i in range(5):
        _analysed(store, f"n{i}", f"Late delivery {i}.", "high")
    open_cases(store, _settings(), store.begin_run("analyse", {}), now=T0)
    assert count_cases(store, now=T0) == 5
    assert count_cases(store, cap=2, now=T0) == 3  # 'more than 2': counting stopped there
    assert count_cases(store, cap=5, now=T0) == 5 and count_cases(store, cap=10, now=T0) == 5
    assert count_cases(store, CaseFilter(channel="chat"), cap=2, now=T0) == 0
    with pytest.raises(TriageError, match="cap"):
        count_cases(store, cap=-1)


def test_customer_other_comments_use_the_customer_index(store: Store) -> None:
    _analysed(store, "a", "Late again.", "high", meta={"customer_id": "C-9"})
    _analysed(store, "b", "Still late.", "low", meta={"customer_id": "C-9"})
    _analysed(store, "c", "Numeric id.", "low", meta={"customer_id": 9})
    _analysed(store, "d", "Same value, another key.", "low", meta={"account_id": "C-9"})
    _analysed(store, "e", "Empty id, then an email.", "low", meta={"customer_id": "", "email": "x@example.com"})
    _analysed(store, "f", "Same email.", "low", meta={"email": "x@example.com"})
    _analysed(store, "g", "Another numeric.", "low", meta={"customer_id": 9})
    import sqlalchemy as sa

    from voiceminer.storage import schema as t
    from voiceminer.triage.detail import other_comments

    def row(cid: str):
        with store.engine.connect() as conn:
            return conn.execute(sa.select(t.comments).where(t.comments.c.id == cid)).mappings().first()

    def others(cid: str) -> list[str]:
        return [o["id"] for o in other_comments(store, row(cid))]

    assert others("a") == ["b"]  # same key and value; account_id C-9 is another customer
    assert others("c") == ["g"]  # numeric ids link too
    assert others("e") == ["f"]  # an empty customer_id falls through to the email
    assert others("d") == []
    first = row("a")
    plan = _plan(store, lambda: other_comments(store, first))
    assert "ix_comments_customer" in plan, plan


def test_search_pages_agree_with_and_without_filters(store: Store) -> None:
    for i in range(7):
        _analysed(store, f"s{i}", "The refund is late. " + "refund " * (i % 3) + f"case {i}.", "high")
    open_cases(store, _settings(), store.begin_run("analyse", {}), now=T0)

    def walk(filt: CaseFilter | None) -> list[str]:
        ids, cursor = [], None
        while True:
            page, cursor = search_comments(store, "refund", filt, limit=2, cursor=cursor)
            ids += [r["id"] for r in page]
            if cursor is None:
                return ids

    plain, filtered = walk(None), walk(CaseFilter(channel="email"))  # every comment is an email
    assert sorted(plain) == [f"s{i}" for i in range(7)] and len(set(plain)) == 7
    assert plain == filtered  # the same order either way, every match once
    assert plain[:2] == ["s2", "s5"]  # the most mentions of the word rank first
    if store.engine.dialect.name == "sqlite":  # unfiltered: ranked inside the index, then joined
        plan = _plan(store, lambda: search_comments(store, "refund", limit=2))
        assert "hits" in plan and plan.index("comments_fts") < plan.index("comments USING"), plan
