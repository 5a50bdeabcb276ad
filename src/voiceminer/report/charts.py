"""Small inline SVG charts, so the HTML report needs no scripts, fonts or network.

Every text that reaches the SVG is escaped.

>>> svg = stacked_bars([("w1", {"negative": 2, "positive": 1})], ["negative", "positive"])
>>> svg.startswith("<svg") and "w1" in svg
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise

from markupsafe import Markup, escape

COLOURS = {"negative": "#d1495b", "neutral": "#c9c9c9", "positive": "#2e8b57", "unanalysed": "#eeeeee"}


def stacked_bars(rows: Sequence[tuple[str, Mapping[str, float]]], keys: Sequence[str], *,
                 width: int = 760, height: int = 240, title: str = "",
                 partial: Mapping[str, str] | None = None) -> Markup:
    """Vertical stacked bars, one per row label (e.g. per week), keys stacked bottom-up; ``partial`` periods
    are starred, drawn lighter and explained below (see :func:`lines`)."""
    partial = partial or {}
    if not rows:
        return Markup('<p class="muted">No dated comments to chart.</p>')
    left, bottom, top = 40, 40, 16
    plot_h = height - bottom - top
    peak = max(sum(v.get(k, 0) for k in keys) for _, v in rows) or 1
    step = (width - left - 10) / len(rows)
    bar_w = min(max(step * 0.7, 2), 90)  # a range of one or two periods: bars, not walls
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">']
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{round(peak * frac)}</text>')
    for i, (label, values) in enumerate(rows):
        x, y = left + i * step + (step - bar_w) / 2, top + plot_h
        faint = ' fill-opacity="0.45"' if label in partial else ""
        for key in keys:
            h = plot_h * values.get(key, 0) / peak
            if h > 0:
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                             f'fill="{COLOURS.get(key, "#888")}"{faint}><title>{escape(label)}: '
                             f'{escape(key)} {values.get(key, 0):g}</title></rect>')
        if len(rows) <= 16 or i % max(len(rows) // 12, 1) == 0 or label in partial:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 16}" class="axis" '
                         f'text-anchor="middle">{_axis(label, partial)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts) + _partial_note([label for label, _ in rows], partial))


def legend(keys: Sequence[str]) -> Markup:
    items = "".join(f'<span class="key"><i style="background:{COLOURS.get(k, "#888")}"></i>{escape(k)}</span>'
                    for k in keys)
    return Markup(f'<div class="legend">{items}</div>')


def share_bar(shares: Mapping[str, float], keys: Sequence[str]) -> Markup:
    """One horizontal 100% bar (used in tables)."""
    segs = "".join(f'<span style="width:{100 * shares.get(k, 0):.1f}%;background:{COLOURS.get(k, "#888")}" '
                   f'title="{escape(k)} {100 * shares.get(k, 0):.0f}%"></span>' for k in keys)
    return Markup(f'<span class="sharebar">{segs}</span>')


PALETTE = ["#1f77b4", "#d1495b", "#2e8b57", "#edae49", "#6a4c93", "#00798c", "#8d6e63", "#e76f51"]


def _short(label: str) -> str:
    return label[5:] if len(label) == 10 and label[4] == "-" else label


def _axis(period: str, partial: Mapping[str, str]) -> str:
    """A period's axis label: short, escaped, starred when the period is partial."""
    return f"{escape(_short(period))}{'*' if period in partial else ''}"


def _partial_note(periods: Sequence[str], partial: Mapping[str, str]) -> str:
    """The caption that explains the periods marked * (``partial``: period -> what it holds)."""
    marked = [p for p in periods if p in partial]
    if not marked:
        return ""
    parts = "; ".join(f"{escape(_short(p))}: {escape(partial[p])}" for p in marked)
    return f'<p class="note">* Partial period ({parts}): not comparable with whole periods.</p>'


