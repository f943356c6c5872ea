"""年末調整 (year-end adjustment): the employee hands 控除証明書 over to the employer.

At 年末調整 an employee attaches the insurers' 控除証明書 to the employer's 保険料控除
申告書. Here the employee, logged in with the card, chooses which certificates of their
box of one 年分 go to an employer they linked (a sender whose kind is ``employer``),
confirms, and may withdraw the hand-over until the employer collects it. The employer
knows the employee only by the pairwise recipient id of its own link, never by the
MyNumber, and collects through the sender API with the same signed requests as for
deliveries (:func:`myna.delivery.service.open_request`): first the list of a year's
hand-overs addressed to it, then each one, which returns the documents exactly as their
issuers signed them, so the employer can verify the XMLDSig itself.

Each hand-over, withdrawal and collection is written to the box's log where it happens
(``delivery_log``, with the hand-over's id). An employer sees only hand-overs addressed
to it, not withdrawn, through a link still in force; another sender's, another
resident's or an unknown id are all the same ``handover_not_found``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from myna.delivery import messages
from myna.delivery.documents import DocumentKind, explain, parse
from myna.delivery.domain import (
    DOCUMENT_NAMES,
    MAX_HANDOVER_DOCUMENTS,
    YEAR_END_ADJUSTMENT_KINDS,
    HandoverStatus,
    SenderKind,
    handover_status,
    is_myna_id,
    is_tax_year,
    nenbun,
)
from myna.delivery.errors import (
    AlreadyHandedOverError,
    EmployerNotLinkedError,
    HandoverCollectedError,
    HandoverNotFoundError,
    HandoverWithdrawnError,
    NotAnEmployerError,
    NotHandableError,
    NothingToHandOverError,
    NotLinkedError,
)
from myna.delivery.messages import Envelope
from myna.delivery.models import Delivery, DeliveryLink, Handover, HandoverDocument, Sender
from myna.delivery.service import COLLECTED, HANDED_OVER, WITHDRAWN, log_event, open_request
from myna.network.domain import MalformedMessageError
from myna.platform.db import utcnow
from myna.platform.settings import Settings

_SENDER_CODE_LENGTH = 48

# -- the employee's side ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Employer:
    """An employer the resident allows to deliver: one they may hand certificates to."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Certificate:
    """A 控除証明書 in the box that can go to an employer for 年末調整."""

    delivery_id: str
    sender_name: str
    kind: DocumentKind
    kind_name: str
    title: str
    year: int
    document_id: str
    summary: str
    handed_to: frozenset[str]
    """The employers (codes) it is handed over to already, waiting or collected."""


@dataclass(frozen=True, slots=True)
class HandedDocument:
    """A document of a hand-over, as the resident's page names it."""

    delivery_id: str
    title: str
    sender_name: str


@dataclass(frozen=True, slots=True)
class HandoverItem:
    """One hand-over as the resident sees it."""

    id: str
    employer_code: str
    employer_name: str
    year: int
    year_name: str
    status: HandoverStatus
    handed_over_at: datetime
    withdrawn_at: datetime | None
    collected_at: datetime | None
    documents: list[HandedDocument]


@dataclass(frozen=True, slots=True)
class YearEndAdjustment:
    """The resident's 年末調整 page: employers, one year's certificates, the hand-overs."""

    year: int | None
    year_name: str
    years: list[tuple[int, str]]
    employers: list[Employer]
    certificates: list[Certificate]
    handovers: list[HandoverItem]


@dataclass(frozen=True, slots=True)
class HandoverPlan:
    """A hand-over checked and ready to confirm: to whom, of which year, what."""

    employer: Employer
    year: int
    year_name: str
    certificates: list[Certificate]


def _employers(session: Session, resident_id: int) -> list[Employer]:
    return [
        Employer(code, name)
        for code, name in session.execute(
            select(Sender.code, Sender.name)
            .join(DeliveryLink, DeliveryLink.sender_code == Sender.code)
            .where(
                DeliveryLink.resident_id == resident_id,
                DeliveryLink.revoked_at.is_(None),
                Sender.suspended_at.is_(None),
                Sender.kind == SenderKind.EMPLOYER.value,
            )
            .order_by(Sender.name)
        )
    ]


def _employer_link(
    session: Session, resident_id: int, sender_code: str
) -> tuple[Employer, DeliveryLink]:
    """The resident's link in force to this employer (locked: one hand-over at a time)."""
    if not sender_code or len(sender_code) > _SENDER_CODE_LENGTH:
        raise EmployerNotLinkedError
    found = session.execute(
        select(DeliveryLink, Sender.name)
        .join(Sender, Sender.code == DeliveryLink.sender_code)
        .where(
            DeliveryLink.resident_id == resident_id,
            DeliveryLink.sender_code == sender_code,
            DeliveryLink.revoked_at.is_(None),
            Sender.suspended_at.is_(None),
            Sender.kind == SenderKind.EMPLOYER.value,
        )
        .with_for_update(of=DeliveryLink)
    ).first()
    if found is None:
        raise EmployerNotLinkedError
    link, name = found
    return Employer(link.sender_code, name), link


