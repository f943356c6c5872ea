"""What the usage statistics page needs to render: a section with its chart and table."""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup

from myna.stats import charts
from myna.stats.schemas import TABLES
from myna.stats.views import Row, Section

_CHART = charts.bar_chart(
    charts.Chart("sample-chart", "年齢階級別カード保有者数", "棒グラフ"),
    categories=["0–9歳", "10–19歳"],
    series=[charts.Series("カード保有者数", (12.0, None))],
    value_text=lambda v: f"{v:,.0f}",
    suppressed_text="<10",
)

CONTEXT = {
    "stats_as_of": datetime(2026, 12, 4, 3, 0, tzinfo=UTC),
    "stats_threshold": 10,
    "stats_cache_minutes": 1,
    "stats_sections": [
        Section(
            "cards",
            "年齢階級別のマイナンバーカード交付状況",
            "有効なカードを持つ住民の数です。",
            Markup(_CHART),  # noqa: S704 - drawn by charts, every text escaped
            "年齢階級",
            ("住民数", "カード保有者数", "交付率"),
            (Row("0–9歳", ("24", "12", "50.0%")), Row("合計", ("24", "12", "50.0%"), total=True)),
        )
    ],
    "stats_cross_headers": ("0–9歳", "全年齢"),
    "stats_cross_rows": [Row("東京都千代田区", ("12 (50.0%)", "12 (50.0%)"))],
    "stats_municipalities": [("131016", "東京都千代田区")],
    "stats_municipality": "131016",
    "stats_withheld": False,
    "stats_tables": TABLES,
}
