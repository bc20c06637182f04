"""Small server-side SVG charts for the admin dashboard: no JavaScript, no CDN, nothing vendored.

Municipal networks often block third-party scripts, and an <svg> element prints, zooms and works with
a screen reader (each chart has a <title> and <desc>, and the numbers are also in a table next to it).
All text is escaped; the output is marked safe only after that.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Colour-blind-safe palette (Okabe & Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")


@dataclass(frozen=True)
class Series:
    label: str
    points: Sequence[float]  # y values at x = 0, 1, 2, ...


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    width: int = 560,
    height: int = 300,
    y_max: float = 1.0,
    percent: bool = True,
    x_ticks: Sequence[int] = (0, 7, 14, 21, 30),
) -> SafeString:
    """A line per series over x = 0..len(points)-1; y from 0 to y_max (shown as percent)."""
    left, right, top, bottom = 48, 150, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    x_count = max((len(s.points) for s in series), default=2) - 1 or 1

    def x(i: float) -> float:
        return left + plot_w * i / x_count

    def y(v: float) -> float:
        return top + plot_h * (1 - min(max(v / y_max, 0), 1))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-line" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(y_label)} / {escape(x_label)}</desc>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>',
        f'<text x="{left}" y="16" font-size="13" font-weight="bold" fill="#333">{escape(title)}</text>',
    ]
    for step in range(0, 5):
        value = y_max * step / 4
        yy = _fmt(y(value))
        tick = f"{value * 100:.0f}%" if percent else f"{value:g}"
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{yy}" y2="{yy}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{left - 6}" y="{yy}" font-size="11" text-anchor="end" dy="4" fill="#555">{tick}</text>')
    for tick in x_ticks:
        if tick <= x_count:
            xx = _fmt(x(tick))
            parts.append(f'<line x1="{xx}" x2="{xx}" y1="{top}" y2="{top + plot_h}" stroke="#f0f0f0"/>')
            parts.append(
                f'<text x="{xx}" y="{top + plot_h + 16}" font-size="11" text-anchor="middle" fill="#555">{tick}</text>'
            )
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#888"/>'
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#888"/>'
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" font-size="11" text-anchor="middle" '
        f'fill="#333">{escape(x_label)}</text>'
    )
    for index, item in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        coordinates = " ".join(f"{_fmt(x(i))},{_fmt(y(v))}" for i, v in enumerate(item.points))
        parts.append(
            f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2.5" points="{coordinates}">'
            f"<title>{escape(item.label)}</title></polyline>"
        )
        legend_y = top + 8 + index * 18
        parts.append(
            f'<rect x="{left + plot_w + 14}" y="{legend_y - 8}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{left + plot_w + 32}" y="{legend_y + 2}" font-size="12" fill="#333">{escape(item.label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def bar_chart(
    bars: Sequence[tuple[str, Decimal | float]],
    *,
    title: str,
    width: int = 360,
    bar_height: int = 22,
    value_format: str | None = None,
) -> SafeString:
    """Horizontal bars with their value printed at the end (in euros, in the active language's notation,
    unless `value_format` is given)."""
    left, right, top = 90, 80, 28
    height = top + len(bars) * (bar_height + 8) + 8
    plot_w = width - left - right
    largest = max((float(value) for _, value in bars), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-bar" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff"/>',
        f'<text x="4" y="16" font-size="13" font-weight="bold" fill="#333">{escape(title)}</text>',
    ]
    for index, (label, value) in enumerate(bars):
        yy = top + index * (bar_height + 8)
        length = plot_w * float(value) / largest
        parts.append(
            f'<text x="{left - 6}" y="{yy + bar_height / 2 + 4:.1f}" font-size="12" text-anchor="end" '
            f'fill="#333">{escape(label)}</text>'
            f'<rect class="bar" x="{left}" y="{yy}" width="{length:.1f}" height="{bar_height}" '
            f'fill="{PALETTE[index % len(PALETTE)]}"/>'
            f'<text x="{left + length + 6:.1f}" y="{yy + bar_height / 2 + 4:.1f}" font-size="12" '
            f'fill="#333">{escape(_bar_label(value, value_format))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _bar_label(value: Decimal | float, value_format: str | None) -> str:
    if value_format is not None:
        return value_format.format(float(value))
    return f"€ {number_format(Decimal(str(value)), 2, force_grouping=True)}"
