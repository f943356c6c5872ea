"""The public usage dashboard (/stats) and its open data (/stats/data.json, CSV per table).

No login. The figures come from the process's cache (``Container.stats_cache``), already
suppressed; the routes only pick, label and draw them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from myna.notices import CATEGORY_LABELS, Category
from myna.platform import i18n
from myna.platform.api_errors import error_responses
from myna.platform.db import unit_of_work
from myna.platform.errors import N_, NotFoundError
from myna.platform.i18n import gettext as _
from myna.platform.web import get_container, templates_beside
from myna.stats import charts, service
from myna.stats.domain import ORGANIZATION_TYPES, Counts, Dashboard, Figure, age_band_label
from myna.stats.schemas import (
    TABLES,
    StatsRead,
    TableName,
    card_rows,
    stats_read,
    status_label,
    to_csv,
)

templates = templates_beside(__file__)
router = APIRouter(tags=["usage statistics"])
MUNICIPALITY_PATTERN = r"^[0-9]{6}$"
ERRORS = error_responses(404, 422)
Municipality = Annotated[
    str | None,
    Query(
        pattern=MUNICIPALITY_PATTERN,
        description="Only this municipality's cards (local government code, 6 digits).",
    ),
]


class NoFiguresForMunicipalityError(NotFoundError, code="stats_municipality_not_found"):
    """A municipality without residents in the registry: nothing to show for it."""

    message = N_(
        "There are no figures for the municipality {municipality}. "
        "Choose a municipality from the list."
    )


def _dashboard(request: Request) -> Dashboard:
    """The figures, from the cache while fresh (computed in a unit of work of their own)."""
    container = get_container(request)

    def compute() -> Dashboard:
        with unit_of_work(container.session_factory) as session:
            return service.compute(session=session, threshold=container.settings.stats_threshold)

    return container.stats_cache.get(compute)


def _checked(dashboard: Dashboard, municipality: str | None) -> str | None:
    if municipality is not None and municipality not in dashboard.cards.municipalities:
        raise NoFiguresForMunicipalityError(municipality=municipality)
    return municipality


def _public(seconds: float) -> dict[str, str]:
    """Open data may be kept by browsers and proxies as long as the process keeps it."""
    return {"cache-control": f"public, max-age={int(seconds)}"}


@router.get(
    "/stats/data.json",
    responses=ERRORS,
    summary="Every table of the usage statistics",
    description=(
        "The figures of the public dashboard (利用状況): card holders and issuance rates by "
        "municipality and age band, logins per day, exchanges by procedure, notices sent and "
        "read, applications by procedure and status, API uses by organisation type. Counts "
        "below the threshold are withheld (value null, suppressed true), with complementary "
        "suppression so that no withheld count can be recovered from totals. A row whose "
        "key is null is the table's total. No login needed."
    ),
)
def data_json(request: Request, response: Response, municipality: Municipality = None) -> StatsRead:
    dashboard = _dashboard(request)
    seconds = get_container(request).settings.stats_cache_seconds
    chosen = _checked(dashboard, municipality)
    response.headers.update(_public(seconds))
    return stats_read(dashboard, cache_seconds=seconds, municipality=chosen)


@router.get(
    "/stats/{table}.csv",
    responses={**ERRORS, 200: {"content": {"text/csv": {}}, "description": "The table as CSV."}},
    response_class=Response,
    summary="One table of the usage statistics as CSV",
    description=(
        "UTF-8 CSV with a header row, one table of /stats/data.json. A count is two "
        "columns: its value (empty when withheld) and ``<name>_suppressed`` (true/false). "
        "An empty key is the table's total."
    ),
)
def table_csv(
    request: Request,
    table: Annotated[TableName, Path(description="cards, logins, exchanges, notices, …")],
    municipality: Municipality = None,
) -> Response:
    dashboard = _dashboard(request)
    seconds = get_container(request).settings.stats_cache_seconds
    chosen = _checked(dashboard, municipality)
    if table == "cards":
        rows: list[Any] = card_rows(dashboard, chosen)
    else:
        rows = getattr(stats_read(dashboard, cache_seconds=seconds), table)
    return Response(
        to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            **_public(seconds),
            "content-disposition": f'attachment; filename="myna-stats-{table}.csv"',
        },
    )


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a table behind a chart: its label and its cells, as shown."""

    label: str
    cells: tuple[str, ...]
    total: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    """A chart with the table of its figures."""

    id: str
    title: str
    note: str
    chart: Markup
    label_header: str
    headers: tuple[str, ...]
    rows: tuple[Row, ...]


