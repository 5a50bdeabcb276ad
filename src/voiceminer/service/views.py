"""Data the pages and the API share: queue filters from a request, the reports folder, theme
figures from the newest report, and the comment text cut into highlighted pieces.

>>> [(p["text"], p["kinds"]) for p in highlight("Late again, cancel it.",
...     [{"kind": "theme", "start": 0, "end": 10}, {"kind": "cue", "start": 12, "end": 18}])]
[('Late again', ['theme']), (', ', []), ('cancel', ['cue']), (' it.', [])]
>>> filters_from({"status": "new", "overdue": "yes", "period": "7d"}, now=datetime(2026, 1, 8, tzinfo=UTC)).since
datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from ..errors import NotFoundError, TriageError
from ..triage.cases import PRIORITIES, STATUSES, CaseFilter

PERIODS = {"today": 0, "7d": 7, "30d": 30, "90d": 90}
FILTER_KEYS = ("status", "priority", "team", "assignee", "theme", "overdue", "channel", "period", "since",
               "until", "q")
REPORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
REPORT_TYPES = {".html": "text/html; charset=utf-8", ".md": "text/markdown; charset=utf-8",
                ".csv": "text/csv; charset=utf-8", ".json": "application/json",
                ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
EVIDENCE_KINDS = ("theme", "cause", "need", "cue", "complaint")


def _blank(value: Any) -> Any:
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _day(value: str, name: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), time.min, tzinfo=UTC)
    except ValueError:
        raise TriageError(f"{name} must be a date like 2026-09-28, got {value!r}") from None


def _choice(value: str | None, allowed: Iterable[str], name: str) -> list[str] | None:
    if value is None:
        return None
    values = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in values if v not in allowed]
    if bad:
        raise TriageError(f"unknown {name} {bad[0]!r}; choose from {', '.join(allowed)}")
    return values or None


def _flag(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    low = value.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise TriageError(f"{name} must be true or false, got {value!r}")


def filters_from(params: Mapping[str, Any], now: datetime | None = None) -> CaseFilter:
    """A :class:`CaseFilter` from query parameters; empty values mean 'any', bad ones a TriageError."""
    p = {k: _blank(params.get(k)) for k in FILTER_KEYS}
    since = _day(p["since"], "since") if p["since"] else None
    until = _day(p["until"], "until") + timedelta(days=1) if p["until"] else None  # until: inclusive day
    if p["period"]:
        if p["period"] not in PERIODS:
            raise TriageError(f"unknown period {p['period']!r}; choose from {', '.join(PERIODS)}")
        today = datetime.combine((now or datetime.now(UTC)).date(), time.min, tzinfo=UTC)
        since = today - timedelta(days=PERIODS[p["period"]])
    if since and until and since >= until:
        raise TriageError("since must be before until")
    for key in ("q", "theme", "team", "channel"):
        if p[key] is not None and len(p[key]) > 200:
            raise TriageError(f"{key} is too long (200 characters at most)")
    assignee = params.get("assignee")
    return CaseFilter(status=_choice(p["status"], STATUSES, "status"),
                      priority=_choice(p["priority"], PRIORITIES, "priority"), team=p["team"],
                      assignee="" if assignee == "-" else p["assignee"], theme=p["theme"],
                      overdue=_flag(p["overdue"], "overdue"), channel=p["channel"], since=since, until=until,
                      q=p["q"])


# -- reports ----------------------------------------------------------------------
def list_reports(reports_dir: Path) -> list[dict[str, Any]]:
    """The files in the reports folder, newest first."""
    if not reports_dir.is_dir():
        return []
    out = []
    for path in reports_dir.iterdir():
        if path.is_file() and REPORT_NAME.match(path.name) and path.suffix in REPORT_TYPES:
            st = path.stat()
            out.append({"name": path.name, "kind": path.suffix[1:], "bytes": st.st_size,
                        "modified": datetime.fromtimestamp(st.st_mtime, UTC).isoformat(timespec="seconds")})
    return sorted(out, key=lambda r: (r["modified"], r["name"]), reverse=True)


def report_path(reports_dir: Path, name: str) -> Path:
    """The file ``name`` inside the reports folder; anything else (``..``, slashes, links out) is 404."""
    if not REPORT_NAME.match(name) or Path(name).suffix not in REPORT_TYPES:
        raise NotFoundError(f"no report file {name!r}")
    root = reports_dir.resolve()
    path = (root / name).resolve()
    if path.parent != root or not path.is_file():
        raise NotFoundError(f"no report file {name!r}")
    return path


def latest_figures(reports_dir: Path) -> dict[str, Any] | None:
    """The figures of the newest report (its JSON), or None when no report was written yet."""
    for item in list_reports(reports_dir):
        if item["kind"] == "json" and item["name"].startswith("report_"):
            try:
                return json.loads((reports_dir / item["name"]).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
    return None


def theme_list(labels: Mapping[str, str], figures: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Every taxonomy theme with its report figures (comments, share, net sentiment) where it has any."""
    by_id = {t["id"]: t for t in (figures or {}).get("themes", [])}
    out = []
    for tid, label in labels.items():
        fig = by_id.get(tid, {})
        out.append({"id": tid, "label": label, "parent": tid.split(".")[0] if "." in tid else None,
                    "comments": fig.get("comments", 0), "share": fig.get("share"),
                    "net_sentiment": fig.get("net_sentiment"), "current": fig.get("current")})
    return sorted(out, key=lambda t: (-(t["comments"] or 0), t["id"]))


