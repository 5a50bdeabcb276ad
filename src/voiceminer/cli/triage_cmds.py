"""``voiceminer labels ...`` and ``voiceminer cases ...``: thin commands over :mod:`voiceminer.triage`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from .. import jobs
from ..config import Settings
from .main import JsonOpt, _run, app, read_password, users_app
from .output import Printer

labels_app = typer.Typer(no_args_is_help=True, help="Triagers' corrections (labels).")
cases_app = typer.Typer(no_args_is_help=True, help="Triage cases opened from flagged complaints.")
app.add_typer(labels_app, name="labels")
app.add_typer(cases_app, name="cases")


@labels_app.command("export")
def labels_export(ctx: typer.Context,
                  out: Path = typer.Option(..., "--out", help="CSV to write (columns text,themes,comment_id)."),
                  as_json: bool = JsonOpt) -> None:
    """Write the theme and cause corrections as a train-themes CSV."""

    def work(settings: Settings, printer: Printer) -> Any:
        from ..triage import export_labels

        rows = export_labels(jobs.open_store(settings), out)
        printer.line(f"{rows} corrected comment(s) written to {out}")
        return {"out": str(out), "rows": rows}

    _run(ctx, as_json, work)


@cases_app.command("open")
def cases_open(ctx: typer.Context, as_json: bool = JsonOpt) -> None:
    """Open cases for analysed comments the case rules select (the job does this itself; use this
    after changing the rules, or for a store analysed before triage existed)."""

    def work(settings: Settings, printer: Printer) -> Any:
        from ..triage import escalate_overdue, open_cases

        store = jobs.open_store(settings)
        run_id = store.begin_run("cases", {})
        opened = open_cases(store, settings, run_id)
        escalated = escalate_overdue(store, settings)
        store.finish_run(run_id, "completed", {"opened": opened, "escalated": escalated})
        printer.line(f"{opened} case(s) opened, {escalated} escalated as overdue")
        return {"opened": opened, "escalated": escalated}

    _run(ctx, as_json, work)


@users_app.command("passwd")
def users_passwd(ctx: typer.Context, name: str = typer.Argument(..., help="Login name."),
                 password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the new password from "
                                                     "the first line of stdin.")) -> None:
    """Set a user's password (from a prompt, or stdin with --password-stdin); their sessions end."""

    def work(settings: Settings, printer: Printer) -> Any:
        from ..triage import set_password

        set_password(jobs.open_store(settings), name, read_password(f"new password for {name}", password_stdin))
        printer.line(f"password of {name} changed")
        return {"name": name}

    _run(ctx, False, work)
