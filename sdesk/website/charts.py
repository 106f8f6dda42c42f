"""Chart geometry for inline SVG: horizontal stacked bars and lines. Pure.

Charts are laid out here, in numbers, and drawn by a template macro, so a
page needs no JavaScript and no external asset to show them. Coordinates
are rounded to one decimal so the same figures always give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 640
ROW = 28  # height of a bar's row
BAR = 18
AXIS = 24  # room below the plot for the scale
CHAR = 7.0  # average width of a 12px label character
LABEL_MAX = 200
TICKS = 4  # about this many steps on a scale
LINE_HEIGHT = 240
LINE_MARGINS = (40, 16, 12, 28)  # left, right, top, bottom


@dataclass(frozen=True)
class Tick:
    at: float
    text: str


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    series: int  # the colour
    title: str  # "P1: 3", shown on hover and read by screen readers


@dataclass(frozen=True)
class BarRow:
    label: str
    short_label: str  # cut to fit the label column
    y: float
    total: str
    total_x: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    label_width: float
    bar: int
    rows: tuple[BarRow, ...]
    ticks: tuple[Tick, ...]
    series: tuple[str, ...]


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Line:
    series: int
    pieces: tuple[str, ...]  # "x,y x,y …" for each unbroken run of values
    dots: tuple[Dot, ...]


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    lines: tuple[Line, ...]
    x_labels: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    series: tuple[str, ...]


def nice_step(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value``, and at least 1: a whole unit."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    step: float = next(step * power for step in (1, 2, 5, 10) if step * power >= value)
    return max(step, 1.0)


def number(value: float) -> str:
    """12, 2.5: a figure without a needless decimal."""
    return f"{value:.1f}".removesuffix(".0")


def bars(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    shown: Callable[[float], str] = number,
) -> BarChart:
    """One horizontal bar per category, the series stacked left to right.

    The scale steps by whole units (tickets, hours); ``shown`` writes a value
    as the page's tables do.
    """
    totals = [sum(values[index] for _, values in series) for index in range(len(categories))]
    highest = max(totals, default=0)
    step = nice_step(highest / TICKS)
    steps = max(math.ceil(highest / step), 1)
    top = step * steps
    longest = max((len(label) for label in categories), default=0)
    label_width = min(LABEL_MAX, CHAR * longest + 8)
    plot = WIDTH - label_width - 48  # room for the total right of the longest bar
    scale = plot / top
    rows = []
    for index, label in enumerate(categories):
        x, segments = label_width, []
        for colour, (name, values) in enumerate(series):
            if values[index] <= 0:
                continue
            width = values[index] * scale
            segments.append(Segment(round(x, 1), round(width, 1), colour, f"{name}: {shown(values[index])}"))
            x += width
        rows.append(
            BarRow(
                label=label,
                short_label=_cut(label, int((label_width - 8) // CHAR)),
                y=index * ROW,
                total=shown(totals[index]),
                total_x=round(x + 4, 1),
                segments=tuple(segments),
            )
        )
    ticks = tuple(Tick(round(label_width + n * plot / steps, 1), shown(step * n)) for n in range(steps + 1))
    return BarChart(
        width=WIDTH,
        height=len(categories) * ROW + AXIS,
        label_width=label_width,
        bar=BAR,
        rows=tuple(rows),
        ticks=ticks,
        series=tuple(name for name, _ in series),
    )


def lines(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], top: float = 100) -> LineChart:
    """A line per series over the labels; a missing value (None) breaks the line."""
    left, right, upper, lower = LINE_MARGINS
    bottom = LINE_HEIGHT - lower
    step = (WIDTH - left - right) / max(len(labels) - 1, 1)

    def y(value: float) -> float:
        return round(bottom - (bottom - upper) * value / top, 1)

    drawn = []
    for colour, (name, values) in enumerate(series):
        pieces: list[list[str]] = [[]]
        dots = []
        for index, value in enumerate(values):
            if value is None:
                pieces.append([])
                continue
            x = round(left + index * step, 1)
            pieces[-1].append(f"{x},{y(value)}")
            dots.append(Dot(x, y(value), f"{name}, {labels[index]}: {number(value)}"))
        drawn.append(Line(colour, tuple(" ".join(piece) for piece in pieces if piece), tuple(dots)))
    return LineChart(
        width=WIDTH,
        height=LINE_HEIGHT,
        left=left,
        right=WIDTH - right,
        top=upper,
        bottom=bottom,
        lines=tuple(drawn),
        x_labels=tuple(Tick(round(left + index * step, 1), label) for index, label in enumerate(labels)),
        y_ticks=tuple(Tick(y(top * part / 4), number(top * part / 4)) for part in range(5)),
        series=tuple(name for name, _ in series),
    )


def _cut(label: str, room: int) -> str:
    return label if len(label) <= room else label[: max(room - 1, 1)] + "…"
