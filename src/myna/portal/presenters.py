"""View models for わたしの情報 and やりとり履歴: codes turned into names in the reader's
language, payloads into labelled fields, exchange entries into table rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from myna import agencies, certificates, jpki, network, proxy
from myna.network.transparency import Exchange, LogEntry, Outcome
from myna.platform import i18n
from myna.platform.i18n import gettext as _


def _name(ja: str, en: str) -> str:
    return ja if i18n.get_locale() == "ja" else en


@dataclass(frozen=True, slots=True)
class CategoryOption:
    """A category checkbox."""

    code: str
    label: str


@dataclass(frozen=True, slots=True)
class RecordView:
    """One record of わたしの情報 with its source and date."""

    item: str
    item_label: str
    provider: str
    provider_label: str
    updated_at: datetime
    fields: list[tuple[str, str]]
    payload: dict[str, Any]
    names: list[str] = field(default_factory=list)  # each field's name, as ``fields``


@dataclass
class SectionView:
    """One category's records."""

    code: str
    label: str
    records: list[RecordView] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SelfInfoView:
    """The result of one retrieval."""

    sections: list[SectionView]
    unavailable: list[str]


def categories() -> list[CategoryOption]:
    """Every category, in the deck's order."""
    catalog = agencies.load_catalog()
    return [
        CategoryOption(code=c.code, label=_name(c.name_ja, c.name_en))
        for c in sorted(catalog.categories.values(), key=lambda c: c.order)
    ]


def items_of(selected: Iterable[str]) -> list[str]:
    """The item codes of the selected categories (unknown codes ignored)."""
    catalog = agencies.load_catalog()
    wanted = set(selected)
    return [
        item.code
        for category in sorted(catalog.categories.values(), key=lambda c: c.order)
        if category.code in wanted
        for item in catalog.items_in(category.code)
    ]


def agency_label(session: Session, code: str) -> str:
    """An agency's name in the reader's language (its code if unknown)."""
    names = _agency_names(code, session)
    return _name(*names) if names else code


def _agency_names(code: str, session: Session) -> tuple[str, str] | None:
    if code == network.PORTAL:
        return ("マイナポータル", "Mynaportal")
    if code in ("-", network.HUB):
        return ("情報提供ネットワークシステム", "Information provision network")
    if code == jpki.LOG_PROVIDER:
        return ("地方公共団体情報システム機構（J-LIS）", "J-LIS")
    if code == certificates.KIOSK_REQUESTER:
        return ("コンビニ交付（証明書交付端末）", "Certificate kiosk (コンビニ交付)")
    if code.startswith(jpki.VERIFIER_PREFIX):
        # A JPKI verifier that received the latest 4 info: its registered name.
        verifier = jpki.verifier(session=session, code=code.removeprefix(jpki.VERIFIER_PREFIX))
        return (verifier.name, verifier.name) if verifier else None
    return _cached_agency(code, session)


def _cached_agency(code: str, session: Session) -> tuple[str, str] | None:
    cached = _AGENCY_NAMES.get(code)
    if cached is not None:
        return cached
    try:
        agency = agencies.resolve_agency(session=session, code=code)
    except agencies.UnknownAgencyError:
        return None
    _AGENCY_NAMES[code] = (agency.name_ja, agency.name_en)
    return _AGENCY_NAMES[code]


# Agency names never change while the process runs.
_AGENCY_NAMES: dict[str, tuple[str, str]] = {}


def item_label(code: str) -> str:
    """An item's name in the reader's language."""
    if code == jpki.LOG_ITEM:
        return _("Latest basic four information (name, address, date of birth, sex)")
    if code in certificates.LOG_ITEM_NAMES:
        return _name(*certificates.LOG_ITEM_NAMES[code])
    try:
        schema = agencies.load_catalog().item(code)
    except agencies.UnknownItemError:
        return code
    return _name(schema.name_ja, schema.name_en)


def _value(value: object, spec: agencies.FieldSpec) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if spec.type is agencies.FieldType.DATE and isinstance(value, str):
        try:
            return i18n.format_date(date.fromisoformat(value))
        except ValueError:
            return value
    if spec.type is agencies.FieldType.DECIMAL and isinstance(value, int | float):
        text = agencies.display_decimal(value, spec)
    elif isinstance(value, int):
        text = agencies.display_integer(value, spec)
    else:
        text = str(value)
    return f"{text}{spec.unit}" if spec.unit else text


def self_info_view(
    session: Session, outcome: network.ExchangeOutcome, selected: Sequence[str]
) -> SelfInfoView:
    """Group an exchange's records by category, with labels, sources and dates."""
    catalog = agencies.load_catalog()
    sections = {
        c.code: SectionView(code=c.code, label=c.label)
        for c in categories()
        if c.code in set(selected)
    }
    for result in outcome.results:
        for record in result.records:
            schema = catalog.item(record.item)
            shown = [spec for spec in schema.fields if spec.name in record.payload]
            fields = [
                (_name(spec.label_ja, spec.label_en), _value(record.payload.get(spec.name), spec))
                for spec in shown
            ]
            section = sections.get(schema.category)
            if section is None:
                continue
            section.records.append(
                RecordView(
                    item=record.item,
                    item_label=_name(schema.name_ja, schema.name_en),
                    provider=record.provider,
                    provider_label=agency_label(session, record.provider),
                    updated_at=datetime.fromisoformat(record.updated_at),
                    fields=fields,
                    payload=record.payload,
                    names=[spec.name for spec in shown],
                )
            )
    unavailable = sorted(
        {
            sections[catalog.item(item).category].label
            for item in outcome.unavailable_items()
            if catalog.item(item).category in sections
        }
    )
    return SelfInfoView(sections=list(sections.values()), unavailable=unavailable)


