"""The theme report: figures computed from the store, written as self-contained HTML and JSON.

The same store and the same bounds always give the same report (no timestamps of
generation in the content), so rerunning the weekly job reproduces it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Sequence
from zoneinfo import ZoneInfo

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from ..aggregate import assign_period, channel_breakdown, comment_frame, overall, period_sentiment
from ..config import Settings
from ..storage import Store
from . import charts

KEYS = ["negative", "neutral", "positive"]
FORMATS = ("html", "json")


@dataclass
class Report:
    paths: dict[str, str]
    figures: dict[str, Any]

    @property
    def summary(self) -> dict[str, Any]:
        return {"overall": self.figures["overall"], "headlines": self.figures["headlines"]}


def build_report(settings: Settings, *, store: Store, since: date | None = None, until: date | None = None,
                 period: str | None = None, formats: Sequence[str] = FORMATS,
                 out_dir: Path | None = None) -> Report:
    """Compute the figures for ``[since, until)`` and write the report files.

    Dates are calendar days in ``settings.timezone``; ``until`` is exclusive.
    """
    unknown = set(formats) - set(FORMATS)
    if unknown:
        from ..errors import ConfigError
        raise ConfigError(f"unknown report format(s) {', '.join(sorted(unknown))}; choose from {', '.join(FORMATS)}")
    period = period or settings.report_period
    figures = compute_figures(settings, store, since, until, period)
    out_dir = Path(out_dir or settings.reports_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"report_{period}_{figures['meta']['first_day'] or 'all'}_{figures['meta']['last_day'] or 'all'}"
    paths: dict[str, str] = {}
    if "json" in formats:
        path = out_dir / f"{stem}.json"
        path.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        paths["json"] = str(path)
    if "html" in formats:
        path = out_dir / f"{stem}.html"
        path.write_text(render_html(figures), encoding="utf-8")
        paths["html"] = str(path)
    return Report(paths, figures)


def _bound(day: date | None, tz: str) -> datetime | None:
    return None if day is None else datetime.combine(day, time.min, tzinfo=ZoneInfo(tz))


def compute_figures(settings: Settings, store: Store, since: date | None, until: date | None,
                    period: str) -> dict[str, Any]:
    frame = comment_frame(store, _bound(since, settings.timezone), _bound(until, settings.timezone))
    frame["period"] = assign_period(frame["created_at"], period, settings.timezone)
    periods = period_sentiment(frame)
    channels = channel_breakdown(frame)
    head = overall(frame)
    first_day = since.isoformat() if since else (periods["period"].iloc[0] if len(periods) else None)
    last_day = until.isoformat() if until else (periods["period"].iloc[-1] if len(periods) else None)
    figures = {
        "meta": {"period": period, "timezone": settings.timezone, "first_day": first_day, "last_day": last_day,
                 "since": since.isoformat() if since else None, "until": until.isoformat() if until else None},
        "overall": head,
        "periods": periods.to_dict(orient="records"),
        "channels": channels.to_dict(orient="records"),
        "quotes": _quotes(frame),
        "data_quality": {"input_rows": store.input_rows_summary()},
        "producers": _producers(store),
    }
    figures["headlines"] = headlines(figures)
    return figures


def _producers(store: Store) -> list[str]:
    """Which stage versions made the tags in the store (shown in the report's footer)."""
    import sqlalchemy as sa

    from ..storage import schema as t

    query = sa.select(t.annotations.c.producer, t.annotations.c.producer_version).distinct()
    return sorted(f"{r['producer']} {r['producer_version']}" for r in store.query(query))


def _quotes(frame: pd.DataFrame, n: int = 5) -> dict[str, list[dict[str, Any]]]:
    """The clearest examples: strongest sentiment among readable-length comments, newest period first."""
    readable = frame[frame["text"].str.len().between(30, 400) & frame["sentiment_score"].notna()]
    out = {}
    for label, ascending in (("negative", True), ("positive", False)):
        pool = readable[readable["sentiment"] == label].drop_duplicates("text")
        pool = pool.sort_values(["period", "sentiment_score", "id"], ascending=[False, ascending, True],
                                na_position="last")
        top = pool.groupby("period", sort=False).head(2).head(n)
        out[label] = [{"id": r.id, "text": r.text, "channel": r.channel, "period": r.period,
                       "score": r.sentiment_score} for r in top.itertuples()]
    return out


def headlines(figures: dict[str, Any]) -> list[str]:
    """A few plain sentences generated from the numbers, for the top of the report."""
    o, periods, channels = figures["overall"], figures["periods"], figures["channels"]
    if not o["comments"]:
        return ["No comments are stored for this range yet: run `voiceminer mine` on an export."]
    lines = [f"{o['comments']:,} comments from {o['sources']} source(s) and {o['channels']} channel(s); "
             f"{o['negative_share']:.0%} negative, {o['positive_share']:.0%} positive."]
    if len(periods) >= 2:
        last, prev = periods[-1], periods[-2]
        delta = last["net_sentiment"] - prev["net_sentiment"]
        lines.append(f"Latest {figures['meta']['period']} ({last['period']}): {last['comments']} comments, net "
                     f"sentiment {last['net_sentiment']:+.0f} ({delta:+.0f} points on the {figures['meta']['period']} before).")
        worst = min(periods, key=lambda p: (p["net_sentiment"], p["period"]))
        lines.append(f"Lowest net sentiment: {worst['period']} at {worst['net_sentiment']:+.0f} "
                     f"({worst['negative_share']:.0%} negative of {worst['comments']}).")
    if channels:
        worst_c = max(channels, key=lambda c: (c["negative_share"], c["channel"]))
        lines.append(f"Most negative channel: {worst_c['channel']} ({worst_c['negative_share']:.0%} negative).")
    return lines


def render_html(figures: dict[str, Any]) -> str:
    env = Environment(loader=PackageLoader("voiceminer", "report/templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    rows = [(p["period"], {k: p[k] for k in KEYS}) for p in figures["periods"]]
    return env.get_template("report.html.j2").render(
        f=figures, keys=KEYS,
        volume_chart=charts.stacked_bars(rows, KEYS, title="Comments per period by sentiment"),
        legend=charts.legend(KEYS), share_bar=charts.share_bar,
    )
