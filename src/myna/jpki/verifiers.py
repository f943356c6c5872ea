"""JPKI verifiers: registration, the revocation-status API, fees and monthly statements.

J-LIS gives the businesses it approved (署名検証者 for signing certificates, 利用者証明検証者
for user-authentication certificates, or a service provider under a platform operator)
the revocation status of card certificates, and bills them per status answered: every
status of a signing certificate is a 署名検証 (20円/件 by default). Here a verifier is
registered with a key certified by the government CA (``jv-<code>``); each request is
signed with it and opened by the platform's rule for organisations' signed requests
(:class:`myna.jpki.interfaces.SignedRequests`: JWS ES256, certificate in ``x5c``,
fresh, once); each answer is written to the verifier's usage in the same transaction, at
the tariff of the moment, and summed into a monthly statement (請求明細).

A status answer says which CRL it agrees with (its number and thisUpdate, RFC 5280
§5.2.3 and §5.1.2.4): the certificates are read in one statement with the CA's
``crl_revision`` — moved by every revocation — and the CRL named is the one made at that
revision (docs/adr/0012-jpki-verifiers-port-and-crl-consistency.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from myna.jpki import repository, service
from myna.jpki.domain import (
    AuthoritiesNotInitializedError,
    CertificateKind,
    CertificateStatus,
    JpkiError,
    RevocationReason,
    VerificationError,
)
from myna.jpki.interfaces import SignedRequests
from myna.jpki.models import Verifier
from myna.jpki.verifier_domain import (
    CRL,
    STATEMENT,
    STATUS,
    USAGE_LABELS,
    BillingMonth,
    CertificateKindNotPermittedError,
    Envelope,
    InvalidPlatformError,
    ItemStatus,
    MalformedVerifierRequestError,
    SerialProblem,
    SerialQuery,
    Tariff,
    UnknownVerifierError,
    UnregisteredVerifierError,
    UsageKind,
    VerifierCertificateRevokedError,
    VerifierExistsError,
    VerifierKind,
    VerifierMismatchError,
    certificate_kind,
    check_verifier,
    kind_names,
    open_envelope,
    organization_code,
    read_serials,
)
from myna.platform.db import utcnow
from myna.platform.errors import N_, MynaError
from myna.platform.logging import get_logger
from myna.platform.settings import Settings

log = get_logger(__name__)

# What a signed request may weigh besides its serials (the header carries the
# certificate, about 1.5 KiB in base64), and what each serial may add (40 hex digits,
# quotes and a comma, in base64).
_REQUEST_OVERHEAD_BYTES = 16 * 1024
_BYTES_PER_SERIAL = 64
# How often an answer is read again when a revocation landed while it was being read.
_CONSISTENT_READ_ATTEMPTS = 3


class StatusBusyError(JpkiError, code="status_busy", status_code=503):
    """Revocations kept landing while a batch was read: no consistent answer was had."""

    message = N_(
        "Certificates are being revoked right now and no answer consistent with one CRL "
        "could be read. Send the request again in a moment (with a new request id)."
    )


def request_limit(settings: Settings) -> int:
    """The largest signed request the verifier API reads, in bytes, for the batch limit."""
    return _REQUEST_OVERHEAD_BYTES + settings.jpki_status_max_serials * _BYTES_PER_SERIAL


def tariff(settings: Settings) -> Tariff:
    """The fees per item the settings give."""
    return Tariff(
        sign_status_yen=settings.jpki_fee_sign_status_yen,
        auth_status_yen=settings.jpki_fee_auth_status_yen,
        crl_yen=settings.jpki_fee_crl_yen,
        latest_info_yen=settings.jpki_fee_latest_info_yen,
    )


# --- registration -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifierRead:
    """A registered verifier."""

    code: str
    name: str
    kind: VerifierKind
    organization_code: str
    platform: str | None
    registered_at: datetime
    suspended: bool


def _read(row: Verifier) -> VerifierRead:
    return VerifierRead(
        row.code,
        row.name,
        VerifierKind(row.kind),
        row.organization_code,
        row.platform_code,
        row.registered_at,
        row.suspended_at is not None,
    )


def _check_platform(session: Session, platform: str, kind: VerifierKind) -> str:
    """The platform operator a service provider registers under, if it can take it."""
    row = repository.verifier(session, platform)
    if row is None or row.suspended_at is not None or row.platform_code is not None:
        raise InvalidPlatformError
    if not kind.certificate_kinds <= VerifierKind(row.kind).certificate_kinds:
        raise InvalidPlatformError
    return row.code


def register_verifier(
    *,
    session: Session,
    settings: Settings,
    code: str,
    name: str,
    kind: str,
    public_key: service.OrganizationPublicKey,
    platform: str | None = None,
) -> tuple[VerifierRead, x509.Certificate]:
    """Register a verifier and certify its key with the government CA (``jv-<code>``).

    ``platform`` makes it a service provider (サービス提供者) under that platform operator
    (プラットフォーム事業者): a registered, active verifier, not under a platform itself,
    approved for every kind the provider is.
    """
    code, name, verifier_kind = check_verifier(code, name, kind)
    if repository.verifier(session, code) is not None:
        raise VerifierExistsError
    platform_code = _check_platform(session, platform, verifier_kind) if platform else None
    certificate = service.issue_organization_certificate(
        session=session,
        settings=settings,
        organization_code=organization_code(code),
        organization_name=name,
        public_key=public_key,
    )
    row = Verifier(
        code=code,
        name=name,
        kind=verifier_kind.value,
        platform_code=platform_code,
        organization_code=organization_code(code),
        registered_at=utcnow(),
        suspended_at=None,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise VerifierExistsError from exc
    log.info("jpki.verifier_registered", verifier=code, kind=verifier_kind.value)
    return _read(row), certificate


def verifier(*, session: Session, code: str) -> VerifierRead | None:
    """A registered verifier by its code."""
    row = repository.verifier(session, code)
    return None if row is None else _read(row)


def list_verifiers(*, session: Session) -> list[VerifierRead]:
    """Every registered verifier, by code."""
    return [_read(row) for row in repository.verifiers(session)]


def _set_suspended(session: Session, code: str, *, suspended: bool) -> VerifierRead:
    row = repository.verifier(session, code)
    if row is None:
        raise UnknownVerifierError
    if suspended and row.suspended_at is None:
        row.suspended_at = utcnow()
    elif not suspended:
        row.suspended_at = None
    session.flush()
    return _read(row)


def suspend_verifier(*, session: Session, code: str) -> VerifierRead:
    """Stop a verifier's requests (a platform's service providers stop with it)."""
    return _set_suspended(session, code, suspended=True)


def resume_verifier(*, session: Session, code: str) -> VerifierRead:
    """Let a suspended verifier ask again."""
    return _set_suspended(session, code, suspended=False)


# --- signed requests --------------------------------------------------------------


def open_request(
    session: Session,
    settings: Settings,
    requests: SignedRequests,
    token: str,
    expected_type: str,
) -> tuple[Verifier, Envelope]:
    """Verify a verifier's signed request: signer, registration, type, freshness, once."""
    try:
        opened = requests.open(
            token, session=session, settings=settings, max_bytes=request_limit(settings)
        )
    except MynaError as exc:
        cause = exc.__cause__
        if isinstance(cause, VerificationError) and cause.code == "revoked":
            raise VerifierCertificateRevokedError from exc
        raise
    envelope = open_envelope(opened.payload, expected_type)
    row = repository.verifier(session, envelope.verifier)
    if row is None or row.suspended_at is not None:
        raise UnregisteredVerifierError
    if row.platform_code is not None:
        platform = repository.verifier(session, row.platform_code)
        if platform is None or platform.suspended_at is not None:
            raise UnregisteredVerifierError
    if opened.signer != row.organization_code:
        raise VerifierMismatchError(claimed=row.organization_code, signer=opened.signer)
    requests.admit_once(
        session=session,
        request_id=envelope.request_id,
        requester=row.organization_code,
        issued_at=envelope.issued_at,
    )
    return row, envelope


