"""The analysis spread over a Dask distributed cluster, in units claimed from the store.

The driver (the process that runs ``voiceminer mine --engine dask``) never loads a model:

1. it registers a :class:`AnalysisPlugin` on the workers; each worker builds the pipeline (and
   opens the store) once, on its first task, and keeps it until the plugin is removed;
2. one worker reports the pipeline key; the driver cuts the comments not yet analysed under it
   into work units in the store (:class:`voiceminer.storage.units.WorkUnits`);
3. it submits one task per claimable unit. A task claims whichever unit is next (with a lease),
   analyses it, and saves the results and marks the unit done in one transaction, only while it
   still holds the claim; then it opens triage cases for the unit's comments, as the local engine
   does after each batch;
4. between rounds the driver hands back the claims of workers that left the cluster (a killed
   worker's unit returns to the pool; a lease that runs out does the same without a driver), and
   submits tasks for what is claimable again, until every unit is done.

A unit that keeps killing its workers stops the run after ``max_attempts`` claims, with its id.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..config import Settings
from ..errors import MissingDependencyError, PipelineError
from ..storage import AnalysisResult, Store
from ..storage.units import DEFAULT_LEASE_S, WorkUnits, remember_key

try:
    from distributed import WorkerPlugin
except ImportError:  # pragma: no cover - the dask extra is optional
    WorkerPlugin = object  # type: ignore[assignment,misc]

MAX_ATTEMPTS = 4


@dataclass
class _WorkerState:
    store: Store
    pipeline: Any


class AnalysisPlugin(WorkerPlugin):  # type: ignore[misc,valid-type]
    """Per-worker state: the settings, and the store and pipeline built once on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.worker_id = ""
        self._state: _WorkerState | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:  # only the settings travel; the rest is built on the worker
        return {"settings": self.settings}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["settings"])  # type: ignore[misc]

    def setup(self, worker: Any) -> None:
        self.worker_id = worker.address

    def teardown(self, worker: Any) -> None:
        if self._state is not None:
            self._state.store.close()
            self._state = None

    def state(self) -> _WorkerState:
        """The worker's store and loaded pipeline (built on the first call, once)."""
        with self._lock:
            if self._state is None:
                from ..jobs import build_pipeline, open_store

                store = open_store(self.settings)
                self._state = _WorkerState(store, build_pipeline(self.settings, store))
            return self._state


def plugin_name(settings: Settings) -> str:
    """The plugin's name on the workers: one per distinct settings, so two configurations do not mix."""
    return "voiceminer-" + hashlib.sha256(repr(settings).encode()).hexdigest()[:12]


def _plugin(name: str) -> AnalysisPlugin:
    from distributed import get_worker

    return get_worker().plugins[name]


def worker_pipeline(name: str) -> tuple[str, list[str]]:
    """(key, spec) of the pipeline as a worker builds it (task)."""
    pipeline = _plugin(name).state().pipeline
    return pipeline.key, pipeline.spec


def work_one_unit(name: str, run_id: str, key: str, lease_s: float) -> dict[str, Any]:
    """Claim the next unit, analyse it, save it if the claim still holds, open its cases (task)."""
    from ..triage import open_cases

    plugin = _plugin(name)
    state = plugin.state()
    if state.pipeline.key != key:
        raise PipelineError(f"worker {plugin.worker_id} builds pipeline {state.pipeline.key} "
                            f"({', '.join(state.pipeline.spec)}), the run planned {key}: install the same "
                            "package version and models/ on every worker")
    units = WorkUnits(state.store, key)
    unit = units.claim(plugin.worker_id, lease_s)
    if unit is None:
        return {"unit": None, "analysed": 0, "cases_opened": 0}
    try:
        comments = units.comments(unit)
        done = state.pipeline.run(comments)
        saved = units.complete(unit, run_id, [AnalysisResult(a.comment.id, a.sentences, a.annotations)
                                              for a in done])
    except BaseException:
        units.release(unit)
        raise
    if not saved:  # the lease ran out and another worker took the unit over: it saves it
        return {"unit": unit.id, "analysed": 0, "cases_opened": 0}
    opened = open_cases(state.store, plugin.settings, run_id, comment_ids=[c.id for c in comments])
    return {"unit": unit.id, "analysed": len(comments), "cases_opened": opened}


@dataclass
class DaskOutcome:
    spec: list[str]
    analysed: int = 0
    cases_opened: int = 0


