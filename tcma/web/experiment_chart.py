"""Server-side SVG charts of an experiment: each arm's rate with its interval, and the cumulative effect
of the first treatment over time with its always-valid interval. Plain SVG, no script, text escaped."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

WIDTH = 640
ARM_COLORS = ("#5b6770", "#1f6fb2", "#c2571a", "#2e8540", "#7a4fa3")


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if m * step >= raw)
    start = math.floor(low / step) * step
    return [round(start + i * step, 10) for i in range(int((high - start) / step) + 2)
            if start + i * step <= high + step / 2]


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:.0f}"


def rates_chart(arms: Sequence[dict[str, Any]], label: str) -> Markup:
    """Each arm's rate as a dot on its 95% interval, on one shared axis."""
    row, top, left, right = 56, 30, 70, 30
    height = top + row * len(arms) + 44
    values = [v for arm in arms for v in (arm["ci"][0], arm["ci"][1], arm["rate"])]
    low, high = min(0.0, *values), max(values + [0.0]) * 1.1 or 1.0
    ticks = _ticks(low, high)
    low, high = min(low, ticks[0]), max(high, ticks[-1])

    def x(value: float) -> float:
        return left + (value - low) / (high - low) * (WIDTH - left - right)

    parts = [f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
             f'aria-label="{escape(label)} per arm, with 95% intervals" xmlns="http://www.w3.org/2000/svg">']
    for tick in ticks:
        parts.append(f'<line x1="{x(tick):.1f}" y1="{top - 10}" x2="{x(tick):.1f}" y2="{height - 36}" '
                     'class="grid"/>'
                     f'<text x="{x(tick):.1f}" y="{height - 10}" class="tick">{_fmt(tick)}</text>')
    for index, arm in enumerate(arms):
        y = top + row * index + row / 2
        color = ARM_COLORS[index % len(ARM_COLORS)]
        parts.append(
            f'<text x="{left - 14}" y="{y + 7:.1f}" class="arm">{escape(arm["name"])}</text>'
            f'<line x1="{x(arm["ci"][0]):.1f}" y1="{y:.1f}" x2="{x(arm["ci"][1]):.1f}" y2="{y:.1f}" '
            f'stroke="{color}" stroke-width="10" stroke-linecap="round" opacity="0.4"/>'
            f'<circle cx="{x(arm["rate"]):.1f}" cy="{y:.1f}" r="9" fill="{color}"/>'
            f'<text x="{x(arm["rate"]):.1f}" y="{y - 15:.1f}" class="value">{_fmt(arm["rate"])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def effect_chart(series: Sequence[dict[str, Any]], label: str) -> Markup:
    """The cumulative effect by day, its always-valid interval as a band, and the zero line."""
    height, top, bottom, left, right = 300, 16, 44, 76, 30
    if len(series) < 2:
        why = ("Not enough data yet to draw the effect over time." if not series
               else "The effect over time is drawn from the experiment's second day on.")
        return Markup(f'<p class="chart-note">{why}</p>')
    finite = [v for point in series for v in (point["effect"], *point["ci"]) if v is not None]
    low, high = min(0.0, *finite), max(0.0, *finite)
    pad = (high - low) * 0.08 or 1.0
    ticks = _ticks(low - pad, high + pad)
    low, high = ticks[0], ticks[-1]
    span = max(len(series) - 1, 1)

    def x(index: int) -> float:
        return left + index / span * (WIDTH - left - right)

    def y(value: float) -> float:
        return top + (high - value) / (high - low) * (height - top - bottom)

    def clip(value: float | None, fallback: float) -> float:
        return fallback if value is None else min(max(value, low), high)

    upper = [f"{x(i):.1f},{y(clip(p['ci'][1], high)):.1f}" for i, p in enumerate(series)]
    lower = [f"{x(i):.1f},{y(clip(p['ci'][0], low)):.1f}" for i, p in reversed(list(enumerate(series)))]
    line = " ".join(f"{x(i):.1f},{y(p['effect']):.1f}" for i, p in enumerate(series))
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
             f'aria-label="cumulative effect over time: {escape(label)}" xmlns="http://www.w3.org/2000/svg">']
    for tick in ticks:
        parts.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{WIDTH - right}" y2="{y(tick):.1f}" '
                     'class="grid"/>'
                     f'<text x="{left - 10}" y="{y(tick) + 7:.1f}" class="tick end">{_fmt(tick)}</text>')
    parts.append(f'<polygon points="{" ".join(upper + lower)}" class="band"/>'
                 f'<line x1="{left}" y1="{y(0):.1f}" x2="{WIDTH - right}" y2="{y(0):.1f}" class="zero"/>'
                 f'<polyline points="{line}" class="effect"/>')
    for index in sorted({0, len(series) // 2, len(series) - 1}):
        day = series[index]["day"]
        anchor = " start" if index == 0 else " end" if index == len(series) - 1 else ""
        parts.append(f'<text x="{x(index):.1f}" y="{height - 12}" class="tick{anchor}">{day:%d %b}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
