"""Small inline SVG charts, so the HTML report needs no scripts, fonts or network.

Every text that reaches the SVG is escaped.

>>> svg = stacked_bars([("w1", {"negative": 2, "positive": 1})], ["negative", "positive"])
>>> svg.startswith("<svg") and "w1" in svg
True
"""

from __future__ import annotations

from typing import Mapping, Sequence

from markupsafe import Markup, escape

COLOURS = {"negative": "#d1495b", "neutral": "#c9c9c9", "positive": "#2e8b57", "unanalysed": "#eeeeee"}


def stacked_bars(rows: Sequence[tuple[str, Mapping[str, float]]], keys: Sequence[str], *,
                 width: int = 760, height: int = 240, title: str = "") -> Markup:
    """Vertical stacked bars, one per row label (e.g. per week), keys stacked bottom-up."""
    if not rows:
        return Markup('<p class="muted">No dated comments to chart.</p>')
    left, bottom, top = 40, 40, 16
    plot_h = height - bottom - top
    peak = max(sum(v.get(k, 0) for k in keys) for _, v in rows) or 1
    step = (width - left - 10) / len(rows)
    bar_w = max(step * 0.7, 2)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">']
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{round(peak * frac)}</text>')
    for i, (label, values) in enumerate(rows):
        x, y = left + i * step + (step - bar_w) / 2, top + plot_h
        for key in keys:
            h = plot_h * values.get(key, 0) / peak
            if h > 0:
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                             f'fill="{COLOURS.get(key, "#888")}"><title>{escape(label)}: '
                             f'{escape(key)} {values.get(key, 0):g}</title></rect>')
        if len(rows) <= 16 or i % max(len(rows) // 12, 1) == 0:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 16}" class="axis" '
                         f'text-anchor="middle">{escape(label[5:] if len(label) == 10 else label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def legend(keys: Sequence[str]) -> Markup:
    items = "".join(f'<span class="key"><i style="background:{COLOURS.get(k, "#888")}"></i>{escape(k)}</span>'
                    for k in keys)
    return Markup(f'<div class="legend">{items}</div>')


def share_bar(shares: Mapping[str, float], keys: Sequence[str]) -> Markup:
    """One horizontal 100% bar (used in tables)."""
    segs = "".join(f'<span style="width:{100 * shares.get(k, 0):.1f}%;background:{COLOURS.get(k, "#888")}" '
                   f'title="{escape(k)} {100 * shares.get(k, 0):.0f}%"></span>' for k in keys)
    return Markup(f'<span class="sharebar">{segs}</span>')
