"""訂正の申出 in a municipality's back office: the queue of its agencies, and answers.

A municipality holds records as two agencies of the network (the municipality itself and
its national health insurance); its staff answer the correction requests delivered to
either. The decision is written into the agency's store and the answer sent back
through the hub in one transaction: if the hub refuses the answer, nothing is corrected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from myna import agencies, network
from myna.office.service import get_staff
from myna.platform.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class CorrectionListItem:
    """One request in the queue, as a clerk reads it."""

    id: int
    agency_name: str
    item_name: str
    field_label: str
    proposed: str
    status: str
    received_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class HeldRecord:
    """One record the agency holds for the person, with its fields readable."""

    id: int
    key: str
    fields: list[tuple[str, str, str]]  # (name, label, value)
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class CorrectionDetail:
    """A request with the records in question and what may be corrected."""

    id: int
    agency_code: str
    agency_name: str
    item_name: str
    field_name: str
    field_label: str
    current: str
    proposed: str
    reason: str
    evidence_name: str | None
    evidence_type: str | None
    status: str
    answer_reason: str | None
    received_at: datetime
    answered_at: datetime | None
    records: list[HeldRecord]
    field_choices: list[tuple[str, str]]


def agency_codes(session: Session, staff_id: int) -> list[str]:
    """The network agencies a staff member's municipality answers for."""
    municipality = get_staff(session=session, staff_id=staff_id).municipality_code
    return [
        agencies.municipality_agency_code(municipality),
        agencies.kokuho_agency_code(municipality),
    ]


def _names(session: Session, code: str) -> str:
    try:
        return agencies.resolve_agency(session=session, code=code).name_ja
    except agencies.UnknownAgencyError:
        return code


def queue(
    *, session: Session, staff_id: int, status: agencies.CorrectionStatus | None
) -> list[CorrectionListItem]:
    """The requests to the staff's agencies: open ones oldest first, or of one status."""
    catalog = agencies.load_catalog()
    listed: list[CorrectionListItem] = []
    for code in agency_codes(session, staff_id):
        name = _names(session, code)
        for row in agencies.correction_queue(session=session, agency_code=code, status=status):
            schema = catalog.item(row.item_code)
            spec = schema.field(row.field_name) if row.field_name else None
            listed.append(
                CorrectionListItem(
                    id=row.id,
                    agency_name=name,
                    item_name=schema.name_ja,
                    field_label=spec.label_ja if spec else "",
                    proposed=row.proposed_value,
                    status=row.status,
                    received_at=row.received_at,
                    answered_at=row.answered_at,
                )
            )
    return sorted(listed, key=lambda item: (item.received_at, item.id))


def _owned(session: Session, staff_id: int, correction_id: int) -> Any:
    """The request, if it is one of the staff's agencies' (else not found)."""
    for code in agency_codes(session, staff_id):
        try:
            return agencies.get_correction(
                session=session, agency_code=code, correction_id=correction_id
            )
        except NotFoundError:
            continue
    raise NotFoundError


def detail(*, session: Session, staff_id: int, correction_id: int) -> CorrectionDetail:
    """One request of the staff's agencies, beside the records it questions."""
    row = _owned(session, staff_id, correction_id)
    schema = agencies.load_catalog().item(row.item_code)
    spec = schema.field(row.field_name) if row.field_name else None
    records = [
        HeldRecord(
            id=record.id,
            key=record.record_key,
            fields=[
                (f.name, f.label_ja, _text(record.payload.get(f.name)))
                for f in schema.fields
                if f.name in record.payload
            ],
            updated_at=record.updated_at,
        )
        for record in agencies.records_in_question(session=session, correction=row)
    ]
    return CorrectionDetail(
        id=row.id,
        agency_code=row.agency_code,
        agency_name=_names(session, row.agency_code),
        item_name=schema.name_ja,
        field_name=row.field_name,
        field_label=spec.label_ja if spec else "",
        current=row.current_value,
        proposed=row.proposed_value,
        reason=row.reason,
        evidence_name=row.evidence_name,
        evidence_type=row.evidence_type,
        status=row.status,
        answer_reason=row.answer_reason,
        received_at=row.received_at,
        answered_at=row.answered_at,
        records=records,
        field_choices=[(f.name, f.label_ja) for f in schema.fields],
    )


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    return "" if value is None else str(value)


def evidence(*, session: Session, staff_id: int, correction_id: int) -> tuple[str, str, bytes]:
    """The attached file: name, media type, bytes (not found without one)."""
    row = _owned(session, staff_id, correction_id)
    if row.evidence is None or row.evidence_type is None:
        raise NotFoundError
    return row.evidence_name or "evidence", row.evidence_type, row.evidence


@dataclass(frozen=True, slots=True)
class AnswerForm:
    """What the clerk decided."""

    corrected: bool
    reason: str
    record_id: int | None = None
    field: str = ""
    value: str = ""


def answer(
    *, session: Session, hub: network.Hub, staff_id: int, correction_id: int, form: AnswerForm
) -> network.CorrectionAnswer:
    """Decide (and correct, when so decided), then answer through the hub — one transaction."""
    row = _owned(session, staff_id, correction_id)
    decision = agencies.decide_correction(
        session=session,
        agency_code=row.agency_code,
        correction_id=row.id,
        corrected=form.corrected,
        reason=form.reason,
        record_id=form.record_id,
        field=form.field,
        value=form.value,
    )
    return network.answer_correction(
        session=session,
        hub=hub,
        owner=row.agency_code,
        request_id=decision.request_id,
        item=decision.item,
        corrected=decision.corrected,
        reason=decision.reason,
    )