def _handed_to(session: Session, delivery_ids: Sequence[str]) -> dict[str, set[str]]:
    """For each document, the employers holding it in a hand-over not withdrawn."""
    found: dict[str, set[str]] = {}
    if not delivery_ids:
        return found
    for delivery_id, employer in session.execute(
        select(HandoverDocument.delivery_id, DeliveryLink.sender_code)
        .join(Handover, Handover.id == HandoverDocument.handover_id)
        .join(DeliveryLink, DeliveryLink.id == Handover.link_id)
        .where(HandoverDocument.delivery_id.in_(delivery_ids), Handover.withdrawn_at.is_(None))
    ):
        found.setdefault(delivery_id, set()).add(employer)
    return found


def _certificate(row: Delivery, sender_name: str, handed_to: set[str]) -> Certificate:
    kind = DocumentKind(row.kind)
    lines = explain(parse(row.xml))
    return Certificate(
        delivery_id=row.id,
        sender_name=sender_name,
        kind=kind,
        kind_name=DOCUMENT_NAMES[kind],
        title=row.title,
        year=row.year,
        document_id=row.document_id,
        summary=lines[0][1] if lines else "",
        handed_to=frozenset(handed_to),
    )


def _in_box(resident_id: int) -> Select[Delivery, str]:
    """The resident's documents of the kinds 年末調整 takes, with their senders' names."""
    return (
        select(Delivery, Sender.name)
        .join(DeliveryLink, DeliveryLink.id == Delivery.link_id)
        .join(Sender, Sender.code == Delivery.sender_code)
        .where(
            DeliveryLink.resident_id == resident_id,
            Delivery.kind.in_([kind.value for kind in YEAR_END_ADJUSTMENT_KINDS]),
        )
    )


def _certificates(session: Session, resident_id: int, year: int) -> list[Certificate]:
    rows = session.execute(
        _in_box(resident_id)
        .where(Delivery.year == year)
        .order_by(Delivery.received_at, Delivery.id)
    ).all()
    handed = _handed_to(session, [row.id for row, _name in rows])
    return [_certificate(row, name, handed.get(row.id, set())) for row, name in rows]


def _handovers(session: Session, resident_id: int) -> list[HandoverItem]:
    rows = session.execute(
        select(Handover, Sender.code, Sender.name)
        .join(DeliveryLink, DeliveryLink.id == Handover.link_id)
        .join(Sender, Sender.code == DeliveryLink.sender_code)
        .where(DeliveryLink.resident_id == resident_id)
        .order_by(Handover.handed_over_at.desc(), Handover.id)
    ).all()
    documents: dict[str, list[HandedDocument]] = {}
    if rows:
        for handover_id, delivery_id, title, sender_name in session.execute(
            select(HandoverDocument.handover_id, Delivery.id, Delivery.title, Sender.name)
            .join(Delivery, Delivery.id == HandoverDocument.delivery_id)
            .join(Sender, Sender.code == Delivery.sender_code)
            .where(HandoverDocument.handover_id.in_([row.id for row, _c, _n in rows]))
            .order_by(Delivery.received_at, Delivery.id)
        ):
            documents.setdefault(handover_id, []).append(
                HandedDocument(delivery_id, title, sender_name)
            )
    return [
        HandoverItem(
            id=row.id,
            employer_code=code,
            employer_name=name,
            year=row.year,
            year_name=nenbun(row.year),
            status=handover_status(
                withdrawn=row.withdrawn_at is not None, collected=row.collected_at is not None
            ),
            handed_over_at=row.handed_over_at,
            withdrawn_at=row.withdrawn_at,
            collected_at=row.collected_at,
            documents=documents.get(row.id, []),
        )
        for row, code, name in rows
    ]


def year_end_adjustment(
    *, session: Session, resident_id: int, year: int | None = None
) -> YearEndAdjustment:
    """The resident's employers, the certificates of ``year`` (the latest one when not
    given) that may go to them, and every hand-over made, newest first."""
    handovers = _handovers(session, resident_id)
    years = set(
        session.scalars(_in_box(resident_id).with_only_columns(Delivery.year).distinct())
    ) | {item.year for item in handovers}
    if year is None and years:
        year = max(years)
    if year is not None and not is_tax_year(year):
        year = None
    return YearEndAdjustment(
        year=year,
        year_name=nenbun(year) if year is not None else "",
        years=[(found, nenbun(found)) for found in sorted(years, reverse=True)],
        employers=_employers(session, resident_id),
        certificates=[] if year is None else _certificates(session, resident_id, year),
        handovers=handovers,
    )