def lines(periods: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *, width: int = 760,
          height: int = 260, title: str = "", percent: bool = False, highlight: str | None = None,
          y_range: tuple[float, float] | None = None, partial: Mapping[str, str] | None = None) -> Markup:
    """Line chart, one line per series over the periods; a legend below; ``highlight`` marks a period.
    ``y_range`` fixes the axis (e.g. -100..100 for net sentiment); otherwise it runs from 0 to the peak.
    ``partial`` (period -> what it holds, e.g. "2 of 7 days") marks periods with only part of their days:
    an asterisk on the axis, a hollow point, a dashed line to it and a caption below.

    >>> svg = str(lines(["2015-02-16", "2015-02-23"], [("a", [500, 150])], partial={"2015-02-23": "2 of 7 days"}))
    >>> "02-23*" in svg, "stroke-dasharray" in svg, "2 of 7 days" in svg
    (True, True, True)
    """
    partial = partial or {}
    if not periods or not series:
        return Markup('<p class="muted">Nothing to chart.</p>')
    if len(periods) == 1:  # no line to draw: one bar per series
        return _one_period(periods[0], [(name, vals[0]) for name, vals in series], width=width, title=title,
                           percent=percent, y_range=y_range, partial=partial)
    left, right, top, bottom = 46, 12, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    base, peak = y_range or (0.0, max((v for _, vals in series for v in vals if v is not None), default=0) or 1)
    step = plot_w / max(len(periods) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + plot_h * (1 - (v - base) / (peak - base))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">']
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        value = base + (peak - base) * frac
        tick = f"{value:.0%}" if percent else f"{value:+.0f}" if base < 0 else f"{value:.0f}"
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{tick}</text>')
    if highlight in periods:
        x = left + periods.index(highlight) * step
        parts.append(f'<rect x="{x - step / 2:.1f}" y="{top}" width="{max(step, 4):.1f}" height="{plot_h}" '
                     f'class="highlight"><title>current period {escape(highlight)}</title></rect>')
    for k, (name, vals) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        shown_at = [(i, v) for i, v in enumerate(vals) if v is not None]
        runs: list[tuple[bool, list[tuple[float, float]]]] = []  # (dashed, points): a line to a partial period dashes
        for (i, v), (j, w) in pairwise(shown_at):
            dashed = periods[i] in partial or periods[j] in partial
            if runs and runs[-1][0] == dashed:
                runs[-1][1].append(xy(j, w))
            else:
                runs.append((dashed, [xy(i, v), xy(j, w)]))
        for dashed, pts in runs or [(False, [xy(i, v) for i, v in shown_at])]:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            dash = ' stroke-dasharray="5 4"' if dashed else ""
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for i, v in shown_at:
            x, y = xy(i, v)
            shown = f"{v:.1%}" if percent else f"{v:g}"
            fill = "#fff" if periods[i] in partial else colour
            note = f" ({escape(partial[periods[i]])})" if periods[i] in partial else ""
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{fill}" stroke="{colour}"><title>'
                         f'{escape(name)}, {escape(periods[i])}{note}: {shown}</title></circle>')
    every = max(len(periods) // 12, 1)
    for i, p in enumerate(periods):
        if i % every == 0 or p in partial:
            anchor = "end" if i == len(periods) - 1 and i else "middle"  # the last label stays inside the chart
            parts.append(f'<text x="{left + i * step:.1f}" y="{height - bottom + 16}" class="axis" '
                         f'text-anchor="{anchor}">{_axis(p, partial)}</text>')
    parts.append("</svg>")
    keys = "".join(f'<span class="key"><i style="background:{PALETTE[k % len(PALETTE)]}"></i>{escape(name)}</span>'
                   for k, (name, _) in enumerate(series))
    return Markup("".join(parts) + f'<div class="legend">{keys}</div>' + _partial_note(periods, partial))


def _one_period(period: str, values: Sequence[tuple[str, float | None]], *, width: int, title: str, percent: bool,
                y_range: tuple[float, float] | None, partial: Mapping[str, str]) -> Markup:
    """What :func:`lines` draws for a single period: a labelled horizontal bar per series from zero (a
    line through one point says nothing), in the series' colour, or red/green by sign on a signed scale.

    >>> svg = str(_one_period("2026-11-30", [("Food", 273), ("Price", None)], width=760, title="t", percent=False,
    ...                       y_range=None, partial={}))
    >>> "<polyline" in svg, "Food" in svg, ">273<" in svg, "11-30" in svg
    (False, True, True, True)
    """
    left, right, top, bar_h = 250, 60, 22, 22
    height = top + bar_h * len(values) + 8
    shown = [v for _, v in values if v is not None]
    lo, hi = y_range or (0.0, max(shown, default=0) or 1)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + plot_w * (v - lo) / ((hi - lo) or 1)

    def colour(k: int, v: float) -> str:  # a signed scale (net sentiment) is coloured by sign, as everywhere
        return (COLOURS["negative"] if v < 0 else COLOURS["positive"]) if lo < 0 else PALETTE[k % len(PALETTE)]

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">',
             f'<text x="{left}" y="{top - 8}" class="axis">{_axis(period, partial)}</text>',
             f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top - 2}" y2="{height - 6}" class="zero"/>']
    for k, (name, v) in enumerate(values):
        y = top + k * bar_h
        parts.append(f'<text x="{left - 6}" y="{y + bar_h * .65:.1f}" class="label" text-anchor="end">'
                     f'{escape(name[:36])}</text>')
        if v is None:
            continue
        text = f"{v:.1%}" if percent else f"{v:+.0f}" if lo < 0 else f"{v:g}"
        x0, x1 = sorted((x(0), x(v)))
        parts.append(f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 1):.1f}" height="{bar_h - 8}" '
                     f'fill="{colour(k, v)}"><title>{escape(name)}, {escape(period)}: {text}</title></rect>'
                     f'<text x="{x1 + 4:.1f}" y="{y + bar_h * .65:.1f}" class="axis">{text}</text>')
    parts.append("</svg>")
    return Markup("".join(parts) + _partial_note([period], partial))


