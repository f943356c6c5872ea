"""The open data of the usage statistics: JSON models (OpenAPI) and their CSV rows.

Every table is a list of rows; a row whose key is ``null`` (empty in CSV) is that
table's total. A withheld count is ``{"value": null, "suppressed": true}`` in JSON and an
empty value with ``true`` in its ``_suppressed`` column in CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from myna.applications.domain import STATUS_LABELS, ApplicationStatus
from myna.notices import CATEGORY_LABELS, Category
from myna.platform import i18n
from myna.stats.domain import (
    ORGANIZATION_TYPES,
    Counts,
    Dashboard,
    Figure,
    age_band_label,
)

TableName = Literal["cards", "logins", "exchanges", "notices", "applications", "api_uses"]
TABLES: tuple[TableName, ...] = (
    "cards",
    "logins",
    "exchanges",
    "notices",
    "applications",
    "api_uses",
)


class FigureRead(BaseModel):
    """One count: its value, or null when withheld because it is too small to publish."""

    value: int | None = Field(description="The count; null when withheld.")
    suppressed: bool = Field(description="True when the count is withheld.")


class CardRow(BaseModel):
    """Residents, card holders and the issuance rate of one municipality and age band."""

    municipality_code: str | None = Field(description="Local government code; null: all.")
    municipality_name: str | None
    age_band: str | None = Field(description="e.g. 0-9, 80+; null: all ages.")
    residents: FigureRead
    card_holders: FigureRead
    issuance_rate: float | None = Field(
        description="Card holders per resident (0–1); null when either count is withheld."
    )


class LoginRow(BaseModel):
    """Residents' logins on one day in Japan."""

    day: date | None = Field(description="The day in Japan time; null: the 30 days.")
    logins: FigureRead


class ExchangeRow(BaseModel):
    """Exchanges of the information provision network for one procedure (事務)."""

    procedure: str | None = Field(description="The procedure's code; null: all.")
    name_ja: str | None
    name_en: str | None
    exchanges: FigureRead


class NoticeRow(BaseModel):
    """Notices sent and read in one category."""

    category: str | None = Field(description="The notices' category; null: all.")
    label_ja: str | None
    label_en: str | None
    sent: FigureRead
    read: FigureRead


class ApplicationRow(BaseModel):
    """E-applications of one procedure in one processing status."""

    procedure: str | None = Field(description="The procedure's code; null: all.")
    name_ja: str | None
    name_en: str | None
    status: str | None = Field(description="The processing status; null: all.")
    applications: FigureRead


class ApiUseRow(BaseModel):
    """Uses of the platform's APIs by one type of organisation."""

    organization_type: str | None = Field(description="The organisations' type; null: all.")
    label_ja: str | None
    label_en: str | None
    uses: FigureRead


class StatsRead(BaseModel):
    """Every table of the usage statistics (利用状況), as the dashboard shows them."""

    as_of: datetime = Field(description="When the figures were computed (UTC).")
    threshold: int = Field(description="Counts from 1 to threshold − 1 are withheld.")
    cache_seconds: float = Field(description="How long the figures are reused at most.")
    cards: list[CardRow]
    logins: list[LoginRow]
    exchanges: list[ExchangeRow]
    notices: list[NoticeRow]
    applications: list[ApplicationRow]
    api_uses: list[ApiUseRow]


def _figure(figure: Figure) -> FigureRead:
    return FigureRead(value=figure.value, suppressed=figure.suppressed)


def _ja(message: str) -> str:
    return i18n.translations("ja").gettext(message)


def card_rows(dashboard: Dashboard, municipality: str | None = None) -> list[CardRow]:
    """The cards table, of one municipality (its bands and total) or of all."""
    table = dashboard.cards
    codes: Sequence[str | None] = (
        [municipality] if municipality is not None else [*table.municipalities, None]
    )
    rows = []
    for code in codes:
        for band in [*table.bands, None]:
            cell = table.cells[code, band]
            rows.append(
                CardRow(
                    municipality_code=code,
                    municipality_name=None if code is None else dashboard.municipality_names[code],
                    age_band=None if band is None else age_band_label(band).replace("–", "-"),
                    residents=_figure(cell.residents),
                    card_holders=_figure(cell.holders),
                    issuance_rate=cell.rate,
                )
            )
    return rows


def _list(counts: Counts[str]) -> list[tuple[str | None, Figure]]:
    return [*((key, counts.figures[key]) for key in counts.keys), (None, counts.total)]


def stats_read(
    dashboard: Dashboard, *, cache_seconds: float, municipality: str | None = None
) -> StatsRead:
    """The open data of ``dashboard`` (the cards of one municipality if given)."""
    logins: list[LoginRow] = [
        LoginRow(day=day, logins=_figure(dashboard.logins.figures[day]))
        for day in dashboard.logins.keys
    ]
    logins.append(LoginRow(day=None, logins=_figure(dashboard.logins.total)))
    sent, read = _list(dashboard.notices_sent), _list(dashboard.notices_read)
    applications = dashboard.applications
    return StatsRead(
        as_of=dashboard.as_of,
        threshold=dashboard.threshold,
        cache_seconds=cache_seconds,
        cards=card_rows(dashboard, municipality),
        logins=logins,
        exchanges=[
            ExchangeRow(
                procedure=code,
                name_ja=None if code is None else dashboard.exchange_names.get(code, (code,))[0],
                name_en=None if code is None else dashboard.exchange_names.get(code, ("", code))[1],
                exchanges=_figure(figure),
            )
            for code, figure in _list(dashboard.exchanges)
        ],
        notices=[
            NoticeRow(
                category=category,
                label_ja=None if category is None else _ja(CATEGORY_LABELS[Category(category)]),
                label_en=None if category is None else CATEGORY_LABELS[Category(category)],
                sent=_figure(sent_figure),
                read=_figure(read_figure),
            )
            for (category, sent_figure), (_, read_figure) in zip(sent, read, strict=True)
        ],
        applications=[
            ApplicationRow(
                procedure=code,
                name_ja=None if code is None else dashboard.application_names.get(code, (code,))[0],
                name_en=None
                if code is None
                else dashboard.application_names.get(code, ("", code))[1],
                status=status,
                applications=_figure(applications.figures[code, status]),
            )
            for code in [*applications.rows, None]
            for status in [*applications.columns, None]
        ],
        api_uses=[
            ApiUseRow(
                organization_type=kind,
                label_ja=None if kind is None else _ja(ORGANIZATION_TYPES[kind]),
                label_en=None if kind is None else ORGANIZATION_TYPES[kind],
                uses=_figure(figure),
            )
            for kind, figure in _list(dashboard.api_uses)
        ],
    )


def status_label(status: str) -> str:
    """A processing status in the locale's words."""
    return i18n.gettext(STATUS_LABELS[ApplicationStatus(status)])


def to_csv(rows: Sequence[BaseModel]) -> str:
    """Rows as CSV (RFC 4180, CRLF): a count becomes ``name`` and ``name_suppressed``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header: list[str] = []
    lines: list[list[str]] = []
    for row in rows:
        flat: dict[str, str] = {}
        for name, value in row.model_dump(mode="json").items():
            if isinstance(value, dict):
                flat[name] = "" if value["value"] is None else str(value["value"])
                flat[f"{name}_suppressed"] = "true" if value["suppressed"] else "false"
            else:
                flat[name] = "" if value is None else str(value)
        if not header:
            header = list(flat)
        lines.append([flat[column] for column in header])
    writer.writerow(header)
    writer.writerows(lines)
    return out.getvalue()
