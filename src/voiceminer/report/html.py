"""Render the figures as one self-contained HTML page (inline CSS and SVG, no scripts).

Jinja2 autoescaping escapes every customer text; the page's content-security policy
forbids scripts and any network fetch, so even a mistake could not run or load anything.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from ..aggregate.periods import partial_text
from . import charts

KEYS = ["negative", "neutral", "positive"]


def highlight(text: str, span: list[int] | None) -> Markup:
    """The quote with its evidence span marked (both parts escaped).

    >>> str(highlight("late <b> because of X", [9, 21]))
    'late &lt;b&gt; <mark>because of X</mark>'
    """
    if not span or not (0 <= span[0] < span[1] <= len(text)):
        return escape(text)
    a, b = span
    return escape(text[:a]) + Markup("<mark>") + escape(text[a:b]) + Markup("</mark>") + escape(text[b:])


def theme_link(base: str | None, theme_id: str | None, label: Any) -> Markup:
    """The theme's label, linked to its page on the triage service when ``base`` (``service_url``)
    is set; the id is URL-quoted and both parts escaped.

    >>> str(theme_link("https://vm.example", "delivery.late", "Late <b>"))
    '<a href="https://vm.example/themes/delivery.late">Late &lt;b&gt;</a>'
    >>> str(theme_link(None, "delivery", "Delivery"))
    'Delivery'
    """
    if not base or not theme_id:
        return escape(label)
    return Markup('<a href="{}">{}</a>').format(f"{base}/themes/{quote(str(theme_id), safe='')}", label)


def render_html(f: dict[str, Any]) -> str:
    env = Environment(loader=PackageLoader("voiceminer", "report/templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    periods = f["meta"]["periods"]
    current = f["meta"]["current_period"]
    partial = {p: partial_text(d) for p, d in (f["meta"].get("partial_periods") or {}).items()}
    top = f["themes"][:6]
    volume = charts.lines(periods, [(t["label"], [s["comments"] for s in t["series"]]) for t in top],
                          title="Comments per period, top themes", highlight=current, partial=partial)
    senti = charts.lines(periods, [(t["label"], [s["net_sentiment"] for s in t["series"]]) for t in top[:4]],
                         title="Net sentiment per period (-100 all negative, +100 all positive)", highlight=current,
                         y_range=(-100.0, 100.0))
    heat_rows = [(t["label"], [(s["comments"], s["net_sentiment"]) for s in t["series"]]) for t in f["themes"][:14]]
    heat = charts.heatmap(periods, heat_rows, title="Themes by period", partial=partial)
    impact = f["drivers"].get("impact") or []
    driver_chart = charts.hbars([(d["label"], -d["rating_impact"], None, None) for d in impact
                                 if d["rating_impact"] is not None][:10],
                                title="Driver impact", unit=" pts",
                                note="Points the average rating (0-100) loses because of each theme's comments")
    reg = f["drivers"].get("regression")
    reg_chart = charts.hbars([(c["label"], c["estimate"], c["ci_low"], c["ci_high"])
                              for c in (reg or {}).get("coefficients", [])[:10]],
                             title="Regression", unit=" pts",
                             note="Rating change (0-100) with a negative mention of the theme, 95% intervals")
    cause_charts = {}
    for rc in f["root_causes"]:
        causes = rc["causes"][:4]
        negative = [{s["period"]: s["comments"] for s in c["negative_series"]} for c in causes]
        cause_charts[rc["theme"]] = charts.lines(
            periods, [(c["label"], [n.get(p, 0) for p in periods]) for c, n in zip(causes, negative)],
            title=f"Negative comments on the causes of {rc['label']} per period", height=200, highlight=current,
            partial=partial)
    rows = [(p["period"], {k: p[k] for k in KEYS}) for p in f["periods"]]
    return env.get_template("report.html.j2").render(
        f=f, keys=KEYS, volume_chart=volume, sentiment_chart=senti, heatmap=heat, driver_chart=driver_chart,
        regression_chart=reg_chart, cause_charts=cause_charts,
        comments_chart=charts.stacked_bars(rows, KEYS, title="Comments per period by sentiment", partial=partial),
        legend=charts.legend(KEYS), share_bar=charts.share_bar, spark=charts.sparkline, highlight=highlight,
        partial=partial,
        theme=lambda theme_id, label: theme_link(f["meta"].get("service_url"), theme_id, label),
    )
