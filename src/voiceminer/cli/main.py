"""``voiceminer`` commands. Each is thin: parse options, call a library function, print.

Exit codes are those of :mod:`voiceminer.errors` (0 ok, 2 usage, 3 input, 4 config,
5 store, 6 strict-mode rejects, 7 missing optional dependency, 1 internal error).
"""

from __future__ import annotations

import json
import os
import sys

# The report's frames keep their strings in Arrow buffers; Arrow's default allocator (mimalloc) keeps
# freed chunks for reuse, so a report of 300,000 comments peaked 10% higher with it than with the
# system allocator. Set before pandas loads pyarrow; a user's own setting wins.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
# torch's OpenMP threads spin while they wait for each other by default; on a machine shared with other
# work (the usual case for a weekly job) that spinning cost the bf16 backend two thirds of its speed
# (scripts/bench_backends.py: torch-bf16 1.0-1.5x torch fp32 spinning, 3.7x passive). ONNX Runtime's own
# pool is not OpenMP. Read when torch first loads; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from datetime import date
from pathlib import Path
from typing import Any, Callable, Optional

import typer

from .. import jobs
from ..config import Settings
from ..errors import VoiceMinerError
from .output import Printer, RichProgress

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Mine customer comments for sentiment, themes, causes, needs and complaints.")

InputsArg = typer.Argument(..., help="Files, folders or glob patterns (csv, tsv, xlsx, json, jsonl, txt).")
PresetOpt = typer.Option(None, "--preset", help="Export preset: app_store, review_site, helpdesk, "
                                                  "nps_survey, csat_survey (default: detect from headers).")
MapOpt = typer.Option(None, "--map", help="Column mapping, e.g. 'text=body,id=review_id,created_at=date,"
                                           "rating=stars,meta=product;store'.")
JsonOpt = typer.Option(False, "--json", help="Print a machine-readable JSON summary on stdout.")
StrictOpt = typer.Option(False, "--strict", help="Exit with code 6 when any row is rejected.")
EngineOpt = typer.Option("local", "--engine", help="Where the analysis runs: local (this process) or dask "
                                                  "(work units claimed by the workers of a Dask cluster).")
SchedulerOpt = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:8786); without it "
                                                       "--engine dask starts a local cluster.")
BackendOpt = typer.Option(None, "--backend", help="How the shared model's encoders run: auto (the default: "
                                                   "torch-bf16 where the CPU has bf16 products, else onnx), torch, onnx "
                                                   "(ONNX Runtime fp32), onnx-int8 or torch-bf16 (bf16 weights; "
                                                   "needs AMX or AVX-512 bf16) (setting `backend`).")
WorkersOpt = typer.Option(2, "--workers", help="Worker processes of the local Dask cluster (one thread each).")


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Optional[Path] = typer.Option(None, "--config", help="TOML settings file (default ./voiceminer.toml)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Where the store, quarantine files and "
                                                                      "reports go (default ./voiceminer-data)."),
    database_url: Optional[str] = typer.Option(None, "--database-url", help="SQLAlchemy URL; default is a "
                                                                             "SQLite file in the data dir."),
    timezone: Optional[str] = typer.Option(None, "--timezone", help="IANA zone for dates without one and for "
                                                                     "periods (default UTC)."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Comments per batch (default 256)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
    backend: Optional[str] = BackendOpt,
) -> None:
    ctx.obj = {"settings_args": dict(config_path=config, overrides={
        "data_dir": data_dir, "database_url": database_url, "timezone": timezone, "batch_size": batch_size,
        "backend": backend}),
        "quiet": quiet}


def _run(ctx: typer.Context, as_json: bool, work: Callable[[Settings, Printer], Any]) -> None:
    printer = Printer(quiet=ctx.obj["quiet"] or as_json, as_json=as_json)
    try:
        settings = Settings.load(**ctx.obj["settings_args"])
        result = work(settings, printer)
        code = 0
        if isinstance(result, tuple):
            result, code = result
    except VoiceMinerError as exc:
        printer.error(str(exc))
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        printer.error("interrupted; the store is consistent - run the same command again to finish")
        raise typer.Exit(130) from None
    if as_json and result is not None:
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
    if code:
        raise typer.Exit(code)


def _collect_options(preset: Optional[str], mapping: Optional[str], source: Optional[str],
                     channel: Optional[str], encoding: Optional[str]) -> dict[str, Any]:
    from ..collectors import ColumnMapping

    return {"preset": preset, "mapping": ColumnMapping.parse(mapping) if mapping else None,
            "source": source, "channel": channel, "encoding": encoding}