def _chosen(delivery_ids: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(delivery_ids))
    if not chosen or len(chosen) > MAX_HANDOVER_DOCUMENTS:
        raise NothingToHandOverError(limit=MAX_HANDOVER_DOCUMENTS)
    if not all(is_myna_id(found) for found in chosen):
        raise NotHandableError
    return chosen


def _plan(
    session: Session, resident_id: int, sender_code: str, year: int, delivery_ids: Sequence[str]
) -> tuple[HandoverPlan, DeliveryLink]:
    employer, link = _employer_link(session, resident_id, sender_code)
    chosen = _chosen(delivery_ids)
    if not is_tax_year(year):
        raise NotHandableError
    rows = {
        row.id: (row, name)
        for row, name in session.execute(
            _in_box(resident_id).where(Delivery.id.in_(chosen), Delivery.year == year)
        )
    }
    if set(rows) != set(chosen):
        # Not in this resident's box, not a 控除証明書, or of another year: all the same.
        raise NotHandableError
    handed = _handed_to(session, chosen)
    if any(employer.code in handed.get(found, set()) for found in chosen):
        raise AlreadyHandedOverError
    certificates = [
        _certificate(rows[found][0], rows[found][1], handed.get(found, set())) for found in chosen
    ]
    return HandoverPlan(employer, year, nenbun(year), certificates), link


def plan_handover(
    *,
    session: Session,
    resident_id: int,
    sender_code: str,
    year: int,
    delivery_ids: Sequence[str],
) -> HandoverPlan:
    """Check a hand-over the resident is about to confirm (nothing is written)."""
    return _plan(session, resident_id, sender_code, year, delivery_ids)[0]


def hand_over(
    *,
    session: Session,
    resident_id: int,
    sender_code: str,
    year: int,
    delivery_ids: Sequence[str],
) -> str:
    """The resident confirms: the employer may collect these certificates; the hand-over's id.

    The same checks as :func:`plan_handover`, then the hand-over is stored and logged.
    """
    plan, link = _plan(session, resident_id, sender_code, year, delivery_ids)
    handover = Handover(
        id=secrets.token_urlsafe(18),
        link_id=link.id,
        year=plan.year,
        handed_over_at=utcnow(),
        withdrawn_at=None,
        collected_at=None,
    )
    session.add(handover)
    session.flush()
    session.add_all(
        HandoverDocument(handover_id=handover.id, delivery_id=found.delivery_id)
        for found in plan.certificates
    )
    log_event(session, resident_id, link.sender_code, HANDED_OVER, None, handover_id=handover.id)
    return handover.id


def withdraw(*, session: Session, resident_id: int, handover_id: str) -> int:
    """The resident takes back a hand-over not collected yet (logged); its 年分."""
    if not is_myna_id(handover_id):
        raise HandoverNotFoundError
    found = session.execute(
        select(Handover, DeliveryLink.sender_code)
        .join(DeliveryLink, DeliveryLink.id == Handover.link_id)
        .where(Handover.id == handover_id, DeliveryLink.resident_id == resident_id)
        .with_for_update(of=Handover)
    ).first()
    if found is None:
        raise HandoverNotFoundError
    handover, employer = found
    if handover.withdrawn_at is None:
        if handover.collected_at is not None:
            raise HandoverCollectedError
        handover.withdrawn_at = utcnow()
        log_event(session, resident_id, employer, WITHDRAWN, None, handover_id=handover.id)
    return handover.year


# -- the employer's side (sender API) ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandedOver:
    """A document of a hand-over as the employer is told of it (not its content)."""

    delivery_id: str
    document_id: str
    issuer: str
    issuer_name: str
    kind: DocumentKind
    year: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Collectable:
    """A hand-over addressed to the employer, by the employee's pairwise recipient id."""

    handover_id: str
    recipient: str
    year: int
    handed_over_at: datetime
    collected_at: datetime | None
    documents: list[HandedOver]


@dataclass(frozen=True, slots=True)
class SignedDocument:
    """A collected document: what it is, and its bytes as its issuer signed them."""

    about: HandedOver
    xml: bytes


@dataclass(frozen=True, slots=True)
class Collected:
    """A hand-over the employer has collected, with its documents."""

    handover_id: str
    recipient: str
    year: int
    handed_over_at: datetime
    collected_at: datetime
    documents: list[SignedDocument]


@dataclass(frozen=True, slots=True)
class EmployerHandovers:
    """The hand-overs of one 年分 an employer may collect."""

    sender: str
    year: int
    handovers: list[Collectable]


