"""Human output for the CLI: summaries on stdout, progress and errors on stderr."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


class Printer:
    """Prints unless quiet; errors always go to stderr. Rich loads on the first thing printed, so a
    quiet or --json command (a cron job's rerun) does not pay for it."""

    def __init__(self, quiet: bool = False, as_json: bool = False) -> None:
        self.quiet, self.as_json = quiet, as_json

    @cached_property
    def out(self) -> Console:
        from rich.console import Console

        return Console(highlight=False, soft_wrap=True)

    @cached_property
    def err(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, highlight=False, soft_wrap=True)

    def line(self, text: str) -> None:
        if not self.quiet:
            self.out.print(text, markup=False)

    def error(self, text: str) -> None:
        self.err.print(f"error: {text}", markup=False, style="bold red")

    def ingest_summary(self, result: Any) -> None:
        c = result.counts
        self.line(f"read {c.rows} row(s) from {len(result.files)} file(s): {c.stored} stored, "
                  f"{c.duplicate} duplicate, {c.rejected} rejected")
        self.layouts(getattr(result, "layouts", []))
        examples = getattr(result, "reject_examples", {})
        for reason, n in sorted(result.reject_reasons.items(), key=lambda kv: -kv[1]):
            example = examples.get(reason)
            self.line(f"  rejected {n:>4}  {reason}" + (f"  (e.g. {example})" if example else ""))
        if result.quarantine_file:
            self.line(f"quarantine: {result.quarantine_file}")
        if getattr(result, "undated", 0):
            self.line(f"{result.undated} row(s) had no date: reports file them under the day they were collected "
                      "(if the export has a date column, name it with --map created_at=COLUMN)")

    def layouts(self, layouts: list[dict[str, Any]]) -> None:
        """Which column of each file was read as what (a wrong guess shows here, not only in the themes)."""
        from ..collectors.engine import describe_layout

        groups: dict[str, list[str]] = {}  # files read the same way share a line
        for layout in layouts:
            groups.setdefault(describe_layout({**layout, "file": ""}), []).append(layout["file"])
        for described, files in groups.items():
            names = files[0] if len(files) == 1 else (
                f"{len(files)} files ({', '.join(files[:3])}{', ...' if len(files) > 3 else ''})")
            self.line(f"  {names}{described}")

    def warning(self, text: str) -> None:
        if not self.quiet:
            self.err.print(f"warning: {text}", markup=False, style="yellow")

    def train_themes_summary(self, metrics: Mapping[str, Any], out: Any) -> None:
        """What train-themes learned: CV scores, then each theme out-of-fold, weakest first."""
        from ..themes.training import weakest_first

        for note in metrics.get("warnings", []):
            self.warning(note)
        self.line(f"trained on {metrics['rows']} rows, {metrics['labels']} theme(s): {out}")
        for k, v in metrics.items():
            if k not in ("rows", "labels", "per_theme", "warnings"):
                self.line(f"  {k}: {v}")
        per_theme = metrics.get("per_theme") or {}
        if per_theme:
            width = max(len(lab) for lab in per_theme)
            self.line(f"  {'theme (out-of-fold)':<{width}}  precision  recall     F1   rows")
            for lab, s, why in weakest_first(per_theme):
                self.line(f"  {lab:<{width}}  {s['precision']:>9.3f}  {s['recall']:>6.3f}  {s['f1']:>5.3f}  "
                          f"{s['support']:>5}" + (f"  needs more examples ({why})" if why else ""))

    def corrections_summary(self, metrics: Mapping[str, Any]) -> None:
        """Each theme's F1 on the held-out corrections, before (the store's themes) and after."""
        self.line(f"corrections: {metrics['corrections']} in the store, {metrics['trained_on_corrections']} "
                  "trained on")
        held = metrics.get("holdout")
        if not held:
            self.line("too few corrections to hold some out: no before/after scores (correct more cases)")
            return
        self.line(f"held-out corrections: {held['rows']}; F1 per theme, before -> after:")
        for theme in sorted(set(held["before"]) | set(held["after"])):
            b, a = held["before"].get(theme, {}), held["after"].get(theme, {})
            self.line(f"  {theme:<32} {b.get('f1', 0.0):.3f} -> {a.get('f1', 0.0):.3f}  "
                      f"(support {a.get('support', b.get('support', 0))})")

    def report_summary(self, summary: Mapping[str, Any], paths: Mapping[str, str]) -> None:
        for headline in summary.get("headlines", []):
            self.line(f"  {headline}")
        if "alerts" in summary:
            hook = summary.get("webhook") or {}
            sent = f"; webhook {hook['status']}" + (f" ({hook['error']})" if hook.get("error") else "") if hook else ""
            self.line(f"alerts this period: {summary['alerts']}{sent}")
        for fmt, path in paths.items():
            self.line(f"report ({fmt}): {path}")

    def status(self, info: Mapping[str, Any]) -> None:
        self.line(f"store: {info['database']} (schema {info['schema_revision']})")
        self.line("stored: " + ", ".join(f"{v} {k}" for k, v in info["counts"].items()))
        self.line("ledger: " + ", ".join(f"{v} {k}" for k, v in info["ledger"].items()))
        for run in info["runs"]:
            err = f"  ({run['error']})" if run["error"] else ""
            self.line(f"  {run['id']}  {run['kind']:<8} {run['status']:<12} {run['started_at']}{err}")


class RichProgress:
    """A progress bar on stderr for jobs; silent when the printer is quiet."""

    def __init__(self, printer: Printer) -> None:
        self.printer = printer
        self._progress: Progress | None = None
        self._task: Any = None

    def start(self, task: str, total: int | None) -> None:
        if self.printer.quiet:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TimeElapsedColumn(), console=self.printer.err,
                                  transient=False)
        self._progress.start()
        self._task = self._progress.add_task(task, total=total)

    def advance(self, n: int) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