@app.command()
def ingest(ctx: typer.Context, inputs: list[str] = InputsArg, preset: Optional[str] = PresetOpt,
           mapping: Optional[str] = MapOpt,
           source: Optional[str] = typer.Option(None, help="Source name used in comment ids."),
           channel: Optional[str] = typer.Option(None, help="Channel for every comment (review, survey, ...)."),
           encoding: Optional[str] = typer.Option(None, help="Force a text encoding instead of detecting it."),
           strict: bool = StrictOpt, as_json: bool = JsonOpt) -> None:
    """Store the comments of INPUTS; every row ends stored, duplicate or rejected (quarantined)."""

    def work(settings: Settings, out: Printer) -> Any:
        opts = _collect_options(preset, mapping, source, channel, encoding)
        result = jobs.ingest(settings, inputs, progress=RichProgress(out), strict=False, **opts)
        out.ingest_summary(result)
        return result.as_dict(), _strict_code(out, strict, result.counts.rejected, result.quarantine_file)

    _run(ctx, as_json, work)


@app.command()
def analyse(ctx: typer.Context, engine: str = EngineOpt, scheduler: Optional[str] = SchedulerOpt,
            workers: int = WorkersOpt, as_json: bool = JsonOpt) -> None:
    """Run the pipeline over every stored comment it has not analysed yet."""

    def work(settings: Settings, out: Printer) -> Any:
        result = jobs.analyse(settings, progress=RichProgress(out), engine=engine, scheduler=scheduler,
                              workers=workers)
        out.line(f"analysed {result.analysed} comment(s) with {', '.join(result.pipeline)}")
        return result.as_dict()

    _run(ctx, as_json, work)


@app.command()
def mine(ctx: typer.Context, inputs: list[str] = InputsArg, preset: Optional[str] = PresetOpt,
         mapping: Optional[str] = MapOpt, source: Optional[str] = typer.Option(None, help="Source name."),
         channel: Optional[str] = typer.Option(None, help="Channel for every comment."),
         encoding: Optional[str] = typer.Option(None, help="Force a text encoding."),
         engine: str = EngineOpt, scheduler: Optional[str] = SchedulerOpt, workers: int = WorkersOpt,
         strict: bool = StrictOpt, as_json: bool = JsonOpt) -> None:
    """The weekly job: ingest INPUTS, analyse what is new, write the report."""

    def work(settings: Settings, out: Printer) -> Any:
        opts = _collect_options(preset, mapping, source, channel, encoding)
        result = jobs.mine(settings, inputs, progress=RichProgress(out), engine=engine, scheduler=scheduler,
                           workers=workers, **opts)
        out.ingest_summary(result.ingest)
        out.line(f"analysed {result.analyse.analysed} new comment(s)")
        out.report_summary(result.summary, result.report)
        return result.as_dict(), _strict_code(out, strict, result.ingest.counts.rejected,
                                              result.ingest.quarantine_file)

    _run(ctx, as_json, work)


@app.command()
def status(ctx: typer.Context, runs: int = typer.Option(10, help="How many recent runs to list."),
           as_json: bool = JsonOpt) -> None:
    """What is stored, and the last runs."""

    def work(settings: Settings, out: Printer) -> Any:
        info = jobs.status(settings, runs=runs)
        out.status(info)
        return info

    _run(ctx, as_json, work)


@app.command()
def report(ctx: typer.Context,
           since: Optional[str] = typer.Option(None, help="First day (YYYY-MM-DD), inclusive."),
           until: Optional[str] = typer.Option(None, help="Last day (YYYY-MM-DD), exclusive."),
           period: Optional[str] = typer.Option(None, help="day, week, month or quarter (default week)."),
           out_dir: Optional[Path] = typer.Option(None, "--out", help="Folder for the report files."),
           as_json: bool = JsonOpt) -> None:
    """Rebuild the report from the store for any date range."""

    def work(settings: Settings, out: Printer) -> Any:
        from ..report import build_report

        built = build_report(settings, store=jobs.open_store(settings), since=_day(since, "--since"),
                             until=_day(until, "--until"), period=period, out_dir=out_dir)
        out.report_summary(built.summary, built.paths)
        return {"report": built.paths, "summary": built.summary}

    _run(ctx, as_json, work)


