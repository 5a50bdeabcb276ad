#!/usr/bin/env python
"""One benchmark run on one machine (issue 16.5), printed as a Markdown table:

- per encoder backend (``backend`` setting: torch, onnx, onnx-int8, torch-bf16 where the CPU has AMX or
  AVX-512 bf16; those given by --backends):
  comments/s and sentences/s of the weekly job (ingest, analyse with the default pipeline, report)
  on the first N comments of the demo exports, each backend on a fresh store (no vector cache);
  the analysis step alone (its models loading included); the loaded pipeline on the same comments
  without a vector cache, and the bare encoder on the very sentences the analysis stored, with the
  ratio pipeline / bare encoder (target >= 0.8: the pipeline around the encoder costs little), and the
  pipeline against its own encoder passes: the same encoder(s) timed alone on the texts the pipeline encodes
  by design (each distinct sentence, each multi-sentence comment's whole text, through the shared encoder
  and its sentiment companion), so that ratio is what the code around the models costs; both ratios
  also in CPU seconds of this process (steadier than wall time where other jobs share the cores);
- the rerun of ``voiceminer mine`` on the same inputs as a share of the first run
  (``scripts/bench_incremental.py``'s ``timed_mine``, imported);
- the Dask engine on a LocalCluster of 2 worker processes against the local engine, on the same
  comments, each on a fresh store: a cluster the run starts (its start is inside its time, as a user of a
  one-off job pays it), and a cluster already running whose workers loaded the models in an earlier run;
- the peak RSS of this process (the benchmark's own work; the CLI runs of the rerun figure are
  child processes, reported apart).

Machines are shared and noisy: rates are best read as the ratios printed beside them, measured in
the same process. Small default sizes, so one run takes a few minutes on 2 cores.

Usage:
    .venv/bin/python scripts/bench.py [--comments 200] [--backends torch onnx onnx-int8] [--skip-dask]
        [--skip-rerun] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI sets it (voiceminer.cli.main), before torch loads
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
DEMO = ROOT / "corpora" / "demo" / "exports"


def sample_inputs(n: int, folder: Path) -> Path:
    """The first ``n`` comments of the demo exports, as one CSV (id, date, text) in ``folder``."""
    from voiceminer.collectors import collect
    from voiceminer.types import Comment

    path = folder / "sample.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "created_at", "text"])
        count = 0
        for item in collect([DEMO]):
            if isinstance(item, Comment) and item.created_at is not None:
                writer.writerow([f"b{count}", item.created_at.isoformat(), item.text])
                count += 1
                if count == n:
                    break
    return path


def _settings(data_dir: Path, **overrides: Any) -> Any:
    from voiceminer.config import Settings

    return Settings.load(env={}, config_path=None, overrides={"data_dir": str(data_dir), **overrides})


def _sentences(store: Any) -> list[str]:
    """The stored sentences' texts (each comment's text cut at the sentence spans)."""
    import sqlalchemy as sa

    from voiceminer.storage import schema as t

    query = (sa.select(t.comments.c.text, t.sentences.c.start, t.sentences.c.end)
             .join(t.sentences, t.sentences.c.comment_id == t.comments.c.id)
             .order_by(t.sentences.c.comment_id, t.sentences.c.idx))
    return [r["text"][r["start"]:r["end"]] for r in store.query(query)]


def mine_rate(backend: str, inputs: Path, work: Path) -> dict[str, Any]:
    """The weekly job with ``backend`` on a fresh store: step seconds and rates, and the bare encoder's
    rate on the sentences it stored."""
    from voiceminer import jobs
    from voiceminer.pipeline import StageContext
    from voiceminer.pipeline.encode import load_shared, shared_artifact, whole_text
    from voiceminer.pipeline.heads import clear_text_caches
    from voiceminer.pipeline.themes import clear_fitted
    from voiceminer.report import build_report

    settings = _settings(work / f"mine-{backend}", backend=backend)
    load_shared.cache_clear()  # the model loads (and an ONNX graph builds) before the timing
    pipeline = jobs.build_pipeline(settings)  # no store: no vector cache, so it encodes every sentence
    store = jobs.open_store(settings)
    start = time.perf_counter()
    ingested = jobs.ingest(settings, [inputs], store=store)
    t_ingest = time.perf_counter()
    clear_fitted()  # the analysis fits zero-shot themes itself, as a fresh process's first run on a new store does
    analysed = jobs.analyse(settings, store=store)
    t_analyse = time.perf_counter()
    build_report(settings, store=store, formats=("json", "html"))
    t_report = time.perf_counter()
    sentences = _sentences(store)
    shared = load_shared(shared_artifact(StageContext(models_dir=settings.models_dir,
                                                      shared_model=settings.shared_model)), backend)
    encoder = shared.encoder_
    encoder.encode(sentences[:32])  # warm-up
    e0, c0 = time.perf_counter(), time.process_time()  # wall and CPU seconds (CPU: steadier on a shared machine)
    encoder.encode(sentences)
    bare, bare_cpu = time.perf_counter() - e0, time.process_time() - c0
    comments = list(store.iter_comments())
    clear_text_caches()  # the analysis above ran the same texts: the pipeline starts as cold as the encoder
    p0, c0 = time.perf_counter(), time.process_time()  # the loaded pipeline on the same comments: no model loading
    done = pipeline.run(comments)
    run_s, run_cpu = time.perf_counter() - p0, time.process_time() - c0
    # the encoder passes the pipeline makes by design: every distinct sentence and multi-sentence comment text
    # (encode.whole_text), through the shared encoder and, where the model names one, its sentiment companion
    texts = list(dict.fromkeys([s.text for a in done for s in a.sentences] + [w for a in done if (w := whole_text(a))]))
    w0, c0 = time.perf_counter(), time.process_time()
    encoder.encode(texts)
    if shared.companion_ is not None:
        shared.companion_.encoder_.encode(texts)
    work, work_cpu = time.perf_counter() - w0, time.process_time() - c0
    n, s_n = analysed.analysed, len(sentences)
    analyse_s, mine_s = t_analyse - t_ingest, t_report - start
    return {"backend": backend, "comments": ingested.counts.stored, "sentences": s_n,
            "mine_s": round(mine_s, 2), "mine_comments_per_s": round(n / mine_s, 2),
            "mine_sentences_per_s": round(s_n / mine_s, 2), "analyse_s": round(analyse_s, 2),
            "analyse_sentences_per_s": round(s_n / analyse_s, 2), "pipeline_s": round(run_s, 2),
            "pipeline_sentences_per_s": round(s_n / run_s, 2), "encoder_s": round(bare, 2),
            "encoder_sentences_per_s": round(s_n / bare, 2), "ratio_to_encoder": round(bare / run_s, 3),
            "encoded_texts": len(texts), "encoder_work_s": round(work, 2),
            "ratio_to_encoder_work": round(work / run_s, 3), "ratio_to_encoder_cpu": round(bare_cpu / run_cpu, 3),
            "ratio_to_encoder_work_cpu": round(work_cpu / run_cpu, 3)}


def rerun_share(inputs: Path, work: Path) -> dict[str, Any]:
    """`voiceminer mine` twice on the same inputs (CLI processes): the rerun's share of the first run."""
    from bench_incremental import timed_mine

    args = argparse.Namespace(inputs=[inputs], config=None)
    data_dir = work / "rerun"
    first = timed_mine(args, data_dir)
    again = timed_mine(args, data_dir)
    if again["stored"] or again["analysed"]:
        raise SystemExit(f"the rerun stored or analysed comments, so it was not a rerun: {again}")
    return {"first_wall_s": first["wall_s"], "rerun_wall_s": again["wall_s"],
            "share_wall": round(again["wall_s"] / first["wall_s"], 4),
            "share_cpu": round(again["cpu_s"] / first["cpu_s"], 4) if first["cpu_s"] else None}


