"""Server-side SVG charts for the dashboards: lines over time and horizontal bars.

Plain SVG, no script; every label is escaped; each chart carries its own accessible name and the
page shows the same numbers in a table beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any

from markupsafe import Markup, escape

WIDTH = 480
# One colour per measure, told apart without red/green alone; machines are grey and dashed.
SERIES_COLORS = {"downloaded": "#1f6fb2", "sent": "#7a4fa3", "opened": "#b35900", "clicked": "#2e7d32",
                 "posted": "#b0306a", "reactions": "#00707a", "machines": "#6b7280",
                 "delivered": "#1f4e79", "customized": "#5b6770"}


def nice_max(value: float) -> float:
    """The round number just above `value` an axis ends at (1 when there is nothing)."""
    if value <= 0:
        return 1.0
    step = 10 ** math.floor(math.log10(value))
    return next(m * step for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * step >= value)


def _fmt(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k".replace(".0k", "k")
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def line_chart(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]], label: str) -> Markup:
    """One line per (column, name) over the rows' days; machines (if asked) dashed."""
    height, top, bottom, left, right = 250, 14, 40, 52, 14
    if not rows:
        return Markup('<p class="chart-note">No days in this period.</p>')
    high = nice_max(max((row[c] for row in rows for c, _ in columns), default=0))
    span = max(len(rows) - 1, 1)

    def x(index: int) -> float:
        return left + index / span * (WIDTH - left - right)

    def y(value: float) -> float:
        return top + (1 - value / high) * (height - top - bottom)

    parts = [f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" aria-label="{escape(label)}" '
             'xmlns="http://www.w3.org/2000/svg">']
    for step in range(5):
        tick = high * step / 4
        parts.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{WIDTH - right}" y2="{y(tick):.1f}" '
                     f'class="grid"/><text x="{left - 8}" y="{y(tick) + 5:.1f}" class="tick end">'
                     f'{_fmt(tick)}</text>')
    for column, name in columns:
        points = " ".join(f"{x(i):.1f},{y(row[column]):.1f}" for i, row in enumerate(rows))
        dash = ' stroke-dasharray="6 4"' if column == "machines" else ""
        color = SERIES_COLORS.get(column, "#1d2330")
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" '
                     f'stroke-width="2.5"{dash} data-series="{escape(column)}"><title>{escape(name)}</title>'
                     '</polyline>')
    for index in sorted({0, len(rows) // 2, len(rows) - 1}):
        anchor = " start" if index == 0 else " end" if index == len(rows) - 1 else ""
        parts.append(f'<text x="{x(index):.1f}" y="{height - 12}" class="tick{anchor}">'
                     f'{date.fromisoformat(rows[index]["key"]):%d %b}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(items: Sequence[tuple[str, float]], label: str, color: str = "#1f4e79") -> Markup:
    """One horizontal bar per (name, value), the value written at the bar's end."""
    if not items:
        return Markup('<p class="chart-note">Nothing to draw in this period.</p>')
    row, top, left, right = 36, 8, 176, 60
    height = top * 2 + row * len(items)
    high = nice_max(max(value for _, value in items))
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" aria-label="{escape(label)}" '
             'xmlns="http://www.w3.org/2000/svg">']
    for index, (name, value) in enumerate(items):
        y = top + row * index
        length = (WIDTH - left - right) * value / high
        short = name if len(name) <= 15 else name[:14] + "…"
        parts.append(f'<text x="{left - 8}" y="{y + 24}" class="bar-label end"><title>{escape(name)}</title>'
                     f'{escape(short)}</text>'
                     f'<rect x="{left}" y="{y + 6}" width="{max(length, 1):.1f}" height="{row - 12}" rx="3" '
                     f'fill="{color}"/>'
                     f'<text x="{left + length + 6:.1f}" y="{y + 24}" class="bar-value">{_fmt(value)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
