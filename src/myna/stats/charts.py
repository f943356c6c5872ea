"""Charts of the usage statistics as SVG, drawn on the server (no script, no inline style).

Written by hand: the charting libraries at hand either need a browser script or put
``style`` attributes and ``<style>`` elements into the SVG, which the pages' strict CSP
refuses. Every colour and font comes from classes in ``stats.css``. Each chart is an
image to assistive technology (``role="img"``) named by its ``<title>`` and described by
its ``<desc>``; the page puts the table of the same figures beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

SVG_NS = "http://www.w3.org/2000/svg"
# Narrow enough that the text stays legible when a phone scales the chart to its width.
WIDTH = 360
_LABEL_HEIGHT = 18
_BAR_HEIGHT = 16
_BAR_GAP = 4
_GROUP_GAP = 12
_VALUE_SPACE = 64
_LEGEND_HEIGHT = 24


@dataclass(frozen=True, slots=True)
class Chart:
    """What names a chart: its element id (unique on the page), title and description."""

    id: str
    title: str
    description: str


@dataclass(frozen=True, slots=True)
class Series:
    """One series of values (None: withheld), drawn in the ``n``-th series colour."""

    name: str
    values: tuple[float | None, ...]


def _number(value: float) -> str:
    """A coordinate with at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _open(chart: Chart, height: float, kind: str) -> list[str]:
    return [
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {WIDTH} {_number(height)}" '
        f'class="chart chart-{kind}" role="img" '
        f"aria-labelledby={quoteattr(chart.id + '-title')} "
        f"aria-describedby={quoteattr(chart.id + '-desc')} id={quoteattr(chart.id)}>",
        f"<title id={quoteattr(chart.id + '-title')}>{escape(chart.title)}</title>",
        f"<desc id={quoteattr(chart.id + '-desc')}>{escape(chart.description)}</desc>",
    ]


def _scale_max(values: Sequence[float | None]) -> float:
    """A round upper end for the axis: 1, 2 or 5 times a power of ten, at least 1."""
    top = max((v for v in values if v is not None), default=0.0)
    if top <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(top))
    for step in (1, 2, 5, 10):
        if top <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop ends at 10


def _text_width(text: str) -> float:
    """Roughly how wide ``text`` runs at the charts' font size (full-width counts double)."""
    return sum(7.5 if ord(ch) < 0x2E80 else 13.5 for ch in text)


def _legend(series: Sequence[Series]) -> list[tuple[float, float, int]]:
    """Where each series' key goes (x, baseline, index), wrapping at the chart's width."""
    placed: list[tuple[float, float, int]] = []
    x, y = 0.0, 15.0
    for n, item in enumerate(series):
        width = 16 + _text_width(item.name) + 16
        if x > 0 and x + width > WIDTH:
            x, y = 0.0, y + _LEGEND_HEIGHT - 4
        placed.append((x, y, n))
        x += width
    return placed


