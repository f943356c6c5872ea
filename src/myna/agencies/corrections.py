"""An agency's queue of correction requests (訂正の申出) and its answers to them.

The hub delivers a request with the agency's own link code of the person; the agency's
staff sees what the resident was shown, what they say is right, why, and the evidence,
beside the records it actually holds; it corrects a record (the value is checked against
the item's schema and the record's update date moves) or declines with a reason. The
answer then goes back through the hub (``network``), in the same transaction: if it
cannot be delivered, the correction is not written either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from myna.agencies.catalog import load_catalog
from myna.agencies.domain import ItemNotProvidedError, validate_payload, value_from_text
from myna.agencies.models import AgencyCorrection, AgencyRecord
from myna.agencies.service import known_agency
from myna.platform.db import utcnow
from myna.platform.errors import N_, MynaError, NotFoundError


class CorrectionStatus(StrEnum):
    """Where a request stands in the holder's queue."""

    OPEN = "open"
    CORRECTED = "corrected"
    NOT_CORRECTED = "not_corrected"


class CorrectionAlreadyAnsweredError(
    MynaError, code="correction_already_answered", status_code=409
):
    """A request answered before: an answer is final."""

    message = N_("This correction request was already answered.")


class ReasonRequiredError(MynaError, code="correction_reason_required", status_code=422):
    """An answer must say why (both ways: the resident reads it)."""

    message = N_("Write the reason the resident will read (1 to 1,000 characters).")


class RecordToCorrectRequiredError(MynaError, code="correction_record_required", status_code=422):
    """A correction names the record and field it changes."""

    message = N_("Choose the record and the field to correct, and enter the correct value.")


@dataclass(frozen=True, slots=True)
class IncomingCorrection:
    """A verified request as the hub delivered it."""

    request_id: str
    requester: str
    link_code: str
    item: str
    field: str
    current: str
    proposed: str
    reason: str
    evidence_name: str | None = None
    evidence_type: str | None = None
    evidence: bytes | None = None


@dataclass(frozen=True, slots=True)
class CorrectionDecision:
    """What the agency decided, for the answer message."""

    request_id: str
    item: str
    corrected: bool
    reason: str


def receive_correction(*, session: Session, agency_code: str, request: IncomingCorrection) -> str:
    """Queue a delivered request; its reference in the queue (the same for a re-delivery).

    Only for an item the agency keeps (:class:`ItemNotProvidedError` otherwise).
    """
    catalog = load_catalog()
    if not catalog.item(request.item).provider.matches(known_agency(catalog, agency_code)):
        raise ItemNotProvidedError(agency=agency_code, item=request.item)
    existing = session.scalar(
        select(AgencyCorrection).where(AgencyCorrection.request_id == request.request_id)
    )
    if existing is not None and existing.agency_code == agency_code:
        return str(existing.id)
    row = AgencyCorrection(
        agency_code=agency_code,
        request_id=request.request_id,
        requester=request.requester,
        link_code=request.link_code,
        item_code=request.item,
        field_name=request.field,
        current_value=request.current,
        proposed_value=request.proposed,
        reason=request.reason,
        evidence_name=request.evidence_name,
        evidence_type=request.evidence_type,
        evidence=request.evidence,
        status=CorrectionStatus.OPEN.value,
        received_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return str(row.id)


def correction_queue(
    *, session: Session, agency_code: str, status: CorrectionStatus | None = None, limit: int = 200
) -> list[AgencyCorrection]:
    """The agency's requests, oldest open first (or of one status), without evidence bytes."""
    query = select(AgencyCorrection).where(AgencyCorrection.agency_code == agency_code)
    if status is not None:
        query = query.where(AgencyCorrection.status == status.value)
    query = query.order_by(AgencyCorrection.received_at, AgencyCorrection.id).limit(limit)
    return list(session.scalars(query))


def get_correction(*, session: Session, agency_code: str, correction_id: int) -> AgencyCorrection:
    """One request of this agency (another agency's is not found, not forbidden)."""
    row = session.get(AgencyCorrection, correction_id)
    if row is None or row.agency_code != agency_code:
        raise NotFoundError
    return row


def records_in_question(*, session: Session, correction: AgencyCorrection) -> list[AgencyRecord]:
    """The records the agency holds for the person and item of ``correction``."""
    return list(
        session.scalars(
            select(AgencyRecord)
            .where(
                AgencyRecord.agency_code == correction.agency_code,
                AgencyRecord.link_code == correction.link_code,
                AgencyRecord.item_code == correction.item_code,
            )
            .order_by(AgencyRecord.record_key)
        )
    )


def decide_correction(
    *,
    session: Session,
    agency_code: str,
    correction_id: int,
    corrected: bool,
    reason: str,
    record_id: int | None = None,
    field: str = "",
    value: str = "",
    now: datetime | None = None,
) -> CorrectionDecision:
    """Answer one request: correct one field of one record (checked), or decline; with why."""
    row = get_correction(session=session, agency_code=agency_code, correction_id=correction_id)
    if row.status != CorrectionStatus.OPEN.value:
        raise CorrectionAlreadyAnsweredError
    reason = reason.strip()
    if not reason or len(reason) > 1000:
        raise ReasonRequiredError
    moment = now or utcnow()
    if corrected:
        _correct(session, row, record_id, field, value, moment)
    row.status = (CorrectionStatus.CORRECTED if corrected else CorrectionStatus.NOT_CORRECTED).value
    row.answer_reason = reason
    row.answered_at = moment
    session.flush()
    return CorrectionDecision(
        request_id=row.request_id, item=row.item_code, corrected=corrected, reason=reason
    )


def _correct(
    session: Session,
    row: AgencyCorrection,
    record_id: int | None,
    field: str,
    value: str,
    moment: datetime,
) -> None:
    records = {r.id: r for r in records_in_question(session=session, correction=row)}
    record = records.get(record_id) if record_id is not None else None
    schema = load_catalog().item(row.item_code)
    spec = schema.field(field)
    if record is None or spec is None or not value.strip():
        raise RecordToCorrectRequiredError
    payload = dict(record.payload)
    payload[spec.name] = value_from_text(schema, spec, value)
    record.payload = validate_payload(schema, payload)
    record.updated_at = moment