@app.command()
def tag(ctx: typer.Context, inputs: list[str] = InputsArg,
        out: Path = typer.Option(..., "--out", help="JSON lines output file (one object per input row)."),
        taxonomy: Optional[Path] = typer.Option(None, help="Theme taxonomy YAML (default: the built-in CX one)."),
        themes_model: Optional[Path] = typer.Option(None, "--themes-model", help="Folder of a trained themes "
                                                                                 "model (train-themes)."),
        preset: Optional[str] = PresetOpt, mapping: Optional[str] = MapOpt,
        encoding: Optional[str] = typer.Option(None, help="Force a text encoding."),
        as_json: bool = JsonOpt) -> None:
    """Tag INPUTS with sentiment, themes and causes, needs and complaint flags; nothing is stored."""

    def work(settings: Settings, out_: Printer) -> Any:
        from ..tagging import tag as tag_inputs

        opts = _collect_options(preset, mapping, None, None, encoding)
        result = tag_inputs(settings, inputs, out, taxonomy=taxonomy, themes_model=themes_model,
                            progress=RichProgress(out_), **opts)
        out_.line(f"tagged {result.tagged} comment(s), {result.rejected} rejected row(s): {result.out}")
        out_.layouts(result.layouts)
        return result.as_dict()

    _run(ctx, as_json, work)


@app.command()
def discover(ctx: typer.Context, inputs: list[str] = InputsArg,
             out: Path = typer.Option(..., "--out", help="JSON lines: one {id, cluster} per input row, then "
                                                        "one line per cluster."),
             taxonomy: Optional[Path] = typer.Option(None, help="Cluster only what this taxonomy does not cover."),
             preset: Optional[str] = PresetOpt, mapping: Optional[str] = MapOpt, as_json: bool = JsonOpt) -> None:
    """Cluster comments (or what a taxonomy misses) into candidate new themes, deterministically."""

    def work(settings: Settings, out_: Printer) -> Any:
        from ..discovery import discover_file

        result = discover_file(settings, inputs, out, taxonomy=taxonomy,
                               **_collect_options(preset, mapping, None, None, None))
        cover = f"; taxonomy covers {result.coverage:.0%} of sentences" if result.coverage is not None else ""
        out_.line(f"{result.clustered} of {result.comments} comment(s) in {result.clusters} cluster(s){cover}: "
                  f"{result.out}")
        return result.as_dict()

    _run(ctx, as_json, work)


