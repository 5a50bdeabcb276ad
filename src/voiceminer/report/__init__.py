"""The theme report: figures computed from the store, written as HTML, Markdown, CSV, XLSX and JSON.

The same store and the same bounds always give the same report (no timestamps of
generation in the content), so rerunning the weekly job reproduces it. Alerts for the
current period are written as JSON and Markdown next to the report and, when
``alert_webhook`` is set, POSTed once per distinct alert set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ConfigError
from ..storage import Store
from .figures import compute_figures
from .files import atomic_write_text
from .summary import executive_summary

FORMATS = ("html", "json", "md", "csv", "xlsx")


@dataclass
class Report:
    paths: dict[str, str]
    figures: dict[str, Any]
    webhook: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, Any]:
        out = {"overall": self.figures["overall"], "headlines": self.figures["headlines"],
               "alerts": len(self.figures["alerts"])}
        if self.webhook:
            out["webhook"] = self.webhook
        return out


def build_report(settings: Settings, *, store: Store, since: date | None = None, until: date | None = None,
                 period: str | None = None, formats: Sequence[str] = FORMATS,
                 out_dir: Path | None = None) -> Report:
    """Compute the figures for ``[since, until)`` and write the report files.

    Dates are calendar days in ``settings.timezone``; ``until`` is exclusive.
    """
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ConfigError(f"unknown report format(s) {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}")
    if since and until and since >= until:
        raise ConfigError(f"--since ({since}) must be before --until ({until})")
    period = period or settings.report_period
    if period not in ("day", "week", "month", "quarter"):
        raise ConfigError(f"period must be day, week, month or quarter, got {period!r}")
    figures = compute_figures(settings, store, since, until, period)
    figures["headlines"] = executive_summary(figures)
    out_dir = Path(out_dir or settings.reports_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"report_{period}_{figures['meta']['first_day'] or 'all'}_{figures['meta']['last_day'] or 'all'}"
    paths: dict[str, str] = {}
    if "json" in formats:
        path = out_dir / f"{stem}.json"
        atomic_write_text(path, json.dumps(figures, indent=2, ensure_ascii=False, default=str, allow_nan=False))
        paths["json"] = str(path)
    if "html" in formats:
        from .html import render_html

        path = out_dir / f"{stem}.html"
        atomic_write_text(path, render_html(figures))
        paths["html"] = str(path)
    if "md" in formats:
        from .exports import to_markdown

        path = out_dir / f"{stem}.md"
        atomic_write_text(path, to_markdown(figures))
        paths["md"] = str(path)
    if "csv" in formats:
        from .exports import write_csv

        paths["csv"] = str(write_csv(figures, out_dir / f"{stem}.csv"))
    if "xlsx" in formats:
        from .exports import write_xlsx

        paths["xlsx"] = str(write_xlsx(figures, out_dir / f"{stem}.xlsx"))
    from .alerts import deliver_alerts

    alert_paths, webhook = deliver_alerts(figures, out_dir, settings.alert_webhook)
    paths.update(alert_paths)
    return Report(paths, figures, webhook)


__all__ = ["FORMATS", "Report", "build_report", "compute_figures"]