def _shown(figure: Figure, threshold: int) -> str:
    return f"<{threshold}" if figure.value is None else f"{figure.value:,}"


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def _name(names: Mapping[str, tuple[str, str]], code: str) -> str:
    ja, en = names.get(code, (code, code))
    return ja if i18n.get_locale() == "ja" else en


def _value(figure: Figure) -> float | None:
    return None if figure.value is None else float(figure.value)


def _count_text(value: float) -> str:
    return f"{round(value):,}"


def _list_section(
    *,
    section_id: str,
    title: str,
    note: str,
    counts: Counts[str],
    label: Callable[[str], str],
    header: str,
    label_header: str,
    threshold: int,
) -> Section:
    labels = [label(key) for key in counts.keys]
    chart = charts.bar_chart(
        charts.Chart(
            section_id + "-chart", title, _("Bar chart. The table below has the figures.")
        ),
        categories=labels,
        series=[
            charts.Series(header, tuple(_value(counts.figures[k]) for k in counts.keys)),
        ],
        value_text=_count_text,
        suppressed_text=f"<{threshold}",
    )
    rows = [
        Row(text, (_shown(counts.figures[key], threshold),))
        for key, text in zip(counts.keys, labels, strict=True)
    ]
    rows.append(Row(_("Total"), (_shown(counts.total, threshold),), total=True))
    return Section(
        section_id,
        title,
        note,
        Markup(chart),  # noqa: S704 - drawn by charts, every text escaped
        label_header,
        (header,),
        tuple(rows),
    )


def _band(start: int | None) -> str:
    if start is None:
        return _("All ages")
    return _("%(band)s years") % {"band": age_band_label(start)}


def _card_sections(dashboard: Dashboard, municipality: str | None) -> list[Section]:
    table, k = dashboard.cards, dashboard.threshold
    where = municipality
    cells = [table.cells[where, band] for band in table.bands]
    labels = [_band(band) for band in table.bands]
    headers = (_("Residents"), _("Card holders"), _("Issuance rate"))
    band_rows = [
        Row(_band(band), (_shown(c.residents, k), _shown(c.holders, k), _percent(c.rate)))
        for band, c in zip([*table.bands, None], [*cells, table.cells[where, None]], strict=True)
    ]
    band_rows[-1] = Row(band_rows[-1].label, band_rows[-1].cells, total=True)
    place = _("all municipalities") if where is None else dashboard.municipality_names[where]
    holders = charts.bar_chart(
        charts.Chart(
            "cards-by-band-chart",
            _("Card holders by age band (%(place)s)") % {"place": place},
            _("Bar chart. The table below has the figures."),
        ),
        categories=labels,
        series=[charts.Series(_("Card holders"), tuple(_value(c.holders) for c in cells))],
        value_text=_count_text,
        suppressed_text=f"<{k}",
    )
    rates = charts.bar_chart(
        charts.Chart(
            "rates-by-band-chart",
            _("Issuance rate by age band (%(place)s)") % {"place": place},
            _(
                "Bar chart of card holders per resident, 0 to 100%. "
                "The table below has the figures."
            ),
        ),
        categories=labels,
        series=[charts.Series(_("Issuance rate"), tuple(c.rate for c in cells))],
        value_text=lambda v: f"{v * 100:.1f}%",
        suppressed_text=f"<{k}",
        maximum=1.0,
    )
    sections = [
        Section(
            "cards",
            _("Cards issued by age band"),
            _("Residents holding a MyNumber card in use, counted once per holder."),
            Markup(holders + rates),  # noqa: S704 - drawn by charts, every text escaped
            _("Age band"),
            headers,
            tuple(band_rows),
        )
    ]
    if where is None:
        codes = table.municipalities
        names = [dashboard.municipality_names[c] for c in codes]
        by_place = charts.bar_chart(
            charts.Chart(
                "rates-by-municipality-chart",
                _("Issuance rate by municipality"),
                _(
                    "Bar chart of card holders per resident, 0 to 100%. "
                    "The table below has the figures."
                ),
            ),
            categories=names,
            series=[
                charts.Series(_("Issuance rate"), tuple(table.cells[c, None].rate for c in codes))
            ],
            value_text=lambda v: f"{v * 100:.1f}%",
            suppressed_text=f"<{k}",
            maximum=1.0,
        )
        rows = [
            Row(
                name,
                (
                    _shown(table.cells[c, None].residents, k),
                    _shown(table.cells[c, None].holders, k),
                    _percent(table.cells[c, None].rate),
                ),
            )
            for c, name in zip(codes, names, strict=True)
        ]
        total = table.cells[None, None]
        rows.append(
            Row(
                _("Total"),
                (_shown(total.residents, k), _shown(total.holders, k), _percent(total.rate)),
                total=True,
            )
        )
        sections.append(
            Section(
                "municipalities",
                _("Issuance rate by municipality"),
                _("Card holders per resident of each municipality."),
                Markup(by_place),  # noqa: S704 - drawn by charts, every text escaped
                _("Municipality"),
                headers,
                tuple(rows),
            )
        )
    return sections


