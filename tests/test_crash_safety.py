"""Crash safety (issue 17.2): `voiceminer mine` killed with SIGKILL at random points of ingest, analysis and
reporting, then rerun, ends exactly where an uninterrupted run ends, on SQLite and PostgreSQL.

Each kill is a real SIGKILL of a real process running the CLI's `mine` (``voiceminer.cli.main.main``
with the command line in ``sys.argv``). The process is forked from the test, which imported the CLI,
the job and the report modules first, so a run costs its work, not an interpreter start.
Where it dies is chosen two ways, both seeded (``VOICEMINER_CRASH_SEED`` moves the seeds):

- **checkpoints**: the child wraps the job's steps (store writes, quarantine appends, case opening,
  each report file, the reuse stamp, run bookkeeping) and kills itself just before or just after
  the Nth of them, N drawn among the checkpoints the reference run passed in the phase under test;
- **timers**: a timer started when the phase begins kills the child after a delay drawn within the
  span the phase took in the reference run, so it lands anywhere, inside a transaction or a file write.

Some seeds kill the rerun too, before a last rerun. After the last rerun the test checks: every input
comment is stored exactly once (one ``stored`` ledger row per comment, over all runs), the stored comments,
sentences and annotations equal the reference's, each comment has one analysis by the pipeline key and
all its annotations and sentences come from that analysis, the last run's ledger adds up to the input
rows and the input-row summary equals the reference's, the cases (one per flagged comment) and their
events equal the reference's, killed runs are marked interrupted, and the report's JSON figures equal
the uninterrupted run's. The wrapping is test-only: the library has no fault-injection hook.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flag_stages import PIPELINE, rejected_rows, write_export

from voiceminer.storage import Store
from voiceminer.storage import schema as t

PHASES = ("ingest", "analyse", "report")
# a kill right after these steps, before the next, is tried on every run of the test (a commit done,
# its follow-up not: the ledger's quarantine file, the batch's cases, the rest of the report files)
BOUNDARIES = (("ingest", "after ingest_batch"), ("analyse", "after save_analysis"), ("report", "after render_html"))
BASE_SEED = int(os.environ.get("VOICEMINER_CRASH_SEED", "1717"))
# seeded kills per way of choosing (checkpoint, timer), phase and backend; with the boundaries below, 9
# killed runs per backend, and 3 reruns killed too (~20 runs of mine); VOICEMINER_CRASH_KILLS=5 hunts longer
KILLS_PER_PHASE = int(os.environ.get("VOICEMINER_CRASH_KILLS", "1"))
CHILD_TIMEOUT_S = 60.0


# -- the child: the CLI's mine in a forked process, with checkpoints it may die at ----------------
@dataclass
class Plan:
    """What the child does: trace (record checkpoints), die at checkpoint ``at``, or die ``delay`` s into ``phase``."""

    kind: str = "trace"  # trace | checkpoint | timer
    at: int = 0
    phase: str = ""
    delay: float = 0.0


def _arm(plan: Plan, log_fd: int) -> None:
    """Wrap the job's steps in this (child) process: log phases and checkpoints, die where the plan says."""
    from voiceminer import jobs, report, triage
    from voiceminer.engine import reuse
    from voiceminer.report import alerts, exports, html
    from voiceminer.storage import Store

    state = {"n": 0, "phase": "start"}

    def log(line: str) -> None:
        os.write(log_fd, (line + "\n").encode())

    def die(where: str) -> None:
        log(f"kill {state['phase']} {where}")
        os.kill(os.getpid(), signal.SIGKILL)

    def checkpoint(name: str) -> None:
        state["n"] += 1
        if plan.kind == "trace":
            log(f"cp {state['n']} {state['phase']} {name} {time.monotonic():.6f}")
        elif plan.kind == "checkpoint" and state["n"] == plan.at:
            die(name)

    def phase(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            state["phase"] = name
            log(f"phase {name} {time.monotonic():.6f}")
            if plan.kind == "timer" and plan.phase == name:
                timer = threading.Timer(plan.delay, die, args=(f"timer {plan.delay:.4f}s",))
                timer.daemon = True
                timer.start()
            try:
                return fn(*args, **kwargs)
            finally:
                log(f"end {name} {time.monotonic():.6f}")
        return wrapped

    def step(owner: Any, attr: str, name: str) -> None:
        fn = getattr(owner, attr)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            checkpoint(f"before {name}")
            out = fn(*args, **kwargs)
            checkpoint(f"after {name}")
            return out
        setattr(owner, attr, wrapped)

    for owner, attr, name in ((Store, "begin_run", "begin_run"), (Store, "finish_run", "finish_run"),
                              (Store, "ingest_batch", "ingest_batch"), (Store, "save_analysis", "save_analysis"),
                              (jobs, "_quarantine", "quarantine"), (triage, "open_cases", "open_cases"),
                              (report, "compute_figures", "compute_figures"), (html, "render_html", "render_html"),
                              (exports, "to_markdown", "to_markdown"), (exports, "write_csv", "write_csv"),
                              (exports, "write_xlsx", "write_xlsx"), (alerts, "deliver_alerts", "deliver_alerts"),
                              (reuse, "remember_report", "remember_report")):
        step(owner, attr, name)
    for name, attr in (("ingest", "ingest"), ("analyse", "analyse"), ("report", "_report")):
        setattr(jobs, attr, phase(name, getattr(jobs, attr)))


@dataclass
class Outcome:
    status: str  # exit code as text, or "killed"
    log: list[str]
    output: str

    @property
    def killed_at(self) -> str:
        return next((line[5:] for line in self.log if line.startswith("kill ")), "")


def run_mine(argv: list[str], plan: Plan, work: Path) -> Outcome:
    """Fork; in the child run the CLI with ``argv`` under ``plan``; wait (bounded) and say how it ended."""
    work.mkdir(parents=True, exist_ok=True)
    log_path, out_path = work / "child.log", work / "child.out"
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(out_fd, 1)
            os.dup2(out_fd, 2)
            sys.stdout = sys.stderr = open(out_fd, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
            _arm(plan, log_fd)
            from voiceminer.cli.main import main

            sys.argv = ["voiceminer", *argv]
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001 - reported through the output file and the exit code
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
            finally:
                os._exit(code)
    os.close(log_fd)
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"mine {argv} under {plan} ran past {CHILD_TIMEOUT_S}s; output: "
                        f"{out_path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.005)
    if os.WIFSIGNALED(status):
        result = "killed" if os.WTERMSIG(status) == signal.SIGKILL else f"signal {os.WTERMSIG(status)}"
    else:
        result = str(os.WEXITSTATUS(status))
    return Outcome(result, log_path.read_text().splitlines(), out_path.read_text(errors="replace"))


# -- the state a run leaves, in a form two stores can be compared by -------------------------------
def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def snapshot(url: str) -> dict[str, Any]:
    """Everything a rerun must reproduce, without run ids, row ids and times."""
    engine = sa.create_engine(url)
    c, s, a, an = t.comments.c, t.sentences.c, t.annotations.c, t.analyses.c
    try:
        with engine.connect() as conn:
            def rows(query: sa.Select) -> list[tuple[Any, ...]]:
                return sorted((tuple(json.dumps(_json(v), sort_keys=True) if isinstance(v, (dict, list)) else v
                                     for v in r) for r in conn.execute(query)), key=repr)

            case_events = (sa.select(t.cases.c.comment_id, t.case_events.c.field, t.case_events.c.old,
                                     t.case_events.c.new, t.case_events.c.user_id)
                           .join(t.cases, t.cases.c.id == t.case_events.c.case_id))
            return {
                "comments": rows(sa.select(c.id, c.text, c.text_hash, c.created_at, c.source, c.channel, c.rating,
                                           c.rating_scale, c.language, c.meta, c.source_file, c.source_line)),
                "sentences": rows(sa.select(s.comment_id, s.idx, s.start, s.end, s.kind, s.text_hash)),
                "annotations": rows(sa.select(a.comment_id, a.sentence_idx, a.layer, a.label, a.score, a.span_start,
                                              a.span_end, a.producer, a.producer_version, a.data)),
                "analyses": rows(sa.select(an.comment_id, an.pipeline)),
                "cases": rows(sa.select(*[t.cases.c[k] for k in (
                    "comment_id", "status", "priority", "priority_score", "reasons", "theme", "cause", "root_theme",
                    "root_cause", "team_id", "assignee_id", "version")])),
                "case_events": rows(case_events),
                "input_rows": Store(engine).input_rows_summary(),  # distinct input rows by best outcome
            }
    finally:
        engine.dispose()


def check_invariants(url: str, rows: int, expected_rejected: int) -> list[str]:
    """What must hold in any store after a completed rerun, whatever died before it."""
    problems: list[str] = []
    engine = sa.create_engine(url)
    led, an, a, s = t.ingest_ledger.c, t.analyses.c, t.annotations.c, t.sentences.c
    try:
        with engine.connect() as conn:
            def scalar(query: Any) -> int:
                return int(conn.execute(query).scalar() or 0)

            comments = scalar(sa.select(sa.func.count()).select_from(t.comments))
            stored_rows = dict(conn.execute(sa.select(led.comment_id, sa.func.count()).where(
                led.outcome == "stored").group_by(led.comment_id)).all())
            if len(stored_rows) != comments or any(n != 1 for n in stored_rows.values()):
                twice = sorted(k for k, n in stored_rows.items() if n != 1)[:5]
                problems.append(f"{comments} comments but {len(stored_rows)} comment ids with a 'stored' ledger row"
                                f" (stored more than once: {twice})")
            runs = conn.execute(sa.select(t.runs.c.id, t.runs.c.kind, t.runs.c.status, t.runs.c.started_at)
                                .order_by(t.runs.c.started_at, t.runs.c.id)).all()
            last = runs[-1]
            if last.status != "completed" or any(r.status not in ("interrupted", "completed") for r in runs[:-1]):
                problems.append(f"runs: {[(r.kind, r.status) for r in runs]} (want the killed ones interrupted, "
                                "the last completed)")
            by_outcome = dict(conn.execute(sa.select(led.outcome, sa.func.count()).where(led.run_id == last.id)
                                           .group_by(led.outcome)).all())
            if sum(by_outcome.values()) != rows or by_outcome.get("rejected", 0) != expected_rejected:
                problems.append(f"the last run's ledger {by_outcome} does not add up to {rows} rows "
                                f"with {expected_rejected} rejected")
            lines = scalar(sa.select(sa.func.count()).select_from(
                sa.select(led.line).where(led.run_id == last.id).group_by(led.source_file, led.line)
                .having(sa.func.count() != 1).subquery()))
            if lines:
                problems.append(f"{lines} input line(s) with more than one ledger row in the last run")
            unanalysed = scalar(sa.select(sa.func.count()).select_from(t.comments).outerjoin(
                t.analyses, an.comment_id == t.comments.c.id).where(an.comment_id.is_(None)))
            if unanalysed:
                problems.append(f"{unanalysed} comment(s) without an analysis")
            keys = [r[0] for r in conn.execute(sa.select(an.pipeline).distinct())]
            if len(keys) != 1:
                problems.append(f"analyses by {len(keys)} pipeline keys: {keys}")
            stray = scalar(sa.select(sa.func.count()).select_from(t.annotations).join(
                t.analyses, an.comment_id == a.comment_id).where(an.run_id != a.run_id))
            if stray:
                problems.append(f"{stray} annotation(s) from another run than their comment's current analysis")
            orphans = scalar(sa.select(sa.func.count()).select_from(t.sentences).outerjoin(
                t.analyses, an.comment_id == s.comment_id).where(an.comment_id.is_(None)))
            if orphans:
                problems.append(f"{orphans} sentence row(s) of comments without an analysis")
    finally:
        engine.dispose()
    return problems


def report_figures(output: str) -> dict[str, Any]:
    """The report JSON of a `mine --json` output, without what differs between two runs of the same data."""
    paths = json.loads(output[output.index("{"):])["report"]
    figures = json.loads(Path(paths["json"]).read_text(encoding="utf-8"))
    return _without_volatile(figures)


VOLATILE = {"run_id", "generated_at", "started_at", "finished_at"}


def _without_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_volatile(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_without_volatile(v) for v in value]
    return value


# -- the stores: a fresh one per killed run -----------------------------------------------------
class Backend:
    def __init__(self, name: str, tmp_path: Path, pg_url: str | None) -> None:
        self.name, self.tmp_path, self.pg_url, self.n = name, tmp_path, pg_url, 0

    def fresh(self) -> str:
        """An empty, migrated store: a new SQLite file, or the PostgreSQL database emptied."""
        from voiceminer.storage import Store

        self.n += 1
        if self.pg_url is None:
            return f"sqlite:///{self.tmp_path / f'store{self.n}.db'}"
        store = Store.open(self.pg_url)
        try:
            tables = ", ".join(f'"{tb.name}"' for tb in t.metadata.sorted_tables)
            with store.engine.begin() as conn:
                conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        finally:
            store.close()
        return self.pg_url


@dataclass
class Reference:
    snapshot: dict[str, Any]
    figures: dict[str, Any]
    checkpoints: dict[str, list[int]] = field(default_factory=dict)  # phase -> checkpoint numbers
    names: dict[int, str] = field(default_factory=dict)  # checkpoint number -> "before/after <step>"
    spans: dict[str, float] = field(default_factory=dict)  # phase -> seconds


def _argv(url: str, data: Path, export: Path, *, as_json: bool = False) -> list[str]:
    return ["--data-dir", str(data), "--database-url", url, "--batch-size", "20", "--quiet", "mine", str(export),
            *(["--json"] if as_json else [])]


def reference_run(backend: Backend, export: Path, work: Path) -> Reference:
    """One uninterrupted run: its end state, its report, and where its checkpoints and phases fell."""
    url = backend.fresh()
    done = run_mine(_argv(url, work / "data", export, as_json=True), Plan("trace"), work)
    assert done.status == "0", f"the uninterrupted run failed: {done.output[-3000:]}"
    ref = Reference(snapshot(url), report_figures(done.output))
    starts: dict[str, float] = {}
    for line in done.log:
        kind, *rest = line.split()
        if kind == "cp" and rest[1] in PHASES:
            ref.checkpoints.setdefault(rest[1], []).append(int(rest[0]))
            ref.names[int(rest[0])] = " ".join(rest[2:4])
        elif kind == "phase":
            starts[rest[0]] = float(rest[1])
        elif kind == "end":
            ref.spans[rest[0]] = float(rest[1]) - starts[rest[0]]
    assert set(ref.checkpoints) == set(PHASES) == set(ref.spans), (ref.checkpoints, ref.spans, done.log[:20])
    assert ref.snapshot["cases"] and ref.snapshot["annotations"] and ref.figures["themes"], \
        "the reference run should open cases and report themes, or the checks below check little"
    return ref


def plans(ref: Reference, rng: random.Random) -> list[tuple[str, Plan, Plan | None]]:
    """(phase, the first run's plan, the rerun's plan or None): seeded kills at checkpoints and on timers."""
    out: list[tuple[str, Plan, Plan | None]] = []
    for phase, step in BOUNDARIES:  # always: the middle one of the steps right after a commit
        at = [n for n in ref.checkpoints[phase] if ref.names[n] == step]
        out.append((phase, Plan("checkpoint", at=at[len(at) // 2]), None))
    everything = sorted(n for cps in ref.checkpoints.values() for n in cps)
    for phase in PHASES:
        for i in range(KILLS_PER_PHASE):
            first = Plan("checkpoint", at=rng.choice(ref.checkpoints[phase]))
            again = Plan("checkpoint", at=rng.choice(everything)) if i == 0 else None  # the rerun dies too
            out.append((phase, first, again))
            out.append((phase, Plan("timer", phase=phase, delay=rng.uniform(0, ref.spans[phase])), None))
    return out


@pytest.mark.parametrize("backend_name", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_mine_killed_anywhere_then_rerun_equals_an_uninterrupted_run(backend_name: str, tmp_path: Path,
                                                                      request: pytest.FixtureRequest,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICEMINER_PIPELINE", ",".join(PIPELINE))
    for module in ("voiceminer.cli.main", "voiceminer.engine.reuse", "voiceminer.report.alerts",
                   "voiceminer.report.exports", "voiceminer.report.html", "voiceminer.triage"):
        importlib.import_module(module)  # once here, not in every forked child
    pg_url = request.getfixturevalue("pg_url") if backend_name == "postgres" else None
    backend = Backend(backend_name, tmp_path, pg_url)
    export = tmp_path / "reviews.csv"
    rows = write_export(export)
    ref = reference_run(backend, export, tmp_path / "ref")
    rejected = rejected_rows(rows)
    rng = random.Random(f"{BASE_SEED}-{backend_name}")
    failures, landed = [], {p: 0 for p in PHASES}
    for n, (phase, first, again) in enumerate(plans(ref, rng)):
        url, work = backend.fresh(), tmp_path / f"kill{n}"
        data = work / "data"
        where = []
        for plan in (first, again):
            if plan is None:
                continue
            killed = run_mine(_argv(url, data, export), plan, work)
            where.append(f"{plan} -> {killed.status} at {killed.killed_at or '(no kill)'}")
            if killed.status not in ("killed", "0"):
                failures.append(f"{phase} #{n}: {where[-1]} ended badly: {killed.output[-1500:]}")
            if killed.status == "killed" and killed.killed_at.split()[0] == phase and plan is first:
                landed[phase] += 1
        done = run_mine(_argv(url, data, export, as_json=True), Plan("trace"), work)
        label = f"{backend_name} {phase} #{n} ({'; '.join(where)})"
        if done.status != "0":
            failures.append(f"{label}: the rerun failed: {done.output[-1500:]}")
            continue
        problems = check_invariants(url, rows, rejected)
        state = snapshot(url)
        problems += [f"{table} differ from the uninterrupted run's ({len(state[table])} vs "
                     f"{len(ref.snapshot[table])} rows)" for table in ref.snapshot if state[table] != ref.snapshot[table]]
        if report_figures(done.output) != ref.figures:
            problems.append("the report JSON differs from the uninterrupted run's")
        if problems:
            failures.append(f"{label}: " + "; ".join(problems))
        shutil.rmtree(work, ignore_errors=True)
    assert not failures, "\n".join(failures)
    # most kills must land in the phase they aimed at, or the test does not test what it says
    assert all(n >= 1 + KILLS_PER_PHASE for n in landed.values()), landed