@app.command("train-themes")
def train_themes(ctx: typer.Context,
                 labeled: Optional[Path] = typer.Option(None, "--labeled", help="CSV with columns text,themes "
                                                                              "(theme ids separated by ';')."),
                 from_store: bool = typer.Option(False, "--from-store", help="Train on the triagers' theme "
                                                 "corrections in the store (plus --labeled if given) and print "
                                                 "each theme's F1 before and after on held-out corrections."),
                 holdout: float = typer.Option(0.2, "--holdout", min=0.0, max=0.9,
                                               help="With --from-store: share of corrections held out to score."),
                 out: Path = typer.Option(..., "--out", help="Folder for the trained themes model."),
                 taxonomy: Optional[Path] = typer.Option(None, help="Taxonomy the theme ids come from "
                                                                     "(default: the built-in one)."),
                 lexical: Optional[float] = typer.Option(None, "--lexical-weight", min=0.0,
                                                         help="Weight of the word n-gram block beside the "
                                                              "sentence vector (default: chosen by "
                                                              "cross-validation from 1, 0.5, 2); 0 trains on "
                                                              "the vector alone."),
                 fine_tune: Optional[str] = typer.Option(
                     None, "--fine-tune", metavar="auto|on|off",
                     help="Fine-tune the shared encoder on the labeled file first: low-rank (LoRA) adapters "
                          "trained contrastively on pairs of same-theme and different-theme sentences "
                          "(SetFit-style), then the head on the adapted vectors. The adapter (about 2 MB "
                          "at rank 8) is saved in --out and merged when tag/mine load the model; its vectors are "
                          "cached under their own encoder key. 'auto' first compares frozen and fine-tuned "
                          "out of fold (k folds inside the file, fixed seed), prints each theme's F1 for both "
                          "and keeps the winner (about twice the time of 'on'; 'on' is estimated at 7-10 minutes "
                          "for 2,500 sentences on 2 idle cores, from measured step times). Default: off (out of fold on the public airline "
                          "reasons the frozen shared encoder won; see voiceminer.themes.finetune)."),
                 fine_tune_epochs: Optional[float] = typer.Option(
                     None, "--fine-tune-epochs", min=0.05, help="Fine-tuning length: sentences seen per labeled "
                     "sentence (default 1)."),
                 fine_tune_folds: Optional[int] = typer.Option(
                     None, "--fine-tune-folds", min=2, max=10, help="Folds of --fine-tune auto's comparison "
                     "(default 2)."),
                 fine_tune_objective: Optional[str] = typer.Option(
                     None, "--fine-tune-objective", metavar="contrastive|classify",
                     help="What the adapters learn: 'contrastive' (default: pairs, SetFit-style, rank 8 on the "
                          "top 4 layers) or 'classify' (a linear layer on the pooled vector learns the themes "
                          "with the adapters: rank 16 on the top 6 layers, 2 epochs; on validation SemEval-2014 "
                          "categories 0.866 -> 0.871, airline reasons 0.611 -> 0.581: let --fine-tune auto "
                          "judge it out of fold; about twice the time of contrastive)."),
                 as_json: bool = JsonOpt) -> None:
    """Train a themes model from labeled examples; `tag`/`mine` use it with --themes-model / themes_model."""

    def work(settings: Settings, out_: Printer) -> Any:
        import shlex
        import time
        from dataclasses import replace

        from ..errors import ConfigError
        from ..themes.finetune import DEFAULT_MODE, MODES, FineTuneConfig, comparison_lines

        started = time.perf_counter()
        if labeled is None and not from_store:
            raise ConfigError("give --labeled FILE, --from-store, or both")
        mode = fine_tune or ("off" if from_store else DEFAULT_MODE)
        if mode not in MODES:
            raise ConfigError(f"--fine-tune must be one of {', '.join(MODES)}, got {mode!r}")
        if from_store and mode != "off":
            raise ConfigError("--fine-tune works with --labeled alone (not yet with --from-store)")
        defaults = (FineTuneConfig.classify() if fine_tune_objective == "classify"
                    else FineTuneConfig(objective=fine_tune_objective or "contrastive"))  # checks the name
        ft_config = replace(defaults, epochs=fine_tune_epochs or defaults.epochs, folds=fine_tune_folds or defaults.folds)
        command = shlex.join(["voiceminer", "train-themes", *(["--labeled", str(labeled)] if labeled else []),
                              *(["--from-store", "--holdout", str(holdout)] if from_store else []), "--out", str(out),
                              *(["--taxonomy", str(taxonomy)] if taxonomy else []),
                              *(["--lexical-weight", str(lexical)] if lexical is not None else []),
                              *(["--fine-tune", mode] if fine_tune else []),
                              *(["--fine-tune-epochs", str(fine_tune_epochs)] if fine_tune_epochs else []),
                              *(["--fine-tune-folds", str(fine_tune_folds)] if fine_tune_folds else []),
                              *(["--fine-tune-objective", fine_tune_objective] if fine_tune_objective else [])])
        if from_store:
            from ..triage.learn import train_from_corrections

            metrics = train_from_corrections(settings, out, store=jobs.open_store(settings), labeled=labeled,
                                             holdout=holdout, taxonomy=taxonomy, progress=RichProgress(out_),
                                             lexical=lexical, command=command)
            out_.train_themes_summary(metrics, out)
            out_.corrections_summary(metrics)
        else:
            metrics = jobs.train_themes(settings, labeled, out, taxonomy=taxonomy, progress=RichProgress(out_),
                                        lexical=lexical, command=command, fine_tune=mode, fine_tune_config=ft_config)
            tuned = metrics.pop("fine_tune", None)
            out_.train_themes_summary(metrics, out)
            if tuned is not None:
                metrics["fine_tune"] = tuned
                for line in comparison_lines(tuned["comparison"]) if "comparison" in tuned else []:
                    out_.line(line)
                out_.line("encoder fine-tuned on the file (adapter saved with the model)" if tuned["used"] else
                          "encoder not fine-tuned: the frozen vectors won out of fold")
        metrics["seconds"] = round(time.perf_counter() - started, 1)
        out_.line(f"train-themes took {metrics['seconds']:.0f} s")
        return {"out": str(out), **metrics}

    _run(ctx, as_json, work)


@app.command()
def evaluate(ctx: typer.Context,
             datasets: Optional[Path] = typer.Option(None, help="Labeled corpora (default ../shared/datasets "
                                                                 "or $VOICEMINER_DATASETS)."),
             models: Optional[Path] = typer.Option(None, help="Models folder (default ./models)."),
             only: Optional[str] = typer.Option(None, help="Comma-separated groups: sentiment, binary, themes, "
                                                           "discovery."),
             backend: Optional[str] = BackendOpt,
             as_json: bool = JsonOpt) -> None:
    """Every model on the validation splits, beside VADER and frozen encoder + logistic regression."""

    def work(settings: Settings, out: Printer) -> Any:
        from ..evaluation.evaluate import evaluate as run_evaluation, format_table

        chosen = settings.with_(backend=backend) if backend else settings
        rows = run_evaluation(datasets, models or settings.models_dir, settings.data_dir / "cache" / "eval-vectors",
                              only.split(",") if only else None, log=out.line, shared_model=settings.shared_model,
                              backend=chosen.backend)
        out.line(f"backend: {chosen.backend}")
        out.line(format_table(rows))
        return [r.as_dict() for r in rows]

    _run(ctx, as_json, work)


