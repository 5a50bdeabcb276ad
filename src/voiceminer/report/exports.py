"""Markdown, CSV and XLSX views of the report figures.

Every cell that reaches a spreadsheet goes through :func:`voiceminer.textsafety.safe_cell`,
so customer text such as ``=HYPERLINK(...)`` is shown, never run. Markdown escapes the
characters that would turn customer text into markup (tables, links, HTML).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from ..textsafety import safe_cell

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>#~])")  # with [ ] escaped no link can form, so ( ) ! stay


def md_text(value: Any) -> str:
    """Customer text made inert in Markdown: one line, markup characters escaped.

    >>> print(md_text("<script>alert(1)</script> | *x* [a](http://x)"))
    \\<script\\>alert(1)\\</script\\> \\| \\*x\\* \\[a\\](http://x)
    """
    text = _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))
    return "\\" + text if text[:1] in "+-=" and text else text  # no list item or heading underline


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join("" if c is None else str(c) for c in row) + " |" for row in rows]
    return out + [""]


def _pct(x: Any) -> str:
    return "" if x is None else f"{x:.1%}"


def to_markdown(f: dict[str, Any]) -> str:
    meta = f["meta"]
    lines = [f"# VoiceMiner theme report: {meta['first_day']} to {meta['last_day']} (by {meta['period']})", "",
             "## Summary", ""]
    lines += [f"- {md_text(h)}" for h in f["headlines"]] + [""]
    if f["alerts"]:
        lines += ["## Alerts", ""] + [f"- **{a['severity']}** {md_text(a['message'])}" for a in f["alerts"]] + [""]
    lines += ["## Themes", ""]
    lines += _table(["theme", "comments", "share", "net sentiment", "current period", "vs baseline (pts)"],
                    [[md_text(t["label"]), t["comments"], _pct(t["share"]), t["net_sentiment"],
                      (t.get("current") or {}).get("comments"), (t.get("current") or {}).get("change_vs_baseline_pts")]
                     for t in f["themes"]])
    if f["spikes"]:
        lines += ["## Spikes", ""]
        lines += _table(["period", "theme / cause", "test", "count", "x baseline", "q"],
                        [[s["period"], md_text(s["label"]), s["test"], f"{s['count']} of {s['of']}", s["ratio"],
                          s["q_value"]] for s in f["spikes"]])
    lines += ["## Root causes", ""]
    for rc in f["root_causes"]:
        lines += [f"### {md_text(rc['label'])} ({rc['negative_comments']} negative comments)", ""]
        lines += _table(["cause", "comments", "share", "peak", "distinctive words"],
                        [[md_text(c["label"]), c["negative_comments"], _pct(c["share_of_theme"]), c["peak_period"],
                          md_text(", ".join(c["distinctive_terms"]))] for c in rc["causes"][:6]])
        for c in rc["causes"][:2]:
            lines += [f"> {md_text(q['text'])}" for q in c["quotes"][:1]] + [""]
    lines += ["## You said, we did", ""]
    if f.get("you_said_we_did"):
        lines += _table(["period", "theme", "resolved", "actions taken", "causes", "median hours", "p90 hours"],
                        [[r["period"], md_text(r["label"]), r["resolved"], _actions(r, md_text),
                          md_text(", ".join(f"{c['label']} ({c['cases']})" for c in r["causes"])),
                          r["median_hours_to_resolve"], r["p90_hours_to_resolve"]] for r in f["you_said_we_did"]])
    else:
        lines += ["No triage cases were resolved in this range.", ""]
    lines += ["## Unmet needs", ""]
    lines += _table(["need", "comments", "growth", "segments", "related needs", "comments with related"],
                    [[md_text(n["statement"]), n["comments"], n["growth_ratio"],
                      md_text(", ".join(f"{s.get('segment_label', s['segment'])}: {s['value']} ({s['lift']}x)"
                                      for s in n["segments"][:3])),
                      md_text("; ".join(n.get("related", []))), n.get("related_comments", n["comments"])]
                     for n in f["needs"]])
    o = f.get("need_overview") or {}
    if not f["needs"] and o.get("sentences"):
        lines += [f"{o['sentences']} sentence(s) in {o['comments']} comment(s) state a need, but none is raised by "
                  f"{o['min_comments']} or more comments alike. The surest: "
                  + "; ".join(f'"{md_text(e["statement"])}"' for e in o["examples"]) + ".", ""]
    lines += ["## Promises and expected topics", ""]
    lines += _table(["promise", "verdict", "mentions", "share", "95% upper bound", "negative"],
                    [[md_text(p["label"]), p["verdict"], p["mentions"], _pct(p["share"]), _pct(p["share_upper_95"]),
                      _pct(p["negative_share"])] for p in f["promises"]])
    for p in f["promises"]:
        lines.append(f"- {md_text(p['label'])}: {md_text(p['explanation'])}")
    lines += [""]
    if f["gone_quiet"]:
        lines += ["## Gone quiet", ""]
        lines += _table(["theme / cause", "state", "peak per period", "recent per period", "last seen"],
                        [[md_text(q["label"]), q["state"], q["peak_mean"], q["recent_mean"], q["last_seen"]]
                         for q in f["gone_quiet"]])
    impact = f["drivers"].get("impact") or []
    if impact:
        lines += ["## Drivers", ""]
        lines += _table(["theme", "comments", "rating impact (pts)", "NPS impact (pts)"],
                        [[md_text(d["label"]), d["comments"], d["rating_impact"], d.get("nps_impact")]
                         for d in impact])
    return "\n".join(lines) + "\n"


def _actions(row: dict[str, Any], show: Any = str) -> str:
    """A row's actions as one cell: 'Refunded the fee (x3); Called back (x1)'."""
    return show("; ".join(f"{a['action']} (x{a['count']})" for a in row["actions"]))


def _long_rows(f: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for level, items in (("theme", f["themes"]), ("cause", f["causes"])):
        for t in items:
            for s in t["series"]:
                rows.append({"level": level, "id": t["id"], "label": t["label"], "period": s["period"],
                             "comments": s["comments"], "share": s["share"], "net_sentiment": s["net_sentiment"]})
    return rows


def write_csv(f: dict[str, Any], path: Path) -> Path:
    """The theme and cause x period table (tidy: one row per theme, period)."""
    from .files import atomic_write

    rows = _long_rows(f)
    fields = ["level", "id", "label", "period", "comments", "share", "net_sentiment"]

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            for r in rows:
                writer.writerow({k: safe_cell(r[k]) for k in fields})

    return atomic_write(path, write)


def _sheets(f: dict[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    sheets: dict[str, tuple[list[str], list[list[Any]]]] = {
        "Summary": (["summary"], [[h] for h in f["headlines"]]),
        "Periods": (["period", "comments", "negative_share", "positive_share", "net_sentiment", "nps", "csat"],
                    [[p["period"], p["comments"], p["negative_share"], p["positive_share"], p["net_sentiment"],
                      (p.get("nps") or {}).get("nps"), (p.get("csat") or {}).get("csat")] for p in f["periods"]]),
        "Themes by period": (["level", "id", "label", "period", "comments", "share", "net_sentiment"],
                             [list(r.values()) for r in _long_rows(f)]),
        "Spikes": (["period", "level", "id", "label", "test", "count", "of", "ratio", "p_value", "q_value"],
                   [[s["period"], s["level"], s["key"], s["label"], s["test"], s["count"], s["of"], s["ratio"],
                     s["p_value"], s["q_value"]] for s in f["spikes"]]),
        "Root causes": (["theme", "cause", "negative_comments", "share_of_theme", "peak_period", "distinctive_terms",
                         "quote"],
                        [[rc["label"], c["label"], c["negative_comments"], c["share_of_theme"], c["peak_period"],
                          ", ".join(c["distinctive_terms"]), c["quotes"][0]["text"] if c["quotes"] else ""]
                         for rc in f["root_causes"] for c in rc["causes"]]),
        "Needs": (["need", "comments", "growth_ratio", "trend_per_period", "quote", "related_needs",
                   "comments_with_related"],
                  [[n["statement"], n["comments"], n["growth_ratio"], n["trend_per_period"],
                    n["quotes"][0]["text"] if n["quotes"] else "", "; ".join(n.get("related", [])),
                    n.get("related_comments", n["comments"])]
                   for n in f["needs"]]),
        "Promises": (["promise", "kind", "verdict", "mentions", "share", "share_upper_95", "negative_share",
                      "explanation"],
                     [[p["label"], p["kind"], p["verdict"], p["mentions"], p["share"], p["share_upper_95"],
                       p["negative_share"], p["explanation"]] for p in f["promises"]]),
        "Gone quiet": (["level", "id", "label", "state", "peak_mean", "recent_mean", "last_seen"],
                       [[q["level"], q["key"], q["label"], q["state"], q["peak_mean"], q["recent_mean"],
                         q["last_seen"]] for q in f["gone_quiet"]]),
        "Drivers": (["theme", "comments", "rating_impact", "nps_impact"],
                    [[d["label"], d["comments"], d["rating_impact"], d.get("nps_impact")]
                     for d in f["drivers"].get("impact") or []]),
        "Themes by segment": (["segment", "value", "theme", "comments", "share", "net_sentiment"],
                              [[r.get("segment_label", r["segment"]), r["value"], r["theme"], r["comments"],
                                r["share"], r["net_sentiment"]] for r in f.get("theme_by_segment", [])]),
        "You said, we did": (["period", "theme", "label", "resolved", "actions", "causes", "median_hours_to_resolve",
                              "p90_hours_to_resolve"],
                             [[r["period"], r["theme"], r["label"], r["resolved"], _actions(r),
                               ", ".join(f"{c['label']} ({c['cases']})" for c in r["causes"]),
                               r["median_hours_to_resolve"], r["p90_hours_to_resolve"]]
                              for r in f.get("you_said_we_did", [])]),
        "Alerts": (["severity", "kind", "message"], [[a["severity"], a["kind"], a["message"]] for a in f["alerts"]]),
    }
    return sheets


def write_xlsx(f: dict[str, Any], path: Path) -> Path:
    """One sheet per table; every cell formula-safe; header row bold and frozen."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    def clean(value: Any) -> Any:  # control characters cannot be stored in XLSX; formulas must not run
        return safe_cell(ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value)

    wb = Workbook()
    wb.remove(wb.active)
    for name, (headers, rows) in _sheets(f).items():
        ws = wb.create_sheet(name[:31])
        ws.append(headers)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([clean(v) for v in row])
        ws.freeze_panes = "A2"
        for col in ws.columns:
            width = max(len(str(c.value or "")) for c in col[:200])
            ws.column_dimensions[col[0].column_letter].width = min(max(width + 2, 8), 80)
    from .files import atomic_write

    return atomic_write(path, wb.save)