def check_permitted(row: Verifier, kind: CertificateKind) -> None:
    """Refuse a verifier not approved for certificates of ``kind``."""
    approved = VerifierKind(row.kind)
    if not approved.allows(kind):
        raise CertificateKindNotPermittedError(
            approved=kind_names(approved.certificate_kinds), asked=kind.value
        )


def bill(
    session: Session,
    row: Verifier,
    envelope: Envelope,
    kind: UsageKind,
    items: int,
    unit_price: int,
    at: datetime,
) -> None:
    """Write one answered request to the verifier's usage, in its transaction."""
    repository.add_usage(
        session,
        verifier_code=row.code,
        month=str(BillingMonth.of(at)),
        kind=kind.value,
        request_id=envelope.request_id,
        items=items,
        unit_price_yen=unit_price,
        at=at,
    )


# --- the revocation status --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SerialStatus:
    """The answer about one serial number of a batch.

    ``status`` is ``good``, ``revoked`` (with why and since when), ``unknown`` (no card
    certificate of the kind asked has this serial) or ``invalid`` (``problem`` says why).
    """

    index: int
    serial: str | None
    status: ItemStatus
    not_after: datetime | None = None
    reason: RevocationReason | None = None
    revoked_at: datetime | None = None
    invalidity_date: datetime | None = None
    problem: SerialProblem | None = None


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    """A batch answered: each serial's status and the CRL they agree with, and the fee."""

    verifier: str
    certificate_kind: CertificateKind
    crl_number: int
    crl_this_update: datetime
    crl_next_update: datetime
    answered_at: datetime
    items: list[SerialStatus]
    billed_items: int
    unit_price_yen: int
    amount_yen: int