def _day(value: Optional[str], option: str) -> Optional[date]:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        from ..errors import ConfigError
        raise ConfigError(f"{option} must be a date like 2026-09-28, got {value!r}") from None


def _strict_code(out: Printer, strict: bool, rejected: int, quarantine: Optional[Path]) -> int:
    """Exit code 6 under --strict when rows were rejected (after the summary is printed)."""
    from ..errors import StrictModeError

    if strict and rejected:
        out.error(f"--strict: {rejected} row(s) rejected; see {quarantine}")
        return StrictModeError.exit_code
    return 0




# -- the triage service: serve, users, tokens -------------------------------------------------
users_app = typer.Typer(no_args_is_help=True, help="Accounts of the triage service (viewer, triager, admin).")
tokens_app = typer.Typer(no_args_is_help=True, help="API tokens for scripts (Authorization: Bearer <token>).")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")


@app.command()
def serve(ctx: typer.Context, host: str = typer.Option("127.0.0.1", help="Address to listen on."),
          port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
          access_log: bool = typer.Option(False, "--access-log", help="Log every request (paths and query "
                                                                      "strings, which may hold search words)."),
          workers: Optional[int] = typer.Option(None, "--workers", min=1, max=64,
                                                help="Worker processes (default: one per CPU core, at most 8).")
          ) -> None:
    """Serve the triage web UI and JSON API (uvicorn) on the configured store."""

    def work(settings: Settings, out: Printer) -> Any:
        from ..service import default_workers, serve as run_service

        count = workers or default_workers()
        out.line(f"serving {settings.database_url.split('@')[-1]} on http://{host}:{port} with {count} "
                 f"worker{'s' if count > 1 else ''} (Ctrl+C stops)")
        run_service(settings, host=host, port=port, workers=count, access_log=access_log)

    _run(ctx, False, work)


def read_password(prompt: str, from_stdin: bool) -> str:
    """The first line of stdin, or a hidden, confirmed prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(ctx: typer.Context, name: str = typer.Argument(..., help="Login name."),
              role: str = typer.Option(..., "--role", help="viewer, triager or admin."),
              password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from the "
                                                                                  "first line of stdin.")) -> None:
    """Create an account; the password comes from a prompt (or stdin with --password-stdin)."""

    def work(settings: Settings, out: Printer) -> Any:
        from ..jobs import open_store
        from ..triage import add_user

        user = add_user(open_store(settings), name, role, read_password(f"password for {name}", password_stdin))
        out.line(f"added {user.role} {user.name}")
        return user.as_dict()

    _run(ctx, False, work)


@users_app.command("list")
def users_list(ctx: typer.Context, as_json: bool = JsonOpt) -> None:
    """The accounts, with role and whether each is active."""

    def work(settings: Settings, out: Printer) -> Any:
        from ..jobs import open_store
        from ..triage import list_users

        found = list_users(open_store(settings))
        for u in found:
            out.line(f"{u.name:<24} {u.role:<8} {'active' if u.active else 'off'}")
        if not found:
            out.line("no accounts yet: voiceminer users add NAME --role admin")
        return [u.as_dict() for u in found]

    _run(ctx, as_json, work)


@tokens_app.command("create")
def tokens_create(ctx: typer.Context, user: str = typer.Option(..., "--user", help="The account the token "
                                                                                   "acts as."),
                  label: str = typer.Option("", help="A note on what the token is for.")) -> None:
    """A new API token for USER, printed once (only its hash is stored)."""

    def work(settings: Settings, out: Printer) -> Any:
        from ..jobs import open_store
        from ..triage import create_token

        token = create_token(open_store(settings), user, label)
        sys.stdout.write(token + "\n")  # always printed, even with --quiet: it is the command's output
        return None

    _run(ctx, False, work)


# Command groups in their own modules register on `app` (and `users_app`) when imported here.
from . import privacy_cmds  # noqa: E402,F401  (retention)
from . import triage_cmds  # noqa: E402,F401  (labels, cases, users passwd)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