def _net_colour(net: float | None) -> str:
    if net is None:
        return "#f4f4f4"
    t = max(-1.0, min(1.0, net / 100))
    if t < 0:  # white -> red
        a = -t
        return f"rgb({255 - round(a * (255 - 209))},{255 - round(a * (255 - 73))},{255 - round(a * (255 - 91))})"
    return f"rgb({255 - round(t * (255 - 46))},{255 - round(t * (255 - 139))},{255 - round(t * (255 - 87))})"


def heatmap(periods: Sequence[str], rows: Sequence[tuple[str, Sequence[tuple[int, float | None]]]], *,
            width: int = 980, title: str = "", partial: Mapping[str, str] | None = None) -> Markup:
    """Theme x period grid: the number is the comments that period, the colour its net sentiment;
    ``partial`` periods are starred and explained below (see :func:`lines`)."""
    partial = partial or {}
    if not periods or not rows:
        return Markup('<p class="muted">Nothing to chart.</p>')
    left, top, cell_h = 240, 26, 22
    cell_w = (width - left - 10) / len(periods)
    height = top + cell_h * len(rows) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart heat">']
    for i, p in enumerate(periods):
        parts.append(f'<text x="{left + (i + .5) * cell_w:.1f}" y="{top - 8}" class="axis" '
                     f'text-anchor="middle">{_axis(p, partial)}</text>')
    for r, (name, cells) in enumerate(rows):
        y = top + r * cell_h
        parts.append(f'<text x="{left - 6}" y="{y + cell_h * .68:.1f}" class="label" text-anchor="end">'
                     f'{escape(name[:36])}</text>')
        for i, (count, net) in enumerate(cells):
            x = left + i * cell_w
            net_txt = "n/a" if net is None else f"{net:+.0f}"
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{cell_w - 1:.1f}" height="{cell_h - 1}" '
                         f'fill="{_net_colour(net if count else None)}"><title>{escape(name)}, {escape(periods[i])}: '
                         f'{count} comments, net sentiment {net_txt}</title></rect>')
            if count:
                parts.append(f'<text x="{x + cell_w / 2:.1f}" y="{y + cell_h * .68:.1f}" class="cell" '
                             f'text-anchor="middle">{count}</text>')
    parts.append("</svg>")
    return Markup("".join(parts) + _partial_note(periods, partial))


def hbars(rows: Sequence[tuple[str, float, float | None, float | None]], *, width: int = 760, title: str = "",
          unit: str = "", note: str = "") -> Markup:
    """Horizontal bars around zero with optional intervals: (label, value, low, high)."""
    if not rows:
        return Markup('<p class="muted">Not enough scored comments for this chart.</p>')
    left, right, top, bar_h = 250, 60, 10, 22
    height = top + bar_h * len(rows) + 28
    lo = min(0.0, *(min(v, lw if lw is not None else v) for _, v, lw, _ in rows))
    hi = max(0.0, *(max(v, h if h is not None else v) for _, v, _, h in rows))
    span = (hi - lo) or 1
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + plot_w * (v - lo) / span

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">',
             f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top - 4}" y2="{height - 22}" class="zero"/>']
    for i, (name, v, low, high) in enumerate(rows):
        y = top + i * bar_h
        colour = "#d1495b" if v < 0 else "#2e8b57"
        x0, x1 = sorted((x(0), x(v)))
        interval = f" (95% CI {low:+.1f} to {high:+.1f})" if low is not None and high is not None else ""
        parts.append(f'<text x="{left - 6}" y="{y + bar_h * .65:.1f}" class="label" text-anchor="end">'
                     f'{escape(name[:36])}</text>'
                     f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 1):.1f}" height="{bar_h - 8}" '
                     f'fill="{colour}" opacity=".8"><title>{escape(name)}: {v:+.1f}{escape(unit)}{interval}</title></rect>')
        if low is not None and high is not None:
            parts.append(f'<line x1="{x(low):.1f}" x2="{x(high):.1f}" y1="{y + bar_h / 2:.1f}" '
                         f'y2="{y + bar_h / 2:.1f}" class="ci"/>')
        parts.append(f'<text x="{max(x1, x(high) if high is not None else x1) + 4:.1f}" y="{y + bar_h * .65:.1f}" '
                     f'class="axis">{v:+.1f}</text>')
    parts.append(f'<text x="{left}" y="{height - 6}" class="axis">{escape(note)}</text></svg>')
    return Markup("".join(parts))


def sparkline(values: Sequence[float], *, width: int = 120, height: int = 24, colour: str = "#1f77b4") -> Markup:
    """A tiny trend line for tables."""
    if not values:
        return Markup("")
    peak = max(values) or 1
    step = width / max(len(values) - 1, 1)
    pts = " ".join(f"{i * step:.1f},{height - 2 - (height - 4) * v / peak:.1f}" for i, v in enumerate(values))
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="spark" '
                  f'width="{width}" height="{height}" aria-hidden="true"><polyline points="{pts}" fill="none" '
                  f'stroke="{colour}" stroke-width="1.5"/></svg>')
