"""民間送達 (private delivery): senders, the residents' links, deliveries and the box.

Senders are organisations registered with a signing certificate from the government CA
(``ds-<code>``). A resident links a sender to their box while logged in with the card;
the link gives the sender a pairwise recipient id, the only name it ever has for the
resident. Each delivery is a signed request (:mod:`myna.delivery.messages`) carrying a
document signed with an enveloped XMLDSig (:mod:`myna.delivery.signature`); both
signatures are checked against the CA and revocation before anything is stored.

Every link, delivery and read is written to the box's own log at the place it happens
(``delivery_log``), which the resident sees in the box; so is every hand-over of
certificates to the employer for 年末調整 and every collection of one
(:mod:`myna.delivery.handovers`). The documents are the senders' data sent to the
resident, not personal data exchanged between agencies, so they do not pass through the
network hub; the hub's exchange log is for those.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from myna import agencies, jpki, network, notices
from myna.delivery import messages
from myna.delivery.documents import Document, DocumentKind, Line, explain, read_stored
from myna.delivery.domain import (
    DOCUMENT_NAMES,
    SenderKind,
    check_sender,
    nenbun,
    new_recipient_id,
    organization_code,
)
from myna.delivery.errors import (
    DeliveryNotFoundError,
    DocumentConflictError,
    NotLinkedError,
    RecipientMismatchError,
    SenderCertificateRevokedError,
    SenderExistsError,
    UnknownSenderError,
    UnregisteredSenderError,
    UntrustedSignerError,
)
from myna.delivery.messages import DocumentDelivery, Envelope
from myna.delivery.models import Delivery, DeliveryLink, DeliveryLogEntry, Handover, Sender
from myna.delivery.signature import verify
from myna.network.domain import BadMessageSignatureError, SenderMismatchError
from myna.platform.db import utcnow
from myna.platform.settings import Settings

LINKED = "linked"
UNLINKED = "unlinked"
DELIVERED = "delivered"
READ = "read"
DOWNLOADED = "downloaded"
# 年末調整: the resident hands certificates over to the employer, or takes them back;
# the employer collects them.
HANDED_OVER = "handed_over"
WITHDRAWN = "withdrawn"
COLLECTED = "collected"
BOX_PATH = "/delivery"
# The portal (Digital Agency) runs the box and tells the resident a document arrived.
NOTICE_SENDER = agencies.PORTAL_AGENCY


# -- senders ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SenderRead:
    """A registered sender."""

    code: str
    name: str
    kind: SenderKind
    organization_code: str
    registered_at: datetime
    suspended: bool


def _sender_read(row: Sender) -> SenderRead:
    return SenderRead(
        row.code,
        row.name,
        SenderKind(row.kind),
        row.organization_code,
        row.registered_at,
        row.suspended_at is not None,
    )


def register_sender(
    *,
    session: Session,
    settings: Settings,
    code: str,
    name: str,
    kind: str,
    public_key: ec.EllipticCurvePublicKey,
) -> tuple[SenderRead, x509.Certificate]:
    """Register a sender and certify its signing key with the government CA (ds-<code>)."""
    code, sender_kind = check_sender(code, kind)
    if session.get(Sender, code) is not None:
        raise SenderExistsError
    organization = organization_code(code)
    certificate = jpki.issue_organization_certificate(
        session=session,
        settings=settings,
        organization_code=organization,
        organization_name=name,
        public_key=public_key,
    )
    row = Sender(
        code=code,
        name=name.strip(),
        kind=sender_kind.value,
        organization_code=organization,
        registered_at=utcnow(),
        suspended_at=None,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise SenderExistsError from exc
    return _sender_read(row), certificate


def sender(*, session: Session, code: str) -> SenderRead | None:
    """A registered sender by its code."""
    row = session.get(Sender, code)
    return None if row is None else _sender_read(row)


def suspend_sender(*, session: Session, code: str) -> None:
    """Stop a sender's deliveries (its documents already delivered stay in the boxes)."""
    row = session.get(Sender, code)
    if row is None:
        raise UnknownSenderError
    if row.suspended_at is None:
        row.suspended_at = utcnow()


# -- links (the resident's consent) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SenderLink:
    """A sender as the resident's link page shows it, with the link if there is one."""

    sender: SenderRead
    linked: bool
    recipient_id: str | None
    linked_at: datetime | None


def log_event(
    session: Session,
    resident_id: int,
    sender_code: str,
    action: str,
    delivery_id: str | None,
    *,
    handover_id: str | None = None,
) -> None:
    """Write one line of the box's log, in the transaction of what it records."""
    session.add(
        DeliveryLogEntry(
            resident_id=resident_id,
            sender_code=sender_code,
            delivery_id=delivery_id,
            handover_id=handover_id,
            action=action,
            at=utcnow(),
        )
    )


