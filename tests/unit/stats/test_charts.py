"""The SVG charts: well-formed XML, accessible names, one bar or point per published value."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from myna.stats.charts import Chart, Series, bar_chart, line_chart

NS = {"svg": "http://www.w3.org/2000/svg"}


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


def _classes(root: ET.Element, tag: str, name: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{{{NS['svg']}}}{tag}") if name in e.get("class", "").split()]


def test_a_bar_chart_is_valid_svg_with_a_bar_per_published_value() -> None:
    svg = bar_chart(
        Chart("c1", "カード <保有者> & 交付率", "棒グラフ"),
        categories=["0–9歳", "10–19歳", "A & B"],
        series=[Series("保有者", (12.0, None, 30.0)), Series("住民", (20.0, 40.0, None))],
        value_text=lambda v: f"{v:,.0f}",
        suppressed_text="<10",
    )
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title"
    assert root.get("aria-describedby") == "c1-desc"
    title = root.find("svg:title", NS)
    assert title is not None
    assert title.text == "カード <保有者> & 交付率"
    assert root.find("svg:desc", NS) is not None
    assert len(_classes(root, "rect", "bar")) == 4
    assert len(_classes(root, "rect", "series-1")) == 2 + 1  # two bars and the legend key
    assert [t.text for t in _classes(root, "text", "suppressed")] == ["<10", "<10"]
    assert "style" not in svg


def test_the_longest_bar_fills_the_scale_and_others_are_proportional() -> None:
    svg = bar_chart(
        Chart("c2", "t", "d"),
        categories=["a", "b"],
        series=[Series("s", (50.0, 25.0))],
        value_text=str,
        suppressed_text="<10",
    )
    widths = [float(b.get("width", "0")) for b in _classes(_parse(svg), "rect", "bar")]
    assert widths[0] == pytest.approx(2 * widths[1])


def test_rates_are_drawn_against_a_fixed_maximum() -> None:
    svg = bar_chart(
        Chart("c3", "t", "d"),
        categories=["a"],
        series=[Series("s", (0.5,))],
        value_text=str,
        suppressed_text="<10",
        maximum=1.0,
    )
    (bar,) = _classes(_parse(svg), "rect", "bar")
    assert float(bar.get("width", "0")) == pytest.approx((360 - 64) / 2)


def test_a_series_must_have_a_value_per_category() -> None:
    with pytest.raises(ValueError, match="one value per category"):
        bar_chart(
            Chart("c4", "t", "d"),
            categories=["a", "b"],
            series=[Series("s", (1.0,))],
            value_text=str,
            suppressed_text="<10",
        )


def test_a_line_chart_has_a_point_per_published_day_and_breaks_at_withheld_ones() -> None:
    values = [12.0, 15.0, None, 20.0, 30.0, 0.0, None]
    svg = line_chart(
        Chart("l1", "ログイン数", "折れ線"),
        labels=[f"12/{d}" for d in range(1, 8)],
        values=values,
        value_text=lambda v: f"{v:,.0f}",
        tick_every=3,
    )
    root = _parse(svg)
    assert len(_classes(root, "circle", "point")) == 5
    assert len(_classes(root, "rect", "withheld")) == 2
    lines = _classes(root, "polyline", "line")
    assert [len(p.get("points", "").split()) for p in lines] == [2, 3]
    assert [t.text for t in _classes(root, "text", "axis-x")] == ["12/1", "12/4", "12/7"]


def test_an_empty_chart_is_still_valid() -> None:
    root = _parse(
        bar_chart(
            Chart("e", "t", "d"), categories=[], series=[], value_text=str, suppressed_text=""
        )
    )
    assert _classes(root, "rect", "bar") == []


def test_the_axis_keeps_whole_numbers_and_the_last_day_uncrowded() -> None:
    root = _parse(
        line_chart(
            Chart("l2", "t", "d"),
            labels=[str(d) for d in range(30)],
            values=[1.0] + [0.0] * 29,
            value_text=lambda v: f"{v:,.0f}",
        )
    )
    assert [t.text for t in _classes(root, "text", "axis-y")] == ["0", "1"]
    assert [t.text for t in _classes(root, "text", "axis-x")] == ["0", "7", "14", "21", "29"]
    assert len(_classes(root, "circle", "point")) == 30
