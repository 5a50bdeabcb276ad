"""The weekly job as library functions: what the CLI, the API and a Dask worker all call.

``ingest`` -> collect rows into the store (every row stored, duplicate or rejected);
``analyse`` -> run the pipeline over comments not yet analysed by it;
``mine`` -> both, then write the report. Each works in batches and keeps all of
its state in the store, so a killed job is finished by simply running it again.

>>> from voiceminer.config import Settings
>>> s = Settings(data_dir="/tmp/vm-doc", database_url="sqlite://")
>>> isinstance(s.batch_size, int)
True
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Protocol, Sequence, TypeVar

from .config import Settings
from .errors import ConfigError, StrictModeError
from .storage import AnalysisResult, Store
from .textsafety import safe_cell
from .types import Comment, IngestCounts, Reject

if TYPE_CHECKING:
    from .pipeline import Pipeline
    from .privacy import Redactor

T = TypeVar("T")


class Progress(Protocol):
    """What long work reports to; the CLI draws a bar, the API ignores it."""

    def start(self, task: str, total: int | None) -> None: ...

    def advance(self, n: int) -> None: ...

    def finish(self) -> None: ...


class NullProgress:
    def start(self, task: str, total: int | None) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass
class IngestResult:
    run_id: str
    files: list[str]
    counts: IngestCounts
    quarantine_file: Path | None
    reject_reasons: dict[str, int] = field(default_factory=dict)
    reject_examples: dict[str, str] = field(default_factory=dict)  # kind -> the first such row, in full
    undated: int = 0  # rows read as comments without a date: reports file them under their ingest time
    layouts: list[dict[str, Any]] = field(default_factory=list)  # per file: which column fed which field

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "files": self.files, **self.counts.as_dict(),
                "quarantine_file": str(self.quarantine_file) if self.quarantine_file else None,
                "reject_reasons": self.reject_reasons, "reject_examples": self.reject_examples,
                "undated": self.undated, "layouts": self.layouts}


@dataclass
class AnalyseResult:
    run_id: str
    pipeline: list[str]
    analysed: int
    cases_opened: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "pipeline": self.pipeline, "analysed": self.analysed,
                "cases_opened": self.cases_opened}


@dataclass
class MineResult:
    run_id: str
    ingest: IngestResult
    analyse: AnalyseResult
    report: dict[str, str]
    summary: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "ingest": self.ingest.as_dict(), "analyse": self.analyse.as_dict(),
                "report": self.report, "summary": self.summary}


def open_store(settings: Settings) -> Store:
    """Open (and migrate) the store named by the settings."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store.open(settings.database_url)


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Split an iterable into lists of at most ``size`` items.

    >>> list(batched(range(5), 2))
    [[0, 1], [2, 3], [4]]
    """
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def ingest(settings: Settings, inputs: Sequence[str | Path], *, store: Store | None = None,
           progress: Progress | None = None, strict: bool = False, run_id: str | None = None,
           **collect_options: Any) -> IngestResult:
    """Collect every row of ``inputs`` into the store, batch by batch, with a ledger row each.

    ``collect_options`` go to :func:`voiceminer.collectors.collect` (preset, mapping, source,
    channel, encoding, delimiter, dayfirst). Rejected rows are appended to
    ``<data_dir>/quarantine/<run_id>.csv`` as they come, so a killed run keeps them too.
    """
    from .collectors import collect, expand_inputs

    files = expand_inputs(inputs)
    store = store or open_store(settings)
    own_run = run_id is None
    run_id = run_id or store.begin_run("ingest", {"inputs": [str(p) for p in files], **_jsonable(collect_options)})
    result = IngestResult(run_id, [str(p) for p in files], IngestCounts(), None)
    progress = progress or NullProgress()
    progress.start("ingest", None)
    try:
        items = collect(files, timezone=settings.timezone, on_layout=result.layouts.append, **collect_options)
        if settings.redact_pii:
            from .privacy import Redactor

            redactor = Redactor()  # names need spaCy: loaded once per ingest, on the first row
            items = (_redact(item, redactor) for item in items)
        for batch in batched(items, settings.batch_size):
            result.counts.add(store.ingest_batch(run_id, batch))
            result.undated += sum(isinstance(i, Comment) and i.created_at is None for i in batch)
            _quarantine(settings, result, [i for i in batch if isinstance(i, Reject)])
            progress.advance(len(batch))
    except BaseException as exc:
        if own_run:
            store.finish_run(run_id, "failed", result.as_dict(), error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        progress.finish()
    if own_run:
        store.finish_run(run_id, "completed", result.as_dict())
    if strict and result.counts.rejected:
        raise StrictModeError(f"{result.counts.rejected} row(s) rejected; see {result.quarantine_file}")
    return result


def _redact(item: Comment | Reject, redactor: "Redactor") -> Comment | Reject:
    if isinstance(item, Comment):
        return redactor.redact_comment(item)
    return replace(item, raw=redactor.redact(item.raw) if item.raw else item.raw,
                   reason=redactor.redact(item.reason))


def _quarantine(settings: Settings, result: IngestResult, rejects: list[Reject]) -> None:
    if not rejects:
        return
    for r in rejects:
        key = reason_kind(r.reason)
        result.reject_reasons[key] = result.reject_reasons.get(key, 0) + 1
        result.reject_examples.setdefault(key, f"{Path(r.source_file).name} line {r.line}: {r.reason}")
    path = settings.quarantine_dir / f"{result.run_id}.csv"
    new = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(["file", "line", "field", "reason", "raw"])
        for r in rejects:
            writer.writerow([safe_cell(v) for v in (r.source_file, r.line, r.field or "", r.reason, r.raw or "")])
    result.quarantine_file = path


def reason_kind(reason: str) -> str:
    """The reason without its row-specific details (quoted values, parenthesised notes, numbers
    become N), for counting rejects by kind; ranges such as 0-10 are kept.

    >>> reason_kind("rating 11 outside 0-10"), reason_kind("unparseable date '31/02/2026'")
    ('rating N outside 0-10', 'unparseable date')
    >>> reason_kind("unparseable date '32/10/2026 09:00'")
    'unparseable date'
    >>> reason_kind("invalid JSON: Unterminated string (char 79)")
    'invalid JSON'
    >>> reason_kind("expected 4 fields, found 7")
    'expected N fields, found N'
    """
    key = re.sub(r"\s*'[^']*'", "", reason).split(":")[0]
    key = re.sub(r"\s*\([^)]*\)", "", key)
    return re.sub(r"(?<![\w.-])-?\d+(?:\.\d+)?(?![\w.-])", "N", key).strip()


def build_pipeline(settings: Settings, store: Store | None = None) -> "Pipeline":
    """The configured pipeline; with a store, sentence vectors are cached in it."""
    from .pipeline import Pipeline, StageContext
    from .storage.vectors import VectorCache

    cache = (lambda key: VectorCache(store, key)) if store is not None else None
    context = StageContext(vector_cache=cache, models_dir=settings.models_dir, shared_model=settings.shared_model,
                           taxonomy=settings.taxonomy, themes_model=settings.themes_model, backend=settings.backend)
    return Pipeline.from_names(settings.pipeline, context)


def analyse(settings: Settings, *, store: Store | None = None, progress: Progress | None = None,
            run_id: str | None = None, engine: str = "local", scheduler: str | None = None,
            workers: int = 2) -> AnalyseResult:
    """Run the configured pipeline over every comment it has not analysed yet, and open a triage
    case for each analysed comment the case rules select (:func:`voiceminer.triage.open_cases`;
    one per comment, however often this runs).

    ``engine="dask"`` spreads the work over a Dask cluster (:mod:`voiceminer.engine.dask_engine`):
    the scheduler at ``scheduler``, or a LocalCluster of ``workers`` processes. When the store
    remembers the key of this exact pipeline (same code, models and settings: see
    :mod:`voiceminer.engine.keys`) and nothing is pending under it, no model is loaded at all.
    """
    from .engine.keys import pipeline_fingerprint
    from .storage.units import remember_key, remembered_key

    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; choose from {', '.join(ENGINES)}")
    store = store or open_store(settings)
    progress = progress or NullProgress()
    fingerprint = pipeline_fingerprint(settings)
    known = remembered_key(store, fingerprint)
    if known is not None and store.count_pending(known[0]) == 0:
        return _in_run(settings, store, run_id, {"pipeline": known[1], "engine": engine}, known[1],
                       lambda result: None)
    if engine == "dask":
        return _in_run(settings, store, run_id, {"pipeline": known[1] if known else None, "engine": engine},
                       known[1] if known else [],
                       lambda result: _analyse_dask(settings, store, result, progress, scheduler, workers))
    pipeline = build_pipeline(settings, store)
    remember_key(store, fingerprint, pipeline.key, pipeline.spec)
    return _in_run(settings, store, run_id, {"pipeline": pipeline.spec, "engine": engine}, pipeline.spec,
                   lambda result: _analyse_local(settings, store, pipeline, result, progress))


ENGINES = ("local", "dask")


def _in_run(settings: Settings, store: Store, run_id: str | None, params: dict[str, Any], spec: list[str],
            work: Callable[[AnalyseResult], None]) -> AnalyseResult:
    """Do ``work`` inside the given run, or inside a new ``analyse`` run recorded in the store, after
    opening the cases that dead runs left unopened (:func:`_open_cases_of_dead_runs`); then escalate
    the overdue cases."""
    own_run = run_id is None
    run_id = run_id or store.begin_run("analyse", params)
    result = AnalyseResult(run_id, spec, 0)
    try:
        result.cases_opened += _open_cases_of_dead_runs(settings, store, run_id)
        work(result)
        from .triage import escalate_overdue

        escalate_overdue(store, settings)  # once per run, after its cases are open
    except BaseException as exc:
        if own_run:
            store.finish_run(run_id, "failed", result.as_dict(), error=f"{type(exc).__name__}: {exc}")
        raise
    if own_run:
        store.finish_run(run_id, "completed", result.as_dict())
    return result


def _open_cases_of_dead_runs(settings: Settings, store: Store, run_id: str) -> int:
    """Open the cases that runs which died (killed, or failed) between saving a batch's analysis and
    opening its cases left unopened: the comments they analysed are no longer pending, so nothing else
    would. Each dead run is settled once (``cases_settled`` in its counts); opening is idempotent, so a
    run killed while settling is settled again by the next. Returns how many cases it opened."""
    import sqlalchemy as sa

    from .storage import schema as t
    from .triage import open_cases

    r, a = t.runs.c, t.analyses.c
    dead = store.query(sa.select(r.id, r.counts).where(r.status.in_(("interrupted", "failed")),
                                                        r.kind.in_(("mine", "analyse")), r.id != run_id))
    opened = 0
    for run in dead:
        counts = run["counts"] if isinstance(run["counts"], dict) else {}
        if counts.get("cases_settled"):
            continue
        last = ""
        while True:  # keyset pages of the comments whose current analysis that run saved
            ids = [x["comment_id"] for x in store.query(sa.select(a.comment_id).where(
                a.run_id == run["id"], a.comment_id > last).order_by(a.comment_id).limit(500))]
            if not ids:
                break
            opened += open_cases(store, settings, run_id, comment_ids=ids)
            last = ids[-1]
        with store.engine.begin() as conn:
            conn.execute(t.runs.update().where(r.id == run["id"]).values(counts={**counts, "cases_settled": True}))
    return opened


def _analyse_local(settings: Settings, store: Store, pipeline: "Pipeline", result: AnalyseResult,
                   progress: Progress) -> None:
    from .triage import open_cases

    progress.start("analyse", store.count_pending(pipeline.key))
    try:
        for batch in store.pending_comments(pipeline.key, settings.batch_size):
            done = pipeline.run(batch)
            store.save_analysis(result.run_id, pipeline.key, [
                AnalysisResult(a.comment.id, a.sentences, a.annotations) for a in done])
            result.cases_opened += open_cases(store, settings, result.run_id, comment_ids=[c.id for c in batch])
            result.analysed += len(batch)
            progress.advance(len(batch))
    finally:
        progress.finish()


def _analyse_dask(settings: Settings, store: Store, result: AnalyseResult, progress: Progress,
                  scheduler: str | None, workers: int) -> None:
    from .engine.dask_engine import analyse_dask

    try:
        outcome = analyse_dask(settings, store, result.run_id, scheduler=scheduler, n_workers=workers,
                               on_start=lambda total: progress.start("analyse", total), on_advance=progress.advance)
    finally:
        progress.finish()
    result.pipeline, result.analysed, result.cases_opened = outcome.spec, outcome.analysed, outcome.cases_opened


def mine(settings: Settings, inputs: Sequence[str | Path], *, store: Store | None = None,
         progress: Progress | None = None, strict: bool = False, report_formats: Sequence[str] | None = None,
         engine: str = "local", scheduler: str | None = None, workers: int = 2,
         **collect_options: Any) -> MineResult:
    """The weekly job: ingest ``inputs``, analyse what is new, write the report. Safe to rerun.

    ``engine``, ``scheduler`` and ``workers`` choose where the analysis runs (see :func:`analyse`).
    """
    store = store or open_store(settings)
    run_id = store.begin_run("mine", {"inputs": [str(i) for i in inputs], **_jsonable(collect_options)})
    try:
        ing = ingest(settings, inputs, store=store, progress=progress, run_id=run_id, **collect_options)
        if settings.retention_days > 0:  # before analysis and report, so neither uses expired comments
            from .storage.retention import apply_retention

            apply_retention(store, settings)
        ana = analyse(settings, store=store, progress=progress, run_id=run_id, engine=engine,
                      scheduler=scheduler, workers=workers)
        paths, summary = _report(settings, store, report_formats)
    except BaseException as exc:
        store.finish_run(run_id, "failed", {}, error=f"{type(exc).__name__}: {exc}")
        raise
    result = MineResult(run_id, ing, ana, paths, summary)
    store.finish_run(run_id, "completed", {"ingest": ing.as_dict(), "analyse": ana.as_dict(), "report": paths})
    if strict and ing.counts.rejected:
        raise StrictModeError(f"{ing.counts.rejected} row(s) rejected; see {ing.quarantine_file}")
    return result


def _report(settings: Settings, store: Store,
            formats: Sequence[str] | None) -> tuple[dict[str, str], dict[str, Any]]:
    """The report's paths and summary: the last report when nothing it reads has changed since it was
    written (:mod:`voiceminer.engine.reuse`; it would come out the same), else a new one."""
    from .engine.reuse import remember_report, report_basis, reusable_report

    basis = report_basis(settings, store, formats or ["(all)"])
    reused = reusable_report(settings, basis)
    if reused is not None:  # without importing the report package (pandas, scipy: seconds)
        return reused
    from .report import FORMATS, build_report

    report = build_report(settings, store=store, formats=formats or FORMATS)
    remember_report(settings, basis, report.paths, report.summary)
    return report.paths, report.summary


def train_themes(settings: Settings, labeled: str | Path, out: str | Path, *, taxonomy: str | Path | None = None,
                 store: Store | None = None, progress: Progress | None = None, batch_size: int = 256,
                 **params: Any) -> dict[str, Any]:
    """Train a themes model from a labeled ``text,themes`` CSV with the configured shared encoder
    (what ``voiceminer train-themes`` runs); returns its metrics (see
    :func:`voiceminer.themes.train_from_csv`).

    The texts are encoded through the store's vector cache, like ``mine``'s sentences, so a team
    that fixes a few labels and trains again waits only for the texts it has not encoded before;
    encoding shows progress batch by batch. ``params`` go to the ThemeModel (``lexical=...``).
    """
    import numpy as np

    from .models.encoder import l2_normalise
    from .pipeline import StageContext
    from .pipeline.encode import cached_vectors, load_shared, shared_artifact
    from .storage.vectors import VectorCache
    from .themes import load_taxonomy, train_from_csv
    from .types import text_hash

    shared = load_shared(shared_artifact(StageContext(models_dir=settings.models_dir,
                                                      shared_model=settings.shared_model)), settings.backend)
    cache = VectorCache(store or open_store(settings), shared.encoder_.vector_key)
    progress = progress or NullProgress()

    def encode(texts: list[str]) -> np.ndarray:
        out_ = np.zeros((len(texts), shared.encoder_.dim), np.float32)
        progress.start("encode", len(texts))
        try:
            for start in range(0, len(texts), batch_size):
                chunk = texts[start:start + batch_size]
                found = cached_vectors(shared, cache, chunk)
                out_[start:start + len(chunk)] = [found[text_hash(t)] for t in chunk]
                progress.advance(len(chunk))
        finally:
            progress.finish()
        return l2_normalise(out_)

    return train_from_csv(labeled, load_taxonomy(taxonomy), out, shared.encoder_, encode=encode,
                          progress=progress, **params)


def _jsonable(options: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in options.items():
        if v is None:
            continue
        out[k] = v if isinstance(v, (str, int, float, bool)) else (
            v.isoformat() if isinstance(v, datetime) else repr(v))
    return out


def status(settings: Settings, *, store: Store | None = None, runs: int = 10) -> dict[str, Any]:
    """What is stored and the last runs, as plain data."""
    store = store or open_store(settings)
    return {
        "database": store.engine.url.render_as_string(hide_password=True),
        "data_dir": str(settings.data_dir),
        "schema_revision": store.schema_revision(),
        "counts": store.counts(),
        "ledger": store.ledger_counts(),
        "runs": [{"id": r.id, "kind": r.kind, "status": r.status, "started_at": r.started_at.isoformat(),
                  "finished_at": r.finished_at.isoformat() if r.finished_at else None, "error": r.error}
                 for r in store.recent_runs(runs)],
    }