def link(*, session: Session, resident_id: int, sender_code: str) -> SenderLink:
    """The logged-in resident lets ``sender_code`` deliver to their box.

    Linking again after unlinking restores the same pairwise recipient id.
    """
    row = session.get(Sender, sender_code)
    if row is None or row.suspended_at is not None:
        raise UnknownSenderError
    found = session.scalar(
        select(DeliveryLink).where(
            DeliveryLink.sender_code == row.code, DeliveryLink.resident_id == resident_id
        )
    )
    now = utcnow()
    if found is None:
        found = DeliveryLink(
            sender_code=row.code,
            resident_id=resident_id,
            recipient_id=new_recipient_id(),
            linked_at=now,
            revoked_at=None,
        )
        session.add(found)
        log_event(session, resident_id, row.code, LINKED, None)
    elif found.revoked_at is not None:
        found.revoked_at = None
        found.linked_at = now
        log_event(session, resident_id, row.code, LINKED, None)
    session.flush()
    return SenderLink(_sender_read(row), True, found.recipient_id, found.linked_at)


def unlink(*, session: Session, resident_id: int, sender_code: str) -> None:
    """The resident withdraws the link: the sender can deliver nothing more.

    For an employer, the hand-overs it has not collected yet are withdrawn with the link
    (each logged): the consent to collect them went with it.
    """
    found = session.scalar(
        select(DeliveryLink).where(
            DeliveryLink.sender_code == sender_code, DeliveryLink.resident_id == resident_id
        )
    )
    if found is None or found.revoked_at is not None:
        return
    now = utcnow()
    found.revoked_at = now
    log_event(session, resident_id, sender_code, UNLINKED, None)
    for pending in session.scalars(
        select(Handover).where(
            Handover.link_id == found.id,
            Handover.withdrawn_at.is_(None),
            Handover.collected_at.is_(None),
        )
    ):
        pending.withdrawn_at = now
        log_event(session, resident_id, sender_code, WITHDRAWN, None, handover_id=pending.id)


def links_of(*, session: Session, resident_id: int) -> list[SenderLink]:
    """Every active sender, linked or not, for the resident's link page (name order)."""
    links = {
        row.sender_code: row
        for row in session.scalars(
            select(DeliveryLink).where(DeliveryLink.resident_id == resident_id)
        )
    }
    result = []
    for row in session.scalars(
        select(Sender).where(Sender.suspended_at.is_(None)).order_by(Sender.name)
    ):
        found = links.get(row.code)
        active = found is not None and found.revoked_at is None
        result.append(
            SenderLink(
                _sender_read(row),
                active,
                found.recipient_id if found is not None and active else None,
                found.linked_at if found is not None and active else None,
            )
        )
    return result


# -- deliveries (the sender's side) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a sender is told about a delivered document (受付結果)."""

    delivery_id: str
    document_id: str
    sender: str
    kind: DocumentKind
    year: int
    received_at: datetime
    duplicate: bool = False


def _receipt(row: Delivery, *, duplicate: bool = False) -> Receipt:
    return Receipt(
        row.id,
        row.document_id,
        row.sender_code,
        DocumentKind(row.kind),
        row.year,
        row.received_at,
        duplicate,
    )


def open_request(
    session: Session, settings: Settings, token: str, expected_type: str
) -> tuple[Sender, Envelope]:
    """Verify a sender's signed request: signer, registration, type, freshness, once.

    Every call of the sender API starts here, deliveries and 年末調整 collections alike.
    """
    try:
        opened = network.open_signed(
            token, session=session, settings=settings, max_bytes=messages.MAX_REQUEST_BYTES
        )
    except BadMessageSignatureError as exc:
        cause = exc.__cause__
        if isinstance(cause, jpki.VerificationError) and cause.code == "revoked":
            raise SenderCertificateRevokedError from exc
        raise
    envelope = messages.open_envelope(opened.payload, expected_type)
    row = session.get(Sender, envelope.sender)
    if row is None or row.suspended_at is not None:
        raise UnregisteredSenderError
    if opened.sender != row.organization_code:
        raise SenderMismatchError(claimed=row.organization_code, signer=opened.sender)
    network.admit_once(
        session=session,
        request_id=envelope.request_id,
        requester=row.organization_code,
        issued_at=envelope.issued_at,
    )
    return row, envelope


def _title(kind: DocumentKind, lines: list[Line]) -> str:
    return lines[0][0] if lines else DOCUMENT_NAMES[kind]