def engine_rates(inputs: Path, work: Path, workers: int = 2) -> dict[str, Any]:
    """The analysis of the same comments by the local engine and by a LocalCluster of ``workers``: one the
    run starts (its start and the workers' model loading inside the time, as a one-off job pays them) and
    one already running whose workers loaded the models in an earlier run (as a weekly job on a standing
    cluster pays: the models stay loaded in each worker process, ``pipeline.encode.load_shared``), the
    first against the local engine loading its models, the second against it with them loaded."""
    from voiceminer.engine.dask_engine import local_cluster

    out = {}
    for engine in ("local", "dask"):
        out[engine] = _timed_analysis(work / f"engine-{engine}", inputs, engine, workers=workers)
    out["local_warm"] = _timed_analysis(work / "engine-local-warm", inputs, "local")  # this process loaded them above
    with local_cluster(workers) as cluster:
        _timed_analysis(work / "engine-dask-first", inputs, "dask", scheduler=cluster.scheduler_address)
        out["dask_warm"] = _timed_analysis(work / "engine-dask-warm", inputs, "dask", scheduler=cluster.scheduler_address)
    out["dask_over_local"] = round(out["local"]["seconds"] / out["dask"]["seconds"], 3)
    out["dask_warm_over_local"] = round(out["local_warm"]["seconds"] / out["dask_warm"]["seconds"], 3)
    out["workers"] = workers
    return out


