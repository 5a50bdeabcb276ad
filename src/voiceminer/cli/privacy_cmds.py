"""``voiceminer retention apply``: delete comments older than ``retention_days`` with everything
derived from them (see :mod:`voiceminer.storage.retention`)."""

from __future__ import annotations

from typing import Any

import typer

from .. import jobs
from ..config import Settings
from .main import JsonOpt, _run, app
from .output import Printer

retention_app = typer.Typer(no_args_is_help=True, help="Delete customer data older than retention_days.")
app.add_typer(retention_app, name="retention")


@retention_app.command("apply")
def retention_apply(ctx: typer.Context,
                    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be deleted; "
                                                                           "change nothing."),
                    as_json: bool = JsonOpt) -> None:
    """Delete comments older than retention_days (by date, or by ingest time when undated) with their
    sentences, annotations, cases, labels and unused vectors; strip customer text from old ledger
    rows; delete old quarantine and report files. The weekly job (mine) does this itself."""

    def work(settings: Settings, printer: Printer) -> Any:
        from ..storage.retention import apply_retention

        result = apply_retention(jobs.open_store(settings), settings, dry_run=dry_run)
        if result["cutoff"] is None:
            printer.line("retention_days is 0: keep forever, nothing deleted")
            return result
        counts = result["counts"]
        verb = "would delete" if dry_run else "deleted"
        printer.line(f"{verb} {counts['comments']} comment(s) dated before {result['cutoff'][:10]} "
                     f"(retention {settings.retention_days} days)")
        for name, n in counts.items():
            if name != "comments" and n:
                printer.line(f"  {name.replace('_', ' ')}: {n}")
        return result

    _run(ctx, as_json, work)
