"""The report page's chart geometry: SVG bars and shares, in integer user units.

Pure functions of the report's figures (no Flask, no database): the template draws what
they return, and the tests check the numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

from pos.domain.reporting import rounded_ratio


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: int
    y: int
    width: int
    height: int
    negative: bool = False


@dataclass(frozen=True)
class ColumnChart:
    """Vertical bars on a zero line; all numbers are SVG user units."""

    width: int
    height: int
    zero_y: int
    bars: tuple[Bar, ...]
    max_value: int
    min_value: int


def column_chart(points: list[tuple[str, int]], *, width: int = 720, height: int = 220,
                 top: int = 16, bottom: int = 28, left: int = 8, right: int = 8) -> ColumnChart:
    """Bars of integer values (negatives hang below the zero line)."""
    high = max([0, *(v for _, v in points)])
    low = min([0, *(v for _, v in points)])
    span = (high - low) or 1
    plot_h = height - top - bottom
    zero_y = top + plot_h * high // span
    slot = (width - left - right) // max(len(points), 1)
    bar_w = max(slot * 7 // 10, 1)
    bars = []
    for i, (label, value) in enumerate(points):
        h = plot_h * abs(value) // span
        x = left + i * slot + (slot - bar_w) // 2
        y = zero_y - h if value >= 0 else zero_y
        bars.append(Bar(label, value, x, y, bar_w, h, value < 0))
    return ColumnChart(width, height, zero_y, tuple(bars), high, low)


@dataclass(frozen=True)
class Share:
    label: str
    value: int
    bp: int  # share of the whole in basis points
    x: int  # start of its segment in the stacked bar
    width: int
    row_y: int  # its row in the legend / horizontal bar list
    bar_width: int  # length of its horizontal bar (longest = full width)


def shares(points: list[tuple[str, int]], *, width: int = 600, row_height: int = 26,
           top: int = 40) -> list[Share]:
    """A mix (category, payment method, top items): a stacked bar plus one bar per row.

    Negative values (a month of more refunds than sales) count as zero in the picture.
    """
    positive = [(label, max(v, 0)) for label, v in points]
    total = sum(v for _, v in positive)
    longest = max([0, *(v for _, v in positive)]) or 1
    out, running = [], 0
    for i, (label, value) in enumerate(positive):
        # Cumulative floors, so the segments always fill the bar exactly.
        x = width * running // total if total else 0
        running += value
        end = width * running // total if total else 0
        bp = rounded_ratio(value * 10_000, total) if total else 0
        out.append(Share(label, points[i][1], bp, x, end - x, top + i * row_height,
                         width * value // longest))
    return out