def bar_chart(
    chart: Chart,
    *,
    categories: Sequence[str],
    series: Sequence[Series],
    value_text: Callable[[float], str],
    suppressed_text: str,
    maximum: float | None = None,
) -> str:
    """Horizontal bars, one group per category with a bar per series.

    The category's label sits above its bars, so long Japanese names fit on a phone.
    A withheld value draws no bar but ``suppressed_text``; ``maximum`` fixes the scale
    (1.0 for rates), else it is rounded up from the largest value.
    """
    if any(len(s.values) != len(categories) for s in series):
        msg = "every series needs one value per category"
        raise ValueError(msg)
    top = maximum or _scale_max([v for s in series for v in s.values])
    keys = _legend(series) if len(series) > 1 else []
    legend = (max(y for _, y, _ in keys) + 14) if keys else 0
    group = _LABEL_HEIGHT + len(series) * (_BAR_HEIGHT + _BAR_GAP) + _GROUP_GAP
    height = legend + max(1, len(categories)) * group
    span = WIDTH - _VALUE_SPACE
    parts = _open(chart, height, "bar")
    for x, y, n in keys:
        parts.append(
            f'<rect class="legend-key series-{n}" x="{_number(x)}" y="{_number(y - 11)}" '
            f'width="12" height="12"/>'
        )
        parts.append(
            f'<text class="legend" x="{_number(x + 16)}" y="{_number(y)}">'
            f"{escape(series[n].name)}</text>"
        )
    if not categories:
        parts.append(f'<text class="empty" x="0" y="{_number(height - 4)}">–</text>')
    for index, category in enumerate(categories):
        y = legend + index * group
        parts.append(
            f'<text class="category" x="0" y="{_number(y + 13)}">{escape(category)}</text>'
        )
        for n, item in enumerate(series):
            value = item.values[index]
            bar_y = y + _LABEL_HEIGHT + n * (_BAR_HEIGHT + _BAR_GAP)
            text_y = _number(bar_y + 12)
            if value is None:
                parts.append(
                    f'<text class="suppressed" x="0" y="{text_y}">{escape(suppressed_text)}</text>'
                )
                continue
            length = span * min(value, top) / top
            parts.append(
                f'<rect class="bar series-{n}" x="0" y="{_number(bar_y)}" '
                f'width="{_number(length)}" height="{_BAR_HEIGHT}"/>'
            )
            parts.append(
                f'<text class="value" x="{_number(length + 4)}" y="{text_y}">'
                f"{escape(value_text(value))}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    chart: Chart,
    *,
    labels: Sequence[str],
    values: Sequence[float | None],
    value_text: Callable[[float], str],
    tick_every: int = 7,
) -> str:
    """A line over consecutive points (days), broken where a value is withheld.

    Each published value is a ``circle.point``; a withheld one is marked on the axis
    (``rect.withheld``); ``labels`` name the points, one in ``tick_every`` on the axis
    and the last (the regular one before it is left out when it would crowd it).
    """
    if len(labels) != len(values):
        msg = "one label per value"
        raise ValueError(msg)
    height, left, right, top_pad, bottom = 200.0, 40.0, 16.0, 12.0, 32.0
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom
    top = _scale_max(values)
    count = len(values)
    step = plot_w / max(1, count - 1)

    def x_of(i: int) -> float:
        return left + (i * step if count > 1 else plot_w / 2)

    def y_of(v: float) -> float:
        return top_pad + plot_h - plot_h * v / top

    parts = _open(chart, height, "line")
    # Whole numbers on the axis: the middle line only when it falls on one.
    fractions = (0.0, 0.5, 1.0) if (top / 2).is_integer() else (0.0, 1.0)
    for fraction in fractions:
        y = y_of(top * fraction)
        parts.append(
            f'<line class="grid" x1="{_number(left)}" y1="{_number(y)}" '
            f'x2="{_number(WIDTH - right)}" y2="{_number(y)}"/>'
        )
        parts.append(
            f'<text class="axis axis-y" x="{_number(left - 6)}" y="{_number(y + 4)}">'
            f"{escape(value_text(top * fraction))}</text>"
        )
    run: list[str] = []
    runs: list[list[str]] = []
    for i, value in enumerate(values):
        if value is None:
            if run:
                runs.append(run)
            run = []
            continue
        run.append(f"{_number(x_of(i))},{_number(y_of(value))}")
    if run:
        runs.append(run)
    parts.extend(
        f'<polyline class="line" points="{" ".join(points)}"/>'
        for points in runs
        if len(points) > 1
    )
    for i, value in enumerate(values):
        if value is None:
            parts.append(
                f'<rect class="withheld" x="{_number(x_of(i) - 3)}" '
                f'y="{_number(top_pad + plot_h - 6)}" width="6" height="6"/>'
            )
        else:
            parts.append(
                f'<circle class="point" cx="{_number(x_of(i))}" cy="{_number(y_of(value))}" r="3"/>'
            )
        near_last = count - 1 - i < tick_every / 2
        if (i % tick_every == 0 and not near_last) or i == count - 1:
            # The last label ends at its point, so it stays inside the chart.
            kind = "axis axis-x last" if i == count - 1 and count > 1 else "axis axis-x"
            parts.append(
                f'<text class="{kind}" x="{_number(x_of(i))}" '
                f'y="{_number(height - 10)}">{escape(labels[i])}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