def _timed_analysis(folder: Path, inputs: Path, engine: str, **kwargs: Any) -> dict[str, float]:
    """Ingest ``inputs`` into a fresh store in ``folder`` and time its analysis by ``engine``."""
    from voiceminer import jobs

    settings = _settings(folder)
    store = jobs.open_store(settings)
    jobs.ingest(settings, [inputs], store=store)
    start = time.perf_counter()
    done = jobs.analyse(settings, store=store, engine=engine, **kwargs)
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 2), "comments_per_s": round(done.analysed / seconds, 2)}


def available_backends(wanted: list[str] | None) -> list[str]:
    """The backends the configuration knows (only torch where the setting does not exist); by default
    those this CPU can run (torch-bf16 needs AMX or AVX-512 bf16: left out, with a note, where the CPU lacks it)."""
    try:
        from voiceminer.config import BACKENDS
    except ImportError:
        BACKENDS = ("torch",)
    if wanted:
        return [b for b in wanted if b in BACKENDS]
    try:
        from voiceminer.models.benchmark import runnable_backends
    except ImportError:
        return list(BACKENDS)
    runnable, skipped = runnable_backends(BACKENDS)
    for backend, why in skipped.items():
        print(f"{backend} not run: {why}", file=sys.stderr)
    return runnable


def markdown(result: dict[str, Any]) -> str:
    lines = [f"`scripts/bench.py --comments {result['comments']}` ({result['cores']} cores, load average "
             f"{result['load_average_1m']} at the end)", "",
             "| backend | mine comments/s | mine sentences/s | analysis sentences/s (models loading included) "
             "| loaded pipeline sentences/s | bare encoder sentences/s | pipeline / encoder (target >= 0.8) "
             "| pipeline / its own encoder passes | the two ratios in CPU seconds |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in result["backends"]:
        lines.append(f"| {r['backend']} | {r['mine_comments_per_s']:.1f} | {r['mine_sentences_per_s']:.1f} | "
                     f"{r['analyse_sentences_per_s']:.1f} | {r['pipeline_sentences_per_s']:.1f} | "
                     f"{r['encoder_sentences_per_s']:.1f} | "
                     f"{r['ratio_to_encoder']:.2f} | {r['ratio_to_encoder_work']:.2f} | "
                     f"{r['ratio_to_encoder_cpu']:.2f}, {r['ratio_to_encoder_work_cpu']:.2f} |")
    lines += ["", "| figure | value |", "|---|---|"]
    if result.get("rerun"):
        r = result["rerun"]
        lines.append(f"| rerun / first run of `voiceminer mine` (target < 5%) | {r['share_wall']:.1%} of the wall time "
                     f"({r['rerun_wall_s']:.1f} s / {r['first_wall_s']:.1f} s), {r['share_cpu']:.1%} of the CPU time |")
    if result.get("engines"):
        e = result["engines"]
        lines.append(f"| analysis, local engine | {e['local']['comments_per_s']:.1f} comments/s ({e['local']['seconds']:.1f} s, "
                     "models loading included) |")
        lines.append(f"| analysis, LocalCluster of {e['workers']} workers | {e['dask']['comments_per_s']:.1f} comments/s "
                     f"({e['dask']['seconds']:.1f} s, cluster start included): {e['dask_over_local']:.2f}x the local engine |")
        if e.get("dask_warm"):
            lines.append(f"| analysis, LocalCluster of {e['workers']} workers already running (models loaded by an "
                         f"earlier run) | {e['dask_warm']['comments_per_s']:.1f} comments/s ({e['dask_warm']['seconds']:.1f} s): "
                         f"{e['dask_warm_over_local']:.2f}x the local engine with its models loaded "
                         f"({e['local_warm']['comments_per_s']:.1f} comments/s) |")
    lines.append(f"| peak RSS of the benchmark process | {result['peak_rss_mb']:.0f} MB |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--comments", type=int, default=200, help="comments taken from the demo exports")
    ap.add_argument("--backends", nargs="+", default=None, help="default: every backend the config knows")
    ap.add_argument("--skip-rerun", action="store_true")
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vm-bench-"))
    try:
        inputs = sample_inputs(args.comments, work)
        result: dict[str, Any] = {"comments": args.comments,
                                  "backends": [mine_rate(b, inputs, work) for b in available_backends(args.backends)]}
        result["rerun"] = None if args.skip_rerun else rerun_share(inputs, work)
        result["engines"] = None if args.skip_dask else engine_rates(inputs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["cores"], result["load_average_1m"] = os.cpu_count(), round(os.getloadavg()[0], 2)
    print(json.dumps(result, indent=2) if args.json else markdown(result))


if __name__ == "__main__":
    main()