def _cross_rows(
    dashboard: Dashboard, municipality: str | None
) -> tuple[tuple[str, ...], list[Row]]:
    """Municipality × age band: card holders and rate in each cell."""
    table, k = dashboard.cards, dashboard.threshold
    codes = [municipality] if municipality is not None else [*table.municipalities, None]
    headers = tuple(_band(band) for band in [*table.bands, None])
    rows = []
    for code in codes:
        label = _("Total") if code is None else dashboard.municipality_names[code]
        groups = [table.cells[code, band] for band in [*table.bands, None]]
        cells = tuple(f"{_shown(c.holders, k)} ({_percent(c.rate)})" for c in groups)
        rows.append(Row(label, cells, total=code is None))
    return headers, rows


def _logins_section(dashboard: Dashboard) -> Section:
    counts, k = dashboard.logins, dashboard.threshold
    days = counts.keys
    chart = charts.line_chart(
        charts.Chart(
            "logins-chart",
            _("Logins per day, last 30 days"),
            _(
                "Line chart from %(first)s to %(last)s; a withheld day breaks the line. "
                "The table below has the figures."
            )
            % {"first": i18n.format_date(days[0]), "last": i18n.format_date(days[-1])},
        ),
        labels=[f"{d.month}/{d.day}" for d in days],
        values=[_value(counts.figures[d]) for d in days],
        value_text=_count_text,
    )
    rows = [Row(i18n.format_date(d), (_shown(counts.figures[d], k),)) for d in days]
    rows.append(Row(_("Total"), (_shown(counts.total, k),), total=True))
    return Section(
        "logins",
        _("Logins per day"),
        _("Residents' logins to the portal with the card, per day in Japan time."),
        Markup(chart),  # noqa: S704 - drawn by charts, every text escaped
        _("Day"),
        (_("Logins"),),
        tuple(rows),
    )