def _employer(
    session: Session, settings: Settings, token: str, expected_type: str
) -> tuple[Sender, Envelope]:
    row, envelope = open_request(session, settings, token, expected_type)
    if row.kind != SenderKind.EMPLOYER.value:
        raise NotAnEmployerError
    return row, envelope


def _documents(session: Session, handover_ids: Sequence[str]) -> dict[str, list[HandedOver]]:
    found: dict[str, list[HandedOver]] = {}
    if not handover_ids:
        return found
    rows = session.execute(
        select(
            HandoverDocument.handover_id,
            Delivery.id,
            Delivery.document_id,
            Delivery.sender_code,
            Sender.name,
            Delivery.kind,
            Delivery.year,
            Delivery.sha256,
        )
        .join(Delivery, Delivery.id == HandoverDocument.delivery_id)
        .join(Sender, Sender.code == Delivery.sender_code)
        .where(HandoverDocument.handover_id.in_(handover_ids))
        .order_by(Delivery.received_at, Delivery.id)
    )
    for handover_id, delivery_id, document_id, issuer, name, kind, year, sha256 in rows:
        found.setdefault(handover_id, []).append(
            HandedOver(delivery_id, document_id, issuer, name, DocumentKind(kind), year, sha256)
        )
    return found


def _collectable(handover: Handover, recipient: str, documents: list[HandedOver]) -> Collectable:
    return Collectable(
        handover_id=handover.id,
        recipient=recipient,
        year=handover.year,
        handed_over_at=handover.handed_over_at,
        collected_at=handover.collected_at,
        documents=documents,
    )


def handovers_for_employer(
    *, session: Session, settings: Settings, token: str, year: int
) -> EmployerHandovers:
    """An employer's signed ``handovers`` request: the hand-overs of ``year`` addressed to it.

    Only hand-overs not withdrawn, through links still in force; oldest first. Listing
    shows which documents wait (ids, kinds, issuers), not their content, and is not
    logged; collecting is.
    """
    row, envelope = _employer(session, settings, token, messages.HANDOVERS)
    if messages.handovers_year(envelope) != year:
        raise MalformedMessageError
    rows = session.execute(
        select(Handover, DeliveryLink.recipient_id)
        .join(DeliveryLink, DeliveryLink.id == Handover.link_id)
        .where(
            DeliveryLink.sender_code == row.code,
            DeliveryLink.revoked_at.is_(None),
            Handover.year == year,
            Handover.withdrawn_at.is_(None),
        )
        .order_by(Handover.handed_over_at, Handover.id)
    ).all()
    documents = _documents(session, [handover.id for handover, _r in rows])
    return EmployerHandovers(
        row.code,
        year,
        [
            _collectable(handover, recipient, documents.get(handover.id, []))
            for handover, recipient in rows
        ],
    )


def collect(*, session: Session, settings: Settings, token: str, handover_id: str) -> Collected:
    """An employer's signed ``collect`` request: one hand-over with its signed documents.

    The documents are the bytes their issuers delivered. The first collection marks the
    hand-over collected (the employee can no longer withdraw it); every collection is
    logged in the employee's box. Another sender's or an unknown id: not found; withdrawn:
    gone; the employee has unlinked the employer: not linked.
    """
    row, envelope = _employer(session, settings, token, messages.COLLECT)
    if messages.collect_handover_id(envelope) != handover_id:
        raise MalformedMessageError
    if not is_myna_id(handover_id):
        raise HandoverNotFoundError
    found = session.execute(
        select(Handover, DeliveryLink)
        .join(DeliveryLink, DeliveryLink.id == Handover.link_id)
        .where(Handover.id == handover_id, DeliveryLink.sender_code == row.code)
        .with_for_update(of=Handover)
    ).first()
    if found is None:
        raise HandoverNotFoundError
    handover, link = found
    if handover.withdrawn_at is not None:
        raise HandoverWithdrawnError
    if link.revoked_at is not None:
        raise NotLinkedError
    collected_at = handover.collected_at or utcnow()
    handover.collected_at = collected_at
    log_event(session, link.resident_id, row.code, COLLECTED, None, handover_id=handover.id)
    documents = _documents(session, [handover.id]).get(handover.id, [])
    wanted = [document.delivery_id for document in documents]
    signed = {
        row.id: row.xml for row in session.scalars(select(Delivery).where(Delivery.id.in_(wanted)))
    }
    return Collected(
        handover_id=handover.id,
        recipient=link.recipient_id,
        year=handover.year,
        handed_over_at=handover.handed_over_at,
        collected_at=collected_at,
        documents=[
            SignedDocument(document, signed[document.delivery_id]) for document in documents
        ],
    )