def _status(query: SerialQuery, found: repository.StatusRow | None) -> SerialStatus:
    if query.key is None:
        return SerialStatus(query.index, query.sent, ItemStatus.INVALID, problem=query.problem)
    if found is None:
        return SerialStatus(query.index, query.sent, ItemStatus.UNKNOWN)
    if found.status == CertificateStatus.REVOKED.value:
        reason = found.revocation_reason
        return SerialStatus(
            query.index,
            query.sent,
            ItemStatus.REVOKED,
            not_after=found.not_after,
            reason=RevocationReason(reason) if reason else None,
            revoked_at=found.revoked_at,
            invalidity_date=found.invalidity_date,
        )
    return SerialStatus(query.index, query.sent, ItemStatus.GOOD, not_after=found.not_after)


def _consistent_read(
    session: Session, settings: Settings, kind: CertificateKind, keys: list[str]
) -> tuple[service.CrlInfo, dict[str, repository.StatusRow]]:
    """The batch's certificates under ``kind``'s CA, and the CRL they agree with.

    The certificates and the CA's CRL revision are read by one statement; the CRL made at
    that revision is the cached one, or a new one. A revocation landing in between shows
    as a newer revision on the new CRL, and the batch is read again.
    """
    for _attempt in range(_CONSISTENT_READ_ATTEMPTS):
        read = repository.statuses_under(session, kind.authority, keys)
        if read is None:
            raise AuthoritiesNotInitializedError
        state, found = read
        crl = service.crl_info(session=session, settings=settings, kind=kind.authority, state=state)
        if crl.revision == state.crl_revision:
            return crl, found
    raise StatusBusyError


def revocation_status(
    *, session: Session, settings: Settings, requests: SignedRequests, token: str
) -> StatusAnswer:
    """Answer a verifier's signed batch of serial numbers, and bill it.

    In order: the request (signature, certificate, registration, type, freshness, once);
    the kind of certificate asked about, which the verifier must be approved for; the
    serials (at most ``jpki_status_max_serials``; a bad one is answered ``invalid``);
    then one read of the batch under the CA of that kind, consistent with its current
    CRL. Each ``good`` or ``revoked`` status is billed at the tariff of the kind;
    ``unknown`` and ``invalid`` are not.
    """
    row, envelope = open_request(session, settings, requests, token, STATUS)
    kind = certificate_kind(envelope)
    check_permitted(row, kind)
    queries = read_serials(envelope, limit=settings.jpki_status_max_serials)
    crl, found = _consistent_read(
        session, settings, kind, [query.key for query in queries if query.key is not None]
    )
    items = [
        _status(query, found.get(query.key) if query.key is not None else None) for query in queries
    ]
    billed = sum(1 for item in items if item.status.billed)
    usage = UsageKind.status_of(kind)
    price = tariff(settings).unit_price(usage)
    now = utcnow()
    bill(session, row, envelope, usage, billed, price, now)
    return StatusAnswer(
        verifier=row.code,
        certificate_kind=kind,
        crl_number=crl.number,
        crl_this_update=crl.this_update,
        crl_next_update=crl.next_update,
        answered_at=now,
        items=items,
        billed_items=billed,
        unit_price_yen=price,
        amount_yen=billed * price,
    )