def self_info_json(view: SelfInfoView) -> dict[str, Any]:
    """The retrieval as a JSON document (the download)."""
    return {
        "categories": [
            {
                "code": section.code,
                "name": section.label,
                "records": [
                    {
                        "item": r.item,
                        "item_name": r.item_label,
                        "provider": r.provider,
                        "provider_name": r.provider_label,
                        "updated_at": r.updated_at.isoformat(),
                        "data": r.payload,
                    }
                    for r in section.records
                ],
            }
            for section in view.sections
        ],
        "unavailable": view.unavailable,
    }


def self_info_csv(view: SelfInfoView) -> str:
    """The retrieval as CSV: one line per field of each record."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [_("Category"), _("Information"), _("Source"), _("Updated"), _("Field"), _("Value")]
    )
    for section in view.sections:
        for r in section.records:
            for label, value in r.fields:
                writer.writerow(
                    [
                        section.label,
                        r.item_label,
                        r.provider_label,
                        r.updated_at.isoformat(),
                        label,
                        value,
                    ]
                )
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class ExchangeRow:
    """One line of やりとり履歴."""

    index: int | None  # None while the entry is pending (not yet sequenced)
    time: datetime
    requester: str
    provider: str
    procedure: str
    item: str
    outcome: str
    proven: bool
    purpose: str = ""
    outcome_code: str = ""


def outcome_label(outcome: str) -> str:
    """An outcome in words."""
    labels = {
        "success": _("Provided"),
        "no_record": _("No record held"),
        "denied": _("Refused (not authorized)"),
        "failed": _("Failed"),
        "timeout": _("No answer in time"),
    }
    return labels.get(outcome, outcome)


def procedure_label(code: str) -> str:
    """A procedure's name in the reader's language."""
    if code == network.SELF_DISCLOSURE:
        return _("Your own request (self-information disclosure)")
    if code == jpki.LOG_PROCEDURE:
        return _("Latest basic four information service (最新4情報提供), with your consent")
    procedure = agencies.load_catalog().procedures.get(code)
    return _name(procedure.name_ja, procedure.name_en) if procedure else code


def exchange_rows(
    session: Session, entries: Sequence[LogEntry], tree_size: int
) -> list[ExchangeRow]:
    """Table rows for log entries; ``proven`` when a signed tree head covers the entry."""
    return [
        ExchangeRow(
            index=e.index,
            time=e.time,
            requester=agency_label(session, e.requester),
            provider=agency_label(session, e.provider),
            procedure=procedure_label(e.procedure),
            item=item_label(e.item),
            outcome=outcome_label(e.outcome),
            outcome_code=e.outcome.value,
            proven=e.index is not None and e.index < tree_size,
            purpose=e.purpose or "",
        )
        for e in entries
    ]


@dataclass(frozen=True, slots=True)
class ExchangeView:
    """One exchange of やりとり履歴: who asked, why, when; a summary; its items."""

    time: datetime
    requester: str
    procedure: str
    purpose: str
    summary: list[tuple[str, str, int]]
    rows: list[ExchangeRow]
    # The proxy (代理人) who asked for the resident; empty when they asked themselves.
    acted_by: str = ""


def _summary(outcomes: Sequence[Outcome]) -> list[tuple[str, str, int]]:
    """How the items ended: (outcome, its label, how many), in the outcomes' order."""
    return [
        (outcome.value, outcome_label(outcome.value), outcomes.count(outcome))
        for outcome in Outcome
        if outcome in outcomes
    ]


def exchange_views(
    session: Session, exchanges: Sequence[Exchange], tree_size: int
) -> list[ExchangeView]:
    """やりとり履歴 as exchanges, each expandable to its items."""
    return [
        ExchangeView(
            time=exchange.time,
            requester=agency_label(session, exchange.requester),
            procedure=procedure_label(exchange.procedure),
            purpose=exchange.purpose or "",
            summary=_summary([e.outcome for e in exchange.entries]),
            rows=exchange_rows(session, exchange.entries, tree_size),
            acted_by=actor_name(session, exchange.actor),
        )
        for exchange in exchanges
    ]


def actor_name(session: Session, actor: str | None) -> str:
    """The name of the proxy an exchange-log entry names as its actor ("" for none)."""
    if actor is None or not actor.isdigit():
        return ""
    return proxy.name_of(session=session, resident_id=int(actor))


def exchanges_csv(rows: Sequence[ExchangeRow]) -> str:
    """やりとり履歴 as CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "index",
            _("Date"),
            _("Requester"),
            _("Provider"),
            _("Procedure"),
            _("Information"),
            _("Result"),
            _("Purpose"),
        ]
    )
    for r in rows:
        writer.writerow(
            [
                r.index,
                r.time.isoformat(),
                r.requester,
                r.provider,
                r.procedure,
                r.item,
                r.outcome,
                r.purpose,
            ]
        )
    return buffer.getvalue()