def theme_figures(theme_id: str, labels: Mapping[str, str], figures: Mapping[str, Any] | None) -> dict[str, Any]:
    """One theme's trend, causes and quotes as the newest report computed them."""
    if theme_id not in labels:
        raise NotFoundError(f"no theme {theme_id!r} in the taxonomy")
    figures = figures or {}
    summary = next((t for t in figures.get("themes", []) if t["id"] == theme_id), None)
    causes = next((r for r in figures.get("root_causes", []) if r.get("theme") == theme_id), None)
    cause_rows = [c for c in figures.get("causes", []) if c["id"].startswith(theme_id + ".")]
    quotes = (figures.get("quotes") or {}).get(theme_id) or {}
    return {"id": theme_id, "label": labels[theme_id], "report": figures.get("meta"),
            "summary": summary, "series": (summary or {}).get("series", []),
            "causes": (causes or {}).get("causes") or cause_rows, "quotes": quotes}


# -- evidence highlighting --------------------------------------------------------------
def highlight(text: str, spans: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Cut ``text`` at every span boundary; each piece lists the kinds of evidence covering it."""
    marks = []
    for s in spans:
        start, end, kind = s.get("start"), s.get("end"), s.get("kind")
        if isinstance(start, int) and isinstance(end, int) and 0 <= start < end and kind in EVIDENCE_KINDS:
            marks.append((start, min(end, len(text)), kind, s.get("label")))
    cuts = sorted({0, len(text), *(m[0] for m in marks), *(m[1] for m in marks)})
    pieces = []
    for a, b in pairwise(cuts):
        if a >= b:
            continue
        cover = [m for m in marks if m[0] <= a and b <= m[1]]
        kinds = sorted({m[2] for m in cover}, key=EVIDENCE_KINDS.index)
        labels = sorted({f"{m[2]}: {m[3]}" for m in cover if m[3]})
        pieces.append({"text": text[a:b], "kinds": kinds, "title": "; ".join(labels)})
    return pieces


# -- formatting for the templates -------------------------------------------------------
def _as_dt(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def when(value: Any) -> str:
    """A timestamp as '30 Nov 2026 14:05' (UTC).

    >>> when("2026-11-30T14:05:09+00:00"), when(None)
    ('30 Nov 2026 14:05', '')
    """
    dt = _as_dt(value)
    return dt.astimezone(UTC).strftime("%d %b %Y %H:%M") if dt else ""


def due_text(value: Any, now: datetime | None = None) -> str:
    """How long until a due time, or how long past it.

    >>> now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    >>> due_text("2026-01-01T15:30:00+00:00", now), due_text("2026-01-01T10:00:00+00:00", now)
    ('in 3 h', '2 h overdue')
    >>> due_text("2026-01-04T12:00:00+00:00", now)
    'in 3 d'
    """
    dt = _as_dt(value)
    if dt is None:
        return ""
    seconds = (dt - (now or datetime.now(UTC))).total_seconds()
    span = abs(seconds)
    amount = f"{int(span // 86400)} d" if span >= 2 * 86400 else \
        f"{int(span // 3600)} h" if span >= 3600 else f"{max(1, int(span // 60))} min"
    return f"in {amount}" if seconds >= 0 else f"{amount} overdue"