def deliver(*, session: Session, settings: Settings, token: str) -> Receipt:
    """Accept a sender's signed document for a linked resident, once.

    In order: the request's signature and the sender's registration, freshness and
    request id; an active link of this sender behind the recipient id; the document's
    size; its enveloped signature by the sender's own, unrevoked certificate, then its
    schema; the document's sender and recipient must be the request's. A resend of the
    same document id with the same bytes returns the first receipt; other bytes under
    the same id are a conflict.
    """
    row, envelope = open_request(session, settings, token, messages.DELIVERY)
    request = DocumentDelivery.parse(envelope)
    link_row = session.scalar(
        select(DeliveryLink).where(DeliveryLink.recipient_id == request.recipient)
    )
    if link_row is None or link_row.sender_code != row.code or link_row.revoked_at is not None:
        raise NotLinkedError

    def trusted(certificate: x509.Certificate) -> None:
        verified = jpki.verify_organization_certificate(
            session=session, settings=settings, certificate=certificate
        )
        if verified.organization_code != row.organization_code:
            raise UntrustedSignerError

    document = verify(request.document, trusted=trusted).document
    if document.sender_code != row.organization_code or document.recipient != request.recipient:
        raise RecipientMismatchError
    digest = hashlib.sha256(request.document).hexdigest()
    earlier = _delivered(session, row.code, document.document_id)
    if earlier is not None:
        return _same_or_conflict(earlier, digest)
    lines = explain(document)
    stored = Delivery(
        id=secrets.token_urlsafe(18),
        sender_code=row.code,
        document_id=document.document_id,
        link_id=link_row.id,
        kind=document.kind.value,
        year=document.year,
        title=_title(document.kind, lines)[:200],
        sha256=digest,
        xml=request.document,
        received_at=utcnow(),
        read_at=None,
    )
    try:
        with session.begin_nested():
            session.add(stored)
    except IntegrityError:
        # A concurrent resend won the race: answer as for any resend.
        earlier = _delivered(session, row.code, document.document_id)
        if earlier is None:  # pragma: no cover - the unique key said it exists
            raise
        return _same_or_conflict(earlier, digest)
    log_event(session, link_row.resident_id, row.code, DELIVERED, stored.id)
    _notify(session, link_row.resident_id, row, stored)
    return _receipt(stored)


def _delivered(session: Session, sender_code: str, document_id: str) -> Delivery | None:
    return session.scalar(
        select(Delivery).where(
            Delivery.sender_code == sender_code, Delivery.document_id == document_id
        )
    )


def is_delivered(*, session: Session, sender_code: str, document_id: str) -> bool:
    """Whether a sender's document id was delivered already."""
    return _delivered(session, sender_code, document_id) is not None


def _same_or_conflict(earlier: Delivery, digest: str) -> Receipt:
    if not secrets.compare_digest(earlier.sha256, digest):
        raise DocumentConflictError(document_id=earlier.document_id)
    return _receipt(earlier, duplicate=True)


def _notify(session: Session, resident_id: int, sender_row: Sender, stored: Delivery) -> None:
    """A notice (お知らせ) from the portal: a document arrived in the box."""
    body = "\n".join(
        [
            f"{sender_row.name}から{stored.title}が民間送達で届きました。",
            "",
            f"■ 対象年分：{nenbun(stored.year)}",
            f"■ 書類番号：{stored.document_id}",
            "",
            "内容と原本（XML）は「民間送達」で確認できます。確定申告に使えます。",
        ]
    )
    notices.send_notice(
        session=session,
        sender=NOTICE_SENDER,
        audience=notices.ToResident(
            link_code=network.link_code_for_resident(
                session=session, resident_id=resident_id, agency_code=NOTICE_SENDER
            )
        ),
        content=notices.NoticeCreate(
            title=f"【民間送達】{sender_row.name}から{DOCUMENT_NAMES[DocumentKind(stored.kind)]}"
            "が届きました",
            body=body,
            category=notices.Category.TAX,
            action_url=f"{BOX_PATH}/{stored.id}",
        ),
    )


def receipt(*, session: Session, settings: Settings, token: str) -> Receipt:
    """A sender asks about one of its documents by id (its own only)."""
    row, envelope = open_request(session, settings, token, messages.RECEIPT)
    found = _delivered(session, row.code, messages.receipt_document_id(envelope))
    if found is None:
        raise DeliveryNotFoundError
    return _receipt(found)


# -- the resident's box ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BoxItem:
    """One document in the box, with what it means."""

    id: str
    sender_name: str
    kind: DocumentKind
    kind_name: str
    title: str
    year: int
    document_id: str
    received_at: datetime
    read_at: datetime | None
    lines: list[Line]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A line of the box's log."""

    at: datetime
    action: str
    sender_name: str
    delivery_id: str | None
    handover_id: str | None = None


@dataclass(frozen=True, slots=True)
class Box:
    """The resident's 民間送達 box: documents newest first, the unread count, the log."""

    items: list[BoxItem]
    unread: int
    log: list[LogEntry]


