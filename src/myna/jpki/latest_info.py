"""Re-issue of the signing certificate and 最新4情報提供 (the latest basic 4 info service).

J-LIS's side of three things (docs/jpki.md, docs/api/verifiers.md):

* **Re-issue** (署名用電子証明書の再発行): after the basic 4 info changed, the
  municipality's counter puts a new signing certificate onto the holder's card; J-LIS
  revokes the old one if a change left it in force, issues the new one with the
  registry's current 4 info, and links the old serial to the new one.
* **Consent**: a verifier registers the holder's consent — a canonical statement
  (:mod:`myna.jpki.consent_statement`) signed with the card's signing key — through a
  signed request; J-LIS checks the signature, the chain, that the certificate is valid
  now and that the statement names this verifier, and keeps the consent bound to the
  holder and the certificate. The holder sees and withdraws consents in the portal.
* **The query**: a verifier's batch of signing-certificate serials, each answered
  valid, expired, revoked (with the reason) or unknown; a certificate revoked for a
  change of the 4 info, whose holder consented to this verifier, also gets the newest
  certificate's 4 info and serial — or word that none was issued yet. Each status is
  billed as a 署名検証, each provision as 最新4情報の提供, and each provision is written to
  the holder's やりとり履歴 through :class:`myna.jpki.interfaces.ProvisionLog`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from myna.jpki import repository, service
from myna.jpki.cms import verify_detached_signature
from myna.jpki.consent_statement import (
    MAX_STATEMENT_BYTES,
    ConsentStatementError,
    read_consent_statement,
)
from myna.jpki.domain import (
    BasicInfo,
    CertificateKind,
    CertificateStatus,
    RevocationReason,
    VerificationError,
    serial_key,
)
from myna.jpki.interfaces import Provision, ProvisionLog, SignedRequests
from myna.jpki.latest_domain import (
    LATEST_INFO,
    LATEST_INFO_CONSENT,
    MAX_CONSENT_DOCUMENT_BYTES,
    MAX_CONSENT_SIGNATURE_BYTES,
    MAX_SUCCESSIONS,
    ConsentExistsError,
    ConsentForAnotherVerifierError,
    ConsentNotFoundError,
    ConsentNotInDocumentError,
    ConsentOutOfTimeError,
    ConsentSignatureError,
    LatestOutcome,
    LatestStatus,
    NoCardCertificateError,
    SigningState,
    UnreadableConsentError,
    check_reissue,
    consent_in_time,
    newest_in_chain,
    statement_in_document,
)
from myna.jpki.models import IssuedCertificate, LatestInfoConsent
from myna.jpki.verifier_domain import (
    MalformedVerifierRequestError,
    SerialProblem,
    UsageKind,
    read_serials,
)
from myna.jpki.verifiers import bill, check_permitted, open_request, tariff
from myna.platform.db import utcnow
from myna.platform.logging import get_logger
from myna.platform.settings import Settings

log = get_logger(__name__)

SIGN = CertificateKind.SIGN
AUTH = CertificateKind.AUTH


def _hex(serial: str) -> str:
    """A stored serial (40 digits) as the API writes serials: lowercase hex, no padding."""
    return f"{int(serial, 16):x}"


# --- re-issue ---------------------------------------------------------------------


def card_holder(*, session: Session, card_id: str) -> int:
    """The holder J-LIS issued ``card_id``'s certificates to (the registry's resident id)."""
    rows = repository.certificates(session, card_id=card_id, kinds=[AUTH, SIGN])
    holders = {row.holder_id for row in rows if row.holder_id is not None}
    if len(holders) != 1:
        raise NoCardCertificateError
    return holders.pop()


def _signing_state(row: IssuedCertificate, basic_info: BasicInfo, now: datetime) -> SigningState:
    return SigningState(
        status=CertificateStatus(row.status),
        reason=RevocationReason(row.revocation_reason) if row.revocation_reason else None,
        expired=row.not_after <= now,
        info_current=service.read_basic_info(row.certificate) == basic_info,
    )


def reissue_signing_certificate(
    *,
    session: Session,
    settings: Settings,
    card_id: str,
    public_key: rsa.RSAPublicKey,
    basic_info: BasicInfo,
    now: datetime | None = None,
) -> x509.Certificate:
    """Re-issue the signing certificate of ``card_id`` with ``basic_info`` (再発行).

    Refused for a card whose user-authentication certificate is revoked (lost or
    replaced: a new card is issued instead) and when the signing certificate on the card
    is in force with these very 4 info. A certificate a change left in force is revoked
    first (``basic_info_change``); the old serial is linked to the new one.
    """
    moment = now or utcnow()
    rows = repository.certificates(session, card_id=card_id, kinds=[AUTH, SIGN])
    auth = [row for row in rows if row.kind == AUTH.value]
    signing = [row for row in rows if row.kind == SIGN.value]
    if not auth:
        raise NoCardCertificateError
    holder_id = auth[-1].holder_id
    if holder_id is None:  # pragma: no cover - card certificates always have a holder
        raise NoCardCertificateError
    previous = signing[-1] if signing else None
    check_reissue(
        auth_revoked=auth[-1].status == CertificateStatus.REVOKED.value,
        signing=None if previous is None else _signing_state(previous, basic_info, moment),
    )
    if (
        previous is not None
        and previous.status == CertificateStatus.VALID.value
        and previous.not_after > moment
    ):
        service.revoke_certificate(
            session=session,
            serial=int(previous.serial, 16),
            reason=RevocationReason.BASIC_INFO_CHANGE,
        )
    certificate = service.issue_certificate(
        session=session,
        settings=settings,
        kind=SIGN,
        public_key=public_key,
        holder_id=holder_id,
        card_id=card_id,
        birth_date=basic_info.birth_date,
        basic_info=basic_info,
        now=moment,
    )
    if previous is not None:
        repository.add_succession(
            session,
            serial=previous.serial,
            successor_serial=serial_key(certificate.serial_number),
            card_id=card_id,
            at=moment,
        )
    log.info(
        "jpki.signing_reissued",
        card_id=card_id,
        previous=previous.serial if previous else None,
        serial=serial_key(certificate.serial_number),
    )
    return certificate


def successor_chain(*, session: Session, serial: int) -> list[int]:
    """The serials re-issued after ``serial``, in order (empty when none was)."""
    start = serial_key(serial)
    links = repository.successors_from(session, [start], depth=MAX_SUCCESSIONS)
    chain: list[int] = []
    current = start
    while current in links and len(chain) < MAX_SUCCESSIONS:
        current = links[current]
        chain.append(int(current, 16))
    return chain


# --- consents ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsentRead:
    """A registered consent, as its verifier and its holder see it."""

    id: int
    verifier: str
    verifier_name: str
    consent_id: str
    purpose: str
    certificate_serial: str
    consented_at: datetime
    registered_at: datetime
    withdrawn_at: datetime | None

    @property
    def live(self) -> bool:
        """Whether the consent still lets the 4 info go out."""
        return self.withdrawn_at is None


def _consent(row: LatestInfoConsent, verifier_name: str) -> ConsentRead:
    return ConsentRead(
        id=row.id,
        verifier=row.verifier_code,
        verifier_name=verifier_name,
        consent_id=row.consent_ref,
        purpose=row.purpose,
        certificate_serial=_hex(row.certificate_serial),
        consented_at=row.consented_at,
        registered_at=row.registered_at,
        withdrawn_at=row.withdrawn_at,
    )


def _base64_field(body: dict[str, object], field: str, limit: int) -> bytes:
    value = body.get(field)
    # Base64 grows by 4/3: a longer string cannot decode within the limit.
    if not isinstance(value, str) or not value or len(value) > (limit + 2) // 3 * 4:
        raise MalformedVerifierRequestError(field=field)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedVerifierRequestError(field=field) from exc


def register_consent(
    *, session: Session, settings: Settings, requests: SignedRequests, token: str
) -> ConsentRead:
    """Register a holder's signed consent for the verifier that signed the request.

    In order: the request (as the status API's), the verifier's approval for signing
    certificates, the statement (canonical, naming this verifier, signed within 30
    days), then the holder's CMS signature over it with a signing certificate valid now.
    """
    row, envelope = open_request(session, settings, requests, token, LATEST_INFO_CONSENT)
    check_permitted(row, SIGN)
    statement_bytes = _base64_field(envelope.body, "statement", MAX_STATEMENT_BYTES)
    signature = _base64_field(envelope.body, "signature", MAX_CONSENT_SIGNATURE_BYTES)
    try:
        statement = read_consent_statement(statement_bytes)
    except ConsentStatementError as exc:
        raise UnreadableConsentError(field=exc.field) from exc
    if statement.verifier != row.code:
        raise ConsentForAnotherVerifierError(named=statement.verifier, verifier=row.code)
    now = utcnow()
    if not consent_in_time(statement.issued_at, now):
        raise ConsentOutOfTimeError
    # The signature is over the statement itself, or over a document that lists the
    # statement's SHA-256 (a signing transaction of the authentication app).
    content = statement_bytes
    if envelope.body.get("document") is not None:
        content = _base64_field(envelope.body, "document", MAX_CONSENT_DOCUMENT_BYTES)
        if not statement_in_document(statement_bytes, content):
            raise ConsentNotInDocumentError
    try:
        signed = verify_detached_signature(
            session=session, settings=settings, signature=signature, content=content
        )
    except VerificationError as exc:
        raise ConsentSignatureError(problem=exc.code) from exc
    consent = LatestInfoConsent(
        verifier_code=row.code,
        consent_ref=statement.consent_id,
        holder_id=signed.certificate.holder_id,
        certificate_serial=serial_key(signed.certificate.serial),
        purpose=statement.purpose,
        statement=statement_bytes,
        signature=signature,
        consented_at=statement.issued_at,
        registered_at=now,
        withdrawn_at=None,
    )
    try:
        with session.begin_nested():
            repository.add_consent(session, consent)
    except IntegrityError as exc:
        raise ConsentExistsError from exc
    log.info("jpki.latest_info_consent_registered", verifier=row.code, consent=consent.id)
    return _consent(consent, row.name)


def consents_of(*, session: Session, holder_id: int) -> list[ConsentRead]:
    """Every consent a holder gave, withdrawn ones too, newest first."""
    return [_consent(row, name) for row, name in repository.consents_of(session, holder_id)]


def consent_of(*, session: Session, holder_id: int, consent_id: int) -> ConsentRead:
    """One of the holder's consents; another holder's is "not found"."""
    found = repository.consent_of(session, holder_id, consent_id)
    if found is None:
        raise ConsentNotFoundError
    return _consent(*found)


def withdraw_consent(*, session: Session, holder_id: int, consent_id: int) -> ConsentRead:
    """Withdraw one of the holder's consents; from now on the verifier learns "revoked" only."""
    found = repository.consent_of(session, holder_id, consent_id)
    if found is None or found[0].withdrawn_at is not None:
        raise ConsentNotFoundError
    row, name = found
    row.withdrawn_at = utcnow()
    session.flush()
    log.info("jpki.latest_info_consent_withdrawn", verifier=row.verifier_code, consent=row.id)
    return _consent(row, name)


# --- the query --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LatestNews:
    """What a consented verifier learns about a certificate revoked for a change of 4 info.

    ``provided``: the newest certificate re-issued since, its serial, its 4 info and its
    standing; ``not_reissued``: the 4 info changed and no certificate was issued yet.
    """

    outcome: LatestOutcome
    certificate_serial: str | None = None
    basic_info: BasicInfo | None = None
    status: LatestStatus | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None


@dataclass(frozen=True, slots=True)
class LatestItem:
    """The answer about one serial number of a batch."""

    index: int
    serial: str | None
    status: LatestStatus
    not_after: datetime | None = None
    reason: RevocationReason | None = None
    revoked_at: datetime | None = None
    problem: SerialProblem | None = None
    latest: LatestNews | None = None


@dataclass(frozen=True, slots=True)
class LatestAnswer:
    """A batch answered, and what it was billed."""

    verifier: str
    answered_at: datetime
    items: list[LatestItem]
    status_items: int
    status_unit_price_yen: int
    provided_items: int
    provision_unit_price_yen: int
    amount_yen: int


def _standing(row: IssuedCertificate, now: datetime) -> LatestStatus:
    if row.status == CertificateStatus.REVOKED.value:
        return LatestStatus.REVOKED
    return LatestStatus.EXPIRED if row.not_after <= now else LatestStatus.VALID


def _news(newest: IssuedCertificate | None, now: datetime) -> LatestNews:
    """The news of the newest certificate in a chain (``None``: none was re-issued)."""
    if newest is None or (
        newest.status == CertificateStatus.REVOKED.value
        and newest.revocation_reason == RevocationReason.BASIC_INFO_CHANGE.value
    ):
        # Changed again since the last re-issue: its 4 info are no longer current either.
        return LatestNews(LatestOutcome.NOT_REISSUED)
    return LatestNews(
        LatestOutcome.PROVIDED,
        certificate_serial=_hex(newest.serial),
        basic_info=service.read_basic_info(newest.certificate),
        status=_standing(newest, now),
        not_before=newest.not_before,
        not_after=newest.not_after,
    )


def latest_info(
    *,
    session: Session,
    settings: Settings,
    requests: SignedRequests,
    provisions: ProvisionLog,
    token: str,
) -> LatestAnswer:
    """Answer a verifier's batch of signing-certificate serials (最新4情報提供), and bill it.

    Each serial is valid, expired, revoked (with its reason) or unknown, and a bad item
    is ``invalid`` with its problem. A certificate revoked for a change of the 4 info
    whose holder has a live consent for this verifier also gets the news: the newest
    certificate's 4 info and serial along the re-issue links, or ``not_reissued``. Each
    news provided is logged for the holder (やりとり履歴) in this transaction.
    """
    row, envelope = open_request(session, settings, requests, token, LATEST_INFO)
    check_permitted(row, SIGN)
    queries = read_serials(envelope, limit=settings.jpki_status_max_serials)
    keys = [query.key for query in queries if query.key is not None]
    now = utcnow()
    found = {
        key: cert
        for key, cert in repository.certificates_by_serial(session, keys).items()
        if cert.kind == SIGN.value
    }
    changed = {
        key: cert
        for key, cert in found.items()
        if cert.revocation_reason == RevocationReason.BASIC_INFO_CHANGE.value
        and cert.holder_id is not None
    }
    consents = repository.live_consents(
        session, row.code, {cert.holder_id for cert in changed.values() if cert.holder_id}
    )
    consented = {key for key, cert in changed.items() if cert.holder_id in consents}
    links = repository.successors_from(session, consented, depth=MAX_SUCCESSIONS)
    newest = {key: newest_in_chain(key, links) for key in consented}
    newer = repository.certificates_by_serial(
        session, {serial for key, serial in newest.items() if serial != key}
    )
    items: list[LatestItem] = []
    given: list[Provision] = []
    for query in queries:
        if query.key is None:
            items.append(
                LatestItem(query.index, query.sent, LatestStatus.INVALID, problem=query.problem)
            )
            continue
        cert = found.get(query.key)
        if cert is None:
            items.append(LatestItem(query.index, query.sent, LatestStatus.UNKNOWN))
            continue
        news = None
        if query.key in consented:
            latest = newest[query.key]
            news = _news(newer.get(latest) if latest != query.key else None, now)
            if news.outcome is LatestOutcome.PROVIDED and cert.holder_id is not None:
                consent = consents[cert.holder_id]
                given.append(
                    Provision(
                        verifier_organization=row.organization_code,
                        verifier_name=row.name,
                        holder_id=cert.holder_id,
                        purpose=consent.purpose,
                        at=now,
                    )
                )
        items.append(
            LatestItem(
                query.index,
                query.sent,
                _standing(cert, now),
                not_after=cert.not_after,
                reason=RevocationReason(cert.revocation_reason) if cert.revocation_reason else None,
                revoked_at=cert.revoked_at,
                latest=news,
            )
        )
    billed = sum(1 for item in items if item.status.billed)
    prices = tariff(settings)
    status_price = prices.unit_price(UsageKind.SIGN_STATUS)
    provision_price = prices.unit_price(UsageKind.LATEST_INFO)
    bill(session, row, envelope, UsageKind.SIGN_STATUS, billed, status_price, now)
    if given:
        bill(session, row, envelope, UsageKind.LATEST_INFO, len(given), provision_price, now)
        provisions.record(session=session, provisions=given)
    log.info("jpki.latest_info_answered", verifier=row.code, items=len(items), provided=len(given))
    return LatestAnswer(
        verifier=row.code,
        answered_at=now,
        items=items,
        status_items=billed,
        status_unit_price_yen=status_price,
        provided_items=len(given),
        provision_unit_price_yen=provision_price,
        amount_yen=billed * status_price + len(given) * provision_price,
    )