def verifier_crl(
    *,
    session: Session,
    settings: Settings,
    requests: SignedRequests,
    token: str,
    kind: CertificateKind,
) -> bytes:
    """The current CRL of ``kind``'s CA for a verifier approved for it, billed as one CRL.

    The same bytes as the public ``/jpki/crl/<kind>.crl``; fetched this way, the CRL is
    on the verifier's statement at the CRL tariff (0 yen by default: the CRLs are free).
    """
    row, envelope = open_request(session, settings, requests, token, CRL)
    if certificate_kind(envelope) is not kind:
        raise MalformedVerifierRequestError(field="certificate_kind")
    check_permitted(row, kind)
    der = service.current_crl(session=session, settings=settings, kind=kind.authority)
    price = tariff(settings).unit_price(UsageKind.CRL)
    bill(session, row, envelope, UsageKind.CRL, 1, price, utcnow())
    return der


# --- monthly statements -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One line of a statement: what, at what price, how many, how much."""

    item: UsageKind
    label: str
    unit_price_yen: int
    requests: int
    count: int
    amount_yen: int


@dataclass(frozen=True, slots=True)
class ProviderUsage:
    """A service provider's usage, on its platform operator's statement."""

    code: str
    name: str
    lines: list[StatementLine]
    amount_yen: int


@dataclass(frozen=True, slots=True)
class Statement:
    """A verifier's statement (請求明細) for one month in Japan.

    ``billed_to`` is who pays: the verifier itself, or the platform operator a service
    provider works under, whose statement lists the provider's usage and adds it to its
    ``total_yen``. ``final`` says the month is over (no more usage can come).
    """

    verifier: str
    name: str
    kind: VerifierKind
    month: BillingMonth
    billed_to: str
    lines: list[StatementLine]
    amount_yen: int
    service_providers: list[ProviderUsage]
    total_yen: int
    final: bool
    issued_at: datetime


def _lines(totals: list[repository.UsageTotal]) -> list[StatementLine]:
    return [
        StatementLine(
            item=UsageKind(total.kind),
            label=USAGE_LABELS[UsageKind(total.kind)],
            unit_price_yen=total.unit_price_yen,
            requests=total.requests,
            count=total.items,
            amount_yen=total.amount_yen,
        )
        for total in totals
    ]


def statement(*, session: Session, code: str, month: BillingMonth | str) -> Statement:
    """The statement of verifier ``code`` for ``month`` (``YYYY-MM``), so far."""
    when = month if isinstance(month, BillingMonth) else BillingMonth.parse(month)
    row = repository.verifier(session, code)
    if row is None:
        raise UnknownVerifierError
    providers = list(repository.service_providers(session, row.code))
    totals = repository.usage_totals(
        session, [row.code, *(provider.code for provider in providers)], str(when)
    )
    own = _lines([total for total in totals if total.verifier_code == row.code])
    amount = sum(line.amount_yen for line in own)
    usage = []
    for provider in providers:
        lines = _lines([total for total in totals if total.verifier_code == provider.code])
        usage.append(
            ProviderUsage(
                provider.code, provider.name, lines, sum(line.amount_yen for line in lines)
            )
        )
    now = utcnow()
    return Statement(
        verifier=row.code,
        name=row.name,
        kind=VerifierKind(row.kind),
        month=when,
        billed_to=row.platform_code or row.code,
        lines=own,
        amount_yen=amount,
        service_providers=usage,
        total_yen=amount + sum(provider.amount_yen for provider in usage),
        final=now >= when.ends,
        issued_at=now,
    )


def own_statement(
    *,
    session: Session,
    settings: Settings,
    requests: SignedRequests,
    token: str,
    month: str,
) -> Statement:
    """The signing verifier's own statement for ``month``: never another's.

    The month in the path and the one the signed request names must agree.
    """
    when = BillingMonth.parse(month)
    row, envelope = open_request(session, settings, requests, token, STATEMENT)
    if BillingMonth.parse(envelope.body.get("month")) != when:
        raise MalformedVerifierRequestError(field="month")
    return statement(session=session, code=row.code, month=when)