def _notices_section(dashboard: Dashboard) -> Section:
    sent, read, k = dashboard.notices_sent, dashboard.notices_read, dashboard.threshold
    labels = [_(CATEGORY_LABELS[Category(c)]) for c in sent.keys]
    chart = charts.bar_chart(
        charts.Chart(
            "notices-chart",
            _("Notices sent and read by category"),
            _("Bar chart with two bars per category. The table below has the figures."),
        ),
        categories=labels,
        series=[
            charts.Series(_("Sent notices"), tuple(_value(sent.figures[c]) for c in sent.keys)),
            charts.Series(_("Readings"), tuple(_value(read.figures[c]) for c in read.keys)),
        ],
        value_text=_count_text,
        suppressed_text=f"<{k}",
    )
    rows = [
        Row(label, (_shown(sent.figures[c], k), _shown(read.figures[c], k)))
        for c, label in zip(sent.keys, labels, strict=True)
    ]
    rows.append(Row(_("Total"), (_shown(sent.total, k), _shown(read.total, k)), total=True))
    return Section(
        "notices",
        _("Notices sent and read"),
        _(
            "A notice to a group of residents is sent once; "
            "read counts each resident who opened it."
        ),
        Markup(chart),  # noqa: S704 - drawn by charts, every text escaped
        _("Category"),
        (_("Sent notices"), _("Readings")),
        tuple(rows),
    )


def _applications_section(dashboard: Dashboard) -> Section:
    table, k = dashboard.applications, dashboard.threshold
    labels = [_name(dashboard.application_names, code) for code in table.rows]
    chart = charts.bar_chart(
        charts.Chart(
            "applications-chart",
            _("Applications by procedure and status"),
            _(
                "Bar chart with a bar per status for each procedure. "
                "The table below has the figures."
            ),
        ),
        categories=labels,
        series=[
            charts.Series(
                status_label(status),
                tuple(_value(table.figures[code, status]) for code in table.rows),
            )
            for status in table.columns
        ],
        value_text=_count_text,
        suppressed_text=f"<{k}",
    )
    rows = [
        Row(
            label,
            tuple(_shown(table.figures[code, status], k) for status in [*table.columns, None]),
        )
        for code, label in zip(table.rows, labels, strict=True)
    ]
    rows.append(
        Row(
            _("Total"),
            tuple(_shown(table.figures[None, status], k) for status in [*table.columns, None]),
            total=True,
        )
    )
    return Section(
        "applications",
        _("Applications by procedure and status"),
        _("Signed e-applications received by municipalities, by where they stand."),
        Markup(chart),  # noqa: S704 - drawn by charts, every text escaped
        _("Application procedure"),
        (*(status_label(s) for s in table.columns), _("Total")),
        tuple(rows),
    )


def _sections(dashboard: Dashboard, municipality: str | None) -> list[Section]:
    k = dashboard.threshold
    return [
        *_card_sections(dashboard, municipality),
        _logins_section(dashboard),
        _list_section(
            section_id="exchanges",
            title=_("Exchanges by procedure"),
            note=_(
                "Exchanges of personal data through the information provision network, "
                "from its log."
            ),
            counts=dashboard.exchanges,
            label=lambda code: _name(dashboard.exchange_names, code),
            header=_("Exchanges"),
            label_header=_("Procedure"),
            threshold=k,
        ),
        _notices_section(dashboard),
        _applications_section(dashboard),
        _list_section(
            section_id="api-uses",
            title=_("API uses by organisation type"),
            note=_("Answered requests of organisations to the platform's APIs."),
            counts=dashboard.api_uses,
            label=lambda kind: _(ORGANIZATION_TYPES[kind]),
            header=_("Uses"),
            label_header=_("Organisation type"),
            threshold=k,
        ),
    ]


@router.get("/stats", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(request: Request, municipality: Municipality = None) -> Response:
    dashboard = _dashboard(request)
    chosen = _checked(dashboard, municipality)
    cross_headers, cross_rows = _cross_rows(dashboard, chosen)
    withheld = chosen is not None and dashboard.cards.cells[chosen, None].residents.suppressed
    seconds = get_container(request).settings.stats_cache_seconds
    return templates.page(
        request,
        "stats/dashboard.html",
        stats_as_of=dashboard.as_of,
        stats_threshold=dashboard.threshold,
        stats_cache_minutes=max(1, round(seconds / 60)),
        stats_sections=_sections(dashboard, chosen),
        stats_cross_headers=cross_headers,
        stats_cross_rows=cross_rows,
        stats_municipalities=[
            (code, dashboard.municipality_names[code]) for code in dashboard.cards.municipalities
        ],
        stats_municipality=chosen,
        stats_withheld=withheld,
        stats_tables=TABLES,
    )