def analyse_dask(settings: Settings, store: Store, run_id: str, *, scheduler: str | None = None,
                 n_workers: int = 2, threads_per_worker: int = 1, lease_s: float = DEFAULT_LEASE_S,
                 on_start: Callable[[int], None] | None = None,
                 on_advance: Callable[[int], None] | None = None) -> DaskOutcome:
    """Analyse every comment not yet analysed by the configured pipeline on a Dask cluster.

    ``scheduler`` is the address of an existing cluster's scheduler; without it a LocalCluster of
    ``n_workers`` processes with ``threads_per_worker`` threads each runs for the call.
    ``on_start(total_comments)`` and ``on_advance(n)`` report progress.
    """
    try:
        from distributed import Client
    except ImportError:
        raise MissingDependencyError("distributed", "dask") from None
    if scheduler:
        with Client(scheduler) as client:
            return _drive(client, settings, store, run_id, lease_s, on_start, on_advance)
    with local_cluster(n_workers, threads_per_worker) as cluster, Client(cluster) as client:
        return _drive(client, settings, store, run_id, lease_s, on_start, on_advance)


def local_cluster(n_workers: int = 2, threads_per_worker: int = 1) -> Any:
    """The LocalCluster the engine starts without a scheduler address (worker processes, no dashboard, quiet
    logs); a context manager. Benchmarks start one the same way and pass its ``scheduler_address``."""
    try:
        from distributed import LocalCluster
    except ImportError:
        raise MissingDependencyError("distributed", "dask") from None
    return LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                        dashboard_address=":0", scheduler_kwargs={"dashboard": False}, silence_logs=40)


def _drive(client: Any, settings: Settings, store: Store, run_id: str, lease_s: float,
           on_start: Callable[[int], None] | None, on_advance: Callable[[int], None] | None) -> DaskOutcome:
    from ..engine.keys import pipeline_fingerprint

    name = plugin_name(settings)
    client.register_plugin(AnalysisPlugin(settings), name=name)
    try:
        key, spec = client.submit(worker_pipeline, name, pure=False).result()
        remember_key(store, pipeline_fingerprint(settings), key, spec)
        units = WorkUnits(store, key)
        units.plan(run_id, settings.batch_size)
        if on_start:
            on_start(store.count_pending(key))
        outcome = DaskOutcome(spec)
        while _round(client, units, name, run_id, key, lease_s, on_advance):
            pass
        _settle(settings, store, run_id, key, outcome)
        return outcome
    finally:
        with contextlib.suppress(Exception):  # a cluster that went away must not hide the run's own error
            client.unregister_worker_plugin(name)  # the workers drop their models and store


def _settle(settings: Settings, store: Store, run_id: str, key: str, outcome: DaskOutcome) -> None:
    """Count from the store what this run analysed and opened, and open the cases a worker that died
    between saving a unit and opening its cases left unopened (opening is idempotent).

    Task results are not counted: Dask runs a task again when the worker holding its result dies,
    so a result can be lost after its unit was saved.
    """
    import sqlalchemy as sa

    from ..storage import schema as t
    from ..triage import open_cases

    a, last, outcome.analysed = t.analyses.c, "", 0
    while True:  # keyset pages, so memory stays bounded by the batch size
        ids = [r["comment_id"] for r in store.query(
            sa.select(a.comment_id).where(a.run_id == run_id, a.pipeline == key, a.comment_id > last)
            .order_by(a.comment_id).limit(settings.batch_size))]
        if not ids:
            break
        open_cases(store, settings, run_id, comment_ids=ids)
        outcome.analysed, last = outcome.analysed + len(ids), ids[-1]
    outcome.cases_opened = int(store.query(sa.select(sa.func.count().label("n")).select_from(t.cases)
                                           .where(t.cases.c.run_id == run_id))[0]["n"])


def _round(client: Any, units: WorkUnits, name: str, run_id: str, key: str, lease_s: float,
           on_advance: Callable[[int], None] | None) -> bool:
    """One round of tasks over the claimable units; False when every unit is done."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    units.release_dead(_live_workers(client))
    counts = units.counts()
    if not counts["pending"] + counts["claimed"]:
        return False
    worn = units.worn_out(MAX_ATTEMPTS)
    if worn:
        raise PipelineError(f"work unit {worn} was claimed {MAX_ATTEMPTS} times without being saved "
                            "(its workers died or failed); see the workers' logs")
    claimable = units.claimable()
    if not claimable:  # claims of live workers: wait for them, or for a lease to run out
        time.sleep(1.0)
        return True
    futures = [client.submit(work_one_unit, name, run_id, key, lease_s, pure=False) for _ in range(claimable)]
    for future in as_completed(futures):
        try:
            done = future.result()
        except KilledWorker:  # its unit comes back through release_dead
            continue
        if on_advance and done["analysed"]:  # progress only; the counts come from the store (_settle)
            on_advance(done["analysed"])
    return True


def _live_workers(client: Any) -> set[str]:
    """Addresses of the workers the scheduler knows now (all of them, not the first few)."""
    try:
        info = client.scheduler_info(n_workers=-1)
    except TypeError:  # distributed before 2025: no n_workers, and every worker listed
        info = client.scheduler_info()
    return set(info["workers"])