def _item(row: Delivery, sender_name: str) -> BoxItem:
    kind = DocumentKind(row.kind)
    return BoxItem(
        id=row.id,
        sender_name=sender_name,
        kind=kind,
        kind_name=DOCUMENT_NAMES[kind],
        title=row.title,
        year=row.year,
        document_id=row.document_id,
        received_at=row.received_at,
        read_at=row.read_at,
        lines=explain(read_stored(row.xml)),
    )


def box(*, session: Session, resident_id: int, log_limit: int = 50) -> Box:
    """What the logged-in resident has received, and what happened in the box."""
    rows = session.execute(
        select(Delivery, Sender.name)
        .join(DeliveryLink, DeliveryLink.id == Delivery.link_id)
        .join(Sender, Sender.code == Delivery.sender_code)
        .where(DeliveryLink.resident_id == resident_id)
        .order_by(Delivery.received_at.desc(), Delivery.id)
    ).all()
    items = [_item(row, name) for row, name in rows]
    names = {row.code: row.name for row in session.execute(select(Sender.code, Sender.name))}
    log = [
        LogEntry(
            entry.at,
            entry.action,
            names.get(entry.sender_code, entry.sender_code),
            entry.delivery_id,
            entry.handover_id,
        )
        for entry in session.scalars(
            select(DeliveryLogEntry)
            .where(DeliveryLogEntry.resident_id == resident_id)
            .order_by(DeliveryLogEntry.id.desc())
            .limit(log_limit)
        )
    ]
    return Box(items, sum(1 for item in items if item.read_at is None), log)


def unread_count(*, session: Session, resident_id: int) -> int:
    """How many documents the resident has not opened yet."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Delivery)
            .join(DeliveryLink, DeliveryLink.id == Delivery.link_id)
            .where(DeliveryLink.resident_id == resident_id, Delivery.read_at.is_(None))
        )
        or 0
    )


def _owned(session: Session, resident_id: int, delivery_id: str) -> tuple[Delivery, Sender]:
    found = session.execute(
        select(Delivery, Sender)
        .join(DeliveryLink, DeliveryLink.id == Delivery.link_id)
        .join(Sender, Sender.code == Delivery.sender_code)
        .where(Delivery.id == delivery_id, DeliveryLink.resident_id == resident_id)
    ).first()
    if found is None:
        raise DeliveryNotFoundError
    return found[0], found[1]


def open_document(*, session: Session, resident_id: int, delivery_id: str) -> BoxItem:
    """One of the resident's documents: marked read (the first time) and the read logged."""
    row, sender_row = _owned(session, resident_id, delivery_id)
    if row.read_at is None:
        row.read_at = utcnow()
    log_event(session, resident_id, sender_row.code, READ, row.id)
    return _item(row, sender_row.name)


@dataclass(frozen=True, slots=True)
class Original:
    """The document as the sender signed it."""

    filename: str
    data: bytes


def original(*, session: Session, resident_id: int, delivery_id: str) -> Original:
    """The signed XML file of one of the resident's documents; the download is logged."""
    row, sender_row = _owned(session, resident_id, delivery_id)
    if row.read_at is None:
        row.read_at = utcnow()
    log_event(session, resident_id, sender_row.code, DOWNLOADED, row.id)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in row.document_id)
    return Original(f"{row.kind}-{safe}.xml", row.xml)


@dataclass(frozen=True, slots=True)
class Received:
    """A document in the resident's box, parsed, with where it came from (for the return)."""

    delivery_id: str
    sender_name: str
    received_at: datetime
    document: Document


def deliveries_by_sender_kind(*, session: Session) -> dict[SenderKind, int]:
    """Documents delivered to residents' boxes per kind of sender (counts only)."""
    rows = session.execute(
        select(Sender.kind, func.count())
        .select_from(Delivery)
        .join(Sender, Sender.code == Delivery.sender_code)
        .group_by(Sender.kind)
    )
    return {SenderKind(kind): count for kind, count in rows}


def documents_of(*, session: Session, resident_id: int, year: int | None = None) -> list[Received]:
    """The resident's delivered documents (of one 年分 when given), oldest first."""
    query = (
        select(Delivery, Sender.name)
        .join(DeliveryLink, DeliveryLink.id == Delivery.link_id)
        .join(Sender, Sender.code == Delivery.sender_code)
        .where(DeliveryLink.resident_id == resident_id)
        .order_by(Delivery.received_at, Delivery.id)
    )
    if year is not None:
        query = query.where(Delivery.year == year)
    return [
        Received(row.id, name, row.received_at, read_stored(row.xml))
        for row, name in session.execute(query).all()
    ]
