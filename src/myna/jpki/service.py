"""JPKI use cases, Myna playing J-LIS: CAs, issuance, revocation, CRL, OCSP, verification.

Every relying party (署名検証者) — the portal's card login, the back offices that check
signed applications, partner services — calls :func:`verify_certificate`; nothing
else in Myna decides whether a card certificate is good. The government CA (the role of
政府認証基盤 GPKI) issues agencies' organisation certificates, and
:func:`verify_organization_certificate` is the one routine that decides about those.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypedDict

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import SignatureAlgorithmOID
from sqlalchemy import Row
from sqlalchemy.orm import Session

from myna.jpki import profile, repository
from myna.jpki.domain import (
    CARD_KINDS,
    CRL_LIFETIME,
    EKU_MESSAGE_SIGNING,
    ISSUING_AUTHORITIES,
    JST,
    MAX_NONCE_LENGTH,
    MIN_RSA_BITS,
    OCSP_LIFETIME,
    ORGANIZATION_LIFETIME,
    ORGANIZATION_REASONS,
    AuthoritiesNotInitializedError,
    AuthorityInfo,
    AuthorityKind,
    BasicInfo,
    BasicInfoForbiddenError,
    BasicInfoRequiredError,
    CertificateKind,
    CertificateNotFoundError,
    CertificateRecord,
    CertificateStatus,
    CredentialMedium,
    InvalidBasicInfoError,
    InvalidValidityError,
    JpkiError,
    NoBasicInfoError,
    OrganizationCertificateNotFoundError,
    OrganizationPurpose,
    OrganizationVerificationError,
    RevocationNotApplicableError,
    RevocationReason,
    RevocationReasonMismatchError,
    SigningStanding,
    UnknownAuthorityError,
    UnsupportedOrganizationKeyError,
    VerificationError,
    VerifiedCertificate,
    VerifiedOrganization,
    WeakKeyError,
    certificate_expiry,
    check_organization,
    end_of_day_jst,
    medium_of_policies,
    revoked_by,
    serial_key,
)
from myna.jpki.models import CertificateAuthority, IssuedCertificate
from myna.jpki.profile import CaPrivateKey
from myna.platform.attributes import from_attributes
from myna.platform.db import utcnow
from myna.platform.errors import N_
from myna.platform.logging import get_logger
from myna.platform.settings import Settings

log = get_logger(__name__)

# The J-LIS profile signs with sha256WithRSAEncryption only (RFC 4055 §5).
ACCEPTED_SIGNATURE_ALGORITHM = SignatureAlgorithmOID.RSA_WITH_SHA256
# The post-quantum hierarchy signs with ML-DSA-65 (id-ml-dsa-65, RFC 9881 §2).
PQ_SIGNATURE_ALGORITHM = SignatureAlgorithmOID.ML_DSA_65


class AuthorityKeyError(JpkiError, code="authority_key_unreadable", status_code=500):
    """A CA private key could not be decrypted (wrong ``MYNA_CA_SECRET``)."""

    message = N_(
        "The certificate authority's private key could not be decrypted. "
        "Check that MYNA_CA_SECRET is the secret the authorities were created with."
    )


def _new_key(kind: AuthorityKind) -> CaPrivateKey:
    """A fresh CA key: RSA-2048 as the J-LIS CAs, ML-DSA-65 for the post-quantum hierarchy.

    Tests replace this to save time (the kind lets them key a pool).
    """
    if kind.post_quantum:
        return mldsa.MLDSA65PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS)


CaPublicKey = rsa.RSAPublicKey | mldsa.MLDSA65PublicKey


# --- the in-process cache of CA material ------------------------------------------


@dataclass(frozen=True, eq=False)
class _Authority:
    """A CA row, parsed once: certificate, key identifier and public key."""

    kind: AuthorityKind
    certificate: x509.Certificate
    fingerprint: str
    key_id: bytes
    public_key: CaPublicKey
    encrypted_key: bytes

    def ocsp_hashes(self, algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
        """issuerNameHash and issuerKeyHash as RFC 6960 §4.1.1 defines them."""
        name = hashes.Hash(algorithm)
        name.update(self.certificate.subject.public_bytes())
        key = hashes.Hash(algorithm)
        # The subjectPublicKey BIT STRING's contents: RSAPublicKey DER, or the raw
        # ML-DSA-65 public key (RFC 9881 §4).
        if isinstance(self.public_key, mldsa.MLDSA65PublicKey):
            key.update(
                self.public_key.public_bytes(
                    serialization.Encoding.Raw, serialization.PublicFormat.Raw
                )
            )
        else:
            key.update(
                self.public_key.public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.PKCS1
                )
            )
        return name.finalize(), key.finalize()


@dataclass(frozen=True, slots=True)
class _CachedCrl:
    der: bytes
    revision: int
    refresh_after: datetime
    number: int
    this_update: datetime
    next_update: datetime


@dataclass(frozen=True, slots=True)
class _CheckedOrganization:
    """What an organisation certificate's bytes alone settled when it verified: profile,
    algorithm, issuer and signature, key usage and purpose, the organisation's name.

    None of it can change while the bytes stay the same and their issuing CA stays
    trusted (the cache only ever adds trusted CAs). The validity window is the
    certificate's within its CA's; the issuance record and its revocation are read
    afresh on every verification.
    """

    serial: int
    serial_key: str
    kind: CertificateKind
    organization_name: str
    not_before: datetime
    not_after: datetime
    certificate_not_after: datetime


# Verified organisation certificates kept per process: a few hundred agencies, partners
# and verifiers at most; past this many (never reached but by something odd) start over.
MAX_CHECKED_ORGANIZATIONS = 4096


@dataclass(frozen=True, slots=True)
class _CheckedCertificate:
    """A card certificate whose encoding, algorithm and issuer's signature have passed.

    What depends on the certificate's bytes alone (and on the issuing CAs this cache
    trusts for the process's life): kept by those bytes, so a card presented again is
    not parsed and its issuer's signature not verified again. Everything that depends
    on the moment or the records — purpose, validity, revocation, the holder — is
    checked at every verification.
    """

    certificate: x509.Certificate
    der: bytes
    issuer: _Authority
    medium: CredentialMedium


# Certificates checked, kept per process (a few kilobytes each): the cards in use.
CHECKED_CERTIFICATES = 4096


class _Cache:
    """CA material, decrypted keys and CRLs, shared by the threads of one process.

    Entries are keyed by the CA certificate's SHA-256 fingerprint, so a CA that is
    replaced (or a database that is reset) can never be served from a stale entry.
    Organisation certificates that verified are kept by their DER bytes (what their
    bytes settled, :class:`_CheckedOrganization`).
    Card certificates that passed the checks of their bytes are kept by those bytes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.authorities: dict[str, _Authority] = {}
        self.private_keys: dict[str, CaPrivateKey] = {}
        self.crls: dict[str, _CachedCrl] = {}
        # Issuing CAs whose chain to the root was checked, by subjectKeyIdentifier.
        self.issuers: dict[bytes, list[_Authority]] = {}
        self.organizations: dict[bytes, _CheckedOrganization] = {}
        self.checked: dict[bytes, _CheckedCertificate] = {}

    def remember_organization(self, der: bytes, organization: _CheckedOrganization) -> None:
        with self._lock:
            if len(self.organizations) >= MAX_CHECKED_ORGANIZATIONS:
                self.organizations.clear()
            self.organizations[der] = organization

    def remember_checked(self, presented: bytes, checked: _CheckedCertificate) -> None:
        with self._lock:
            if len(self.checked) >= CHECKED_CERTIFICATES:
                # The oldest entry goes (dicts keep insertion order).
                self.checked.pop(next(iter(self.checked)))
            self.checked[presented] = checked

    def material(self, row: CertificateAuthority) -> _Authority:
        found = self.authorities.get(row.fingerprint)
        if found is not None:
            return found
        certificate = x509.load_der_x509_certificate(row.certificate)
        public_key = certificate.public_key()
        if not isinstance(
            public_key, rsa.RSAPublicKey | mldsa.MLDSA65PublicKey
        ):  # pragma: no cover - we made it
            msg = "CA keys are RSA or ML-DSA-65"
            raise TypeError(msg)
        authority = _Authority(
            kind=AuthorityKind(row.kind),
            certificate=certificate,
            fingerprint=row.fingerprint,
            key_id=x509.SubjectKeyIdentifier.from_public_key(public_key).digest,
            public_key=public_key,
            encrypted_key=row.private_key,
        )
        with self._lock:
            return self.authorities.setdefault(row.fingerprint, authority)

    def trust(self, authority: _Authority) -> None:
        with self._lock:
            known = self.issuers.setdefault(authority.key_id, [])
            if authority not in known:
                # Newest first: it is the one the database holds now.
                known.insert(0, authority)

    def issuers_for(self, key_id: bytes | None, issuer: x509.Name) -> list[_Authority]:
        if key_id is not None:
            return [a for a in self.issuers.get(key_id, []) if a.certificate.subject == issuer]
        return [
            a for known in self.issuers.values() for a in known if a.certificate.subject == issuer
        ]


CACHE_KEY = "myna.jpki.cache"


def new_cache() -> _Cache:
    """A fresh cache of CA material for one composition root (see :func:`_cache_of`)."""
    return _Cache()


def _cache_of(session: Session) -> _Cache:
    """The CA cache of the session's factory, put there by the composition root.

    A session made without one (a bare ``Session``) gets its own, so nothing is ever
    shared through a module global; the container's factory hands every session of the
    process the same cache, so CA keys are decrypted once per process.
    """
    cache = session.info.get(CACHE_KEY)
    if not isinstance(cache, _Cache):
        cache = session.info[CACHE_KEY] = _Cache()
    return cache


def _material(cache: _Cache, row: CertificateAuthority) -> _Authority:
    return cache.material(row)


def _private_key(cache: _Cache, authority: _Authority, settings: Settings) -> CaPrivateKey:
    found = cache.private_keys.get(authority.fingerprint)
    if found is not None:
        return found
    try:
        key = serialization.load_der_private_key(
            authority.encrypted_key, password=settings.ca_secret.get_secret_value().encode()
        )
    except (ValueError, TypeError) as exc:
        raise AuthorityKeyError from exc
    if not isinstance(
        key, rsa.RSAPrivateKey | mldsa.MLDSA65PrivateKey
    ):  # pragma: no cover - we stored it
        raise AuthorityKeyError
    cache.private_keys[authority.fingerprint] = key
    return key


def _register(cache: _Cache, rows: Iterable[CertificateAuthority]) -> None:
    """Trust the issuing CAs whose certificates their root signed (RFC 5280 §6.1.3)."""
    by_kind = {AuthorityKind(row.kind): _material(cache, row) for row in rows}
    for kind in ISSUING_AUTHORITIES:
        issuing = by_kind.get(kind)
        root = by_kind.get(kind.root)
        if issuing is None or root is None:
            continue
        try:
            issuing.certificate.verify_directly_issued_by(root.certificate)
            constraints = issuing.certificate.extensions.get_extension_for_class(
                x509.BasicConstraints
            ).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            log.error("jpki.issuing_ca_not_under_root", kind=kind.value)
            continue
        if constraints.ca:
            cache.trust(issuing)


def _authority(session: Session, kind: AuthorityKind) -> _Authority:
    row = repository.authority(session, kind)
    if row is None:
        raise AuthoritiesNotInitializedError
    return _material(_cache_of(session), row)


def _authority_kind(kind: AuthorityKind | str) -> AuthorityKind:
    try:
        return AuthorityKind(kind)
    except ValueError as exc:
        raise UnknownAuthorityError from exc


def _fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def _now(value: datetime | None) -> datetime:
    moment = value or utcnow()
    if moment.tzinfo is None:
        msg = "naive datetimes are ambiguous; pass an aware datetime"
        raise ValueError(msg)
    # X.509 times carry whole seconds (RFC 5280 §4.1.2.5).
    return moment.replace(microsecond=0)


# --- certificate authorities ------------------------------------------------------


def _store_authority(
    session: Session,
    settings: Settings,
    kind: AuthorityKind,
    certificate: x509.Certificate,
    key: CaPrivateKey,
) -> CertificateAuthority:
    encrypted = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(settings.ca_secret.get_secret_value().encode()),
    )
    row = CertificateAuthority(
        kind=kind.value,
        subject=certificate.subject.rfc4514_string(),
        fingerprint=_fingerprint(certificate),
        certificate=certificate.public_bytes(serialization.Encoding.DER),
        private_key=encrypted,
        next_crl_number=1,
        crl_revision=0,
    )
    session.add(row)
    _cache_of(session).private_keys[row.fingerprint] = key
    return row


def ensure_authorities(*, session: Session, settings: Settings) -> None:
    """Create the roots and the issuing CAs that are missing; else no-op.

    Two hierarchies: the RSA root with the sign, auth and gov CAs, and the ML-DSA-65
    root with the post-quantum gov CA (docs/adr/0010-post-quantum-signatures.md). A
    database made before a CA existed gets it on the next call, under the root it
    already has.
    """
    rows = {AuthorityKind(row.kind): row for row in repository.authorities(session)}
    now = _now(None)
    for root_kind in (AuthorityKind.ROOT, AuthorityKind.PQ_ROOT):
        issuing_kinds = [kind for kind in ISSUING_AUTHORITIES if kind.root is root_kind]
        if not issuing_kinds:
            continue
        if root_kind not in rows:
            if any(kind in rows for kind in issuing_kinds):
                msg = "issuing CAs exist without their root; the JPKI tables are inconsistent"
                raise RuntimeError(msg)
            key = _new_key(root_kind)
            root_certificate = profile.build_root(key=key, now=now, kind=root_kind)
            rows[root_kind] = _store_authority(session, settings, root_kind, root_certificate, key)
            log.info("jpki.authority_created", kind=root_kind.value)
        root = _material(_cache_of(session), rows[root_kind])
        for kind in issuing_kinds:
            if kind in rows:
                continue
            key = _new_key(kind)
            certificate = profile.build_issuing(
                kind=kind,
                key=key,
                root=root.certificate,
                root_key=_private_key(_cache_of(session), root, settings),
                now=now,
                base_url=settings.portal_url,
            )
            rows[kind] = _store_authority(session, settings, kind, certificate, key)
            log.info("jpki.authority_created", kind=kind.value)
    session.flush()
    _register(_cache_of(session), rows.values())


def ca_certificate(*, session: Session, kind: AuthorityKind | str) -> bytes:
    """A CA certificate, DER (published for AIA caIssuers, RFC 5280 §4.2.2.1)."""
    row = repository.authority(session, _authority_kind(kind))
    if row is None:
        raise AuthoritiesNotInitializedError
    return row.certificate


def list_authorities(*, session: Session) -> list[AuthorityInfo]:
    """The CAs, root first, for the public index."""
    result = []
    for row in repository.authorities(session):
        certificate = _material(_cache_of(session), row).certificate
        result.append(
            AuthorityInfo(
                kind=AuthorityKind(row.kind),
                subject=row.subject,
                not_before=certificate.not_valid_before_utc,
                not_after=certificate.not_valid_after_utc,
                sha256_fingerprint=row.fingerprint,
            )
        )
    return result


# --- issuance ---------------------------------------------------------------------


def _check_public_key(public_key: object) -> rsa.RSAPublicKey:
    if not isinstance(public_key, rsa.RSAPublicKey) or public_key.key_size < MIN_RSA_BITS:
        raise WeakKeyError
    return public_key


def issue_certificate(
    *,
    session: Session,
    settings: Settings,
    kind: CertificateKind,
    public_key: rsa.RSAPublicKey,
    holder_id: int,
    card_id: str,
    birth_date: date,
    basic_info: BasicInfo | None,
    now: datetime | None = None,
    not_after: datetime | None = None,
    medium: CredentialMedium = CredentialMedium.CARD,
) -> x509.Certificate:
    """Issue a card certificate (発行) valid until the holder's 5th birthday after issue.

    ``medium`` PHONE issues a phone credential's certificate (スマホ用電子証明書): the same
    profile under the phone's certificate policy; ``card_id`` is then the phone
    credential's own identifier.
    """
    kind = CertificateKind(kind)
    if not kind.on_card:
        msg = "organisation certificates come from issue_organization_certificate"
        raise ValueError(msg)
    key = _check_public_key(public_key)
    if kind is CertificateKind.SIGN and basic_info is None:
        raise BasicInfoRequiredError
    if kind is CertificateKind.AUTH and basic_info is not None:
        raise BasicInfoForbiddenError
    if basic_info is not None and basic_info.birth_date != birth_date:
        raise InvalidBasicInfoError
    issuer = _authority(session, kind.authority)
    not_before = _now(now)
    if not_after is None:
        expiry = certificate_expiry(not_before.astimezone(JST).date(), birth_date)
        not_after = end_of_day_jst(expiry)
    not_after = _now(not_after)
    issuance = _issuance(_cache_of(session), issuer, settings, not_before, not_after)
    # Opaque, random and unrelated to the holder: a CN must reveal nothing (J-LIS profile).
    subject_cn = secrets.token_hex(16).upper()
    certificate = profile.build_leaf(
        kind=kind,
        medium=CredentialMedium(medium),
        public_key=key,
        subject_cn=subject_cn,
        basic_info=basic_info,
        **issuance,
    )
    row = IssuedCertificate(
        kind=kind.value, holder_id=holder_id, card_id=card_id, subject_cn=subject_cn
    )
    _record_issued(session, issuer, issuance, certificate, row)
    log.info(
        "jpki.certificate_issued", kind=kind.value, serial=serial_key(certificate.serial_number)
    )
    return certificate


class _Issuance(TypedDict):
    """What the profile's builders take from the issuing CA, the clock and the settings."""

    issuer: x509.Certificate
    issuer_key: CaPrivateKey
    serial: int
    not_before: datetime
    not_after: datetime
    base_url: str


def _issuance(
    cache: _Cache,
    issuer: _Authority,
    settings: Settings,
    not_before: datetime,
    not_after: datetime,
) -> _Issuance:
    """A new serial under ``issuer`` for a certificate valid from ``not_before`` to ``not_after``.

    The certificate must end after it starts and not outlive its issuer (RFC 5280 §6.1.3).
    """
    if not_after <= not_before or not_after > issuer.certificate.not_valid_after_utc:
        raise InvalidValidityError
    return _Issuance(
        issuer=issuer.certificate,
        issuer_key=_private_key(cache, issuer, settings),
        serial=x509.random_serial_number(),
        not_before=not_before,
        not_after=not_after,
        base_url=settings.portal_url,
    )


def _record_issued(
    session: Session,
    issuer: _Authority,
    issuance: _Issuance,
    certificate: x509.Certificate,
    row: IssuedCertificate,
) -> None:
    """Keep an issued certificate (``row`` says what it is for): status and OCSP read it."""
    authority = repository.authority(session, issuer.kind)
    if authority is None:  # pragma: no cover - read a moment ago
        raise AuthoritiesNotInitializedError
    row.serial = serial_key(certificate.serial_number)
    row.authority_id = authority.id
    row.not_before = issuance["not_before"]
    row.not_after = issuance["not_after"]
    row.certificate = certificate.public_bytes(serialization.Encoding.DER)
    row.status = CertificateStatus.VALID.value
    session.add(row)
    session.flush()


# --- records and revocation -------------------------------------------------------


def _record(row: IssuedCertificate | Row[Any]) -> CertificateRecord:
    # The row keeps the serial as hex and the enumerations as their values.
    return from_attributes(
        CertificateRecord,
        row,
        serial=int(row.serial, 16),
        kind=CertificateKind(row.kind),
        status=CertificateStatus(row.status),
        revocation_reason=(
            RevocationReason(row.revocation_reason) if row.revocation_reason else None
        ),
    )


def _reason(row: IssuedCertificate) -> RevocationReason:
    if row.revocation_reason is None:  # pragma: no cover - set with the status
        msg = f"revoked certificate {row.serial} has no reason"
        raise ValueError(msg)
    return RevocationReason(row.revocation_reason)


def certificate_status(*, session: Session, serial: int) -> CertificateRecord:
    """What J-LIS recorded about one certificate."""
    row = repository.certificate(session, serial_key(serial))
    if row is None:
        raise CertificateNotFoundError
    return _record(row)


def certificate_der(*, session: Session, serial: int) -> bytes:
    """An issued certificate as it was issued, DER (what its holder installs)."""
    row = repository.certificate(session, serial_key(serial))
    if row is None:
        raise CertificateNotFoundError
    return row.certificate


def signing_standing(
    *, session: Session, holder_id: int, at: datetime | None = None
) -> SigningStanding:
    """Whether ``holder_id`` has a signing certificate in force at ``at`` (default: now).

    Read from the CA's issuance records, as :func:`ocsp_response` answers: any
    unrevoked, unexpired signing certificate of the holder (on any of their cards) is
    enough; otherwise the newest one says why signing would fail.
    """
    moment = _now(at)
    rows = repository.certificates(session, holder_id=holder_id, kinds=[CertificateKind.SIGN])
    records = [_record(row) for row in rows]
    if not records:
        return SigningStanding.MISSING
    if any(not r.revoked_by(moment) and moment < r.not_after for r in records):
        return SigningStanding.VALID
    newest = records[-1]
    return SigningStanding.REVOKED if newest.revoked_by(moment) else SigningStanding.EXPIRED


def list_certificates(
    *,
    session: Session,
    holder_id: int | None = None,
    card_id: str | None = None,
    organization_code: str | None = None,
) -> list[CertificateRecord]:
    """The certificates of a holder, a card and/or an organisation, oldest first."""
    return [
        _record(row)
        for row in repository.certificates(
            session, holder_id=holder_id, card_id=card_id, organization_code=organization_code
        )
    ]


def _revoke(
    session: Session, row: IssuedCertificate, reason: RevocationReason, at: datetime | None
) -> None:
    now = _now(None)
    row.status = CertificateStatus.REVOKED.value
    row.revoked_at = now
    row.revocation_reason = reason.value
    row.invalidity_date = min(_now(at), now) if at is not None else now
    repository.bump_crl_revision(session, row.authority_id)
    log.info("jpki.certificate_revoked", serial=row.serial, reason=reason.value)


def revoke_certificate(
    *,
    session: Session,
    serial: int,
    reason: RevocationReason,
    at: datetime | None = None,
) -> CertificateRecord:
    """Revoke (失効) one certificate; ``at`` is when the reason arose (RFC 5280 §5.3.2).

    Revoking a revoked certificate changes nothing: the first reason and date stand. A
    card reason cannot revoke an organisation certificate, nor the other way round.
    """
    reason = RevocationReason(reason)
    row = repository.certificate(session, serial_key(serial), for_update=True)
    if row is None:
        raise CertificateNotFoundError
    if not reason.applies_to(CertificateKind(row.kind)):
        raise RevocationReasonMismatchError
    if row.status != CertificateStatus.REVOKED.value:
        _revoke(session, row, reason, at)
        session.flush()
    return _record(row)


def revoke_for_card(
    *,
    session: Session,
    card_id: str,
    kinds: Iterable[CertificateKind] | None = None,
    reason: RevocationReason,
    at: datetime | None = None,
) -> list[CertificateRecord]:
    """Revoke a card's unexpired certificates of ``kinds`` (by default, what ``reason`` revokes).

    A change of the basic 4 info (転居, 氏名変更) revokes the signing certificate only;
    loss, death and card replacement revoke both.
    """
    reason = RevocationReason(reason)
    wanted = frozenset(CertificateKind(k) for k in kinds) if kinds is not None else reason.revokes
    if reason in ORGANIZATION_REASONS or not wanted <= CARD_KINDS:
        raise RevocationReasonMismatchError
    if not wanted <= reason.revokes:
        raise RevocationNotApplicableError
    now = _now(None)
    revoked = []
    for row in repository.certificates(session, card_id=card_id, kinds=wanted):
        if row.status == CertificateStatus.REVOKED.value or row.not_after <= now:
            continue
        _revoke(session, row, reason, at)
        revoked.append(row)
    session.flush()
    return [_record(row) for row in revoked]


# --- CRL (RFC 5280 §5) --------------------------------------------------------------


def current_crl(*, session: Session, settings: Settings, kind: AuthorityKind | str) -> bytes:
    """The CA's current CRL, DER; cached in-process until a revocation or half its life.

    Every process compares its cached copy with the CA row's ``crl_revision`` (one
    primary-key read), so a revocation made by any worker is published on the next GET.
    A fresh CRL gets the next CRL number from the row (RFC 5280 §5.2.3: increasing).
    """
    return _current_crl(session, settings, _authority_kind(kind)).der


@dataclass(frozen=True, slots=True)
class CrlInfo:
    """Which CRL an answer agrees with: its number (RFC 5280 §5.2.3) and its times (§5.1.2.4-5).

    ``revision`` is the CA's ``crl_revision`` the CRL was made at: an answer read while it
    still holds is consistent with this CRL.
    """

    number: int
    this_update: datetime
    next_update: datetime
    revision: int


def crl_info(
    *, session: Session, settings: Settings, kind: AuthorityKind, state: repository.CrlState
) -> CrlInfo:
    """The CRL of the CA of ``kind`` current at ``state`` (read by the caller), as served.

    The cached CRL when it was made at ``state``'s revision; otherwise a new one. Its
    ``revision`` is what it was made at: when that is not ``state``'s, a revocation came
    in between, and what the caller read with ``state`` is older than this CRL.
    """
    cached = _crl_at(session, settings, _authority_kind(kind), state)
    return CrlInfo(cached.number, cached.this_update, cached.next_update, cached.revision)


def _current_crl(session: Session, settings: Settings, authority_kind: AuthorityKind) -> _CachedCrl:
    # The common case reads three columns; the CA's row (its key) only when a CRL is made.
    state = repository.crl_state(session, authority_kind)
    if state is None:
        raise AuthoritiesNotInitializedError
    return _crl_at(session, settings, authority_kind, state)


def _crl_at(
    session: Session,
    settings: Settings,
    authority_kind: AuthorityKind,
    state: repository.CrlState,
) -> _CachedCrl:
    now = _now(None)
    cached = _cache_of(session).crls.get(state.fingerprint)
    if cached is not None and cached.revision == state.crl_revision and now < cached.refresh_after:
        return cached
    row = repository.authority(session, authority_kind, for_update=True)
    if row is None:  # pragma: no cover - read a moment ago
        raise AuthoritiesNotInitializedError
    authority = _material(_cache_of(session), row)
    entries = [
        profile.RevokedEntry(
            serial=int(revoked.serial, 16),
            revoked_at=revoked.revoked_at or now,
            reason=_reason(revoked).crl_reason,
            invalidity_date=revoked.invalidity_date,
        )
        for revoked in repository.revoked_under(session, row.id, now=now)
    ]
    number = row.next_crl_number
    row.next_crl_number = number + 1
    crl = profile.build_crl(
        issuer=authority.certificate,
        issuer_key=_private_key(_cache_of(session), authority, settings),
        number=number,
        this_update=now,
        next_update=now + CRL_LIFETIME,
        entries=entries,
    )
    session.flush()
    # Reissue at half life, so a relying party never fetches a CRL about to lapse.
    cached = _CachedCrl(
        der=crl.public_bytes(serialization.Encoding.DER),
        revision=row.crl_revision,
        refresh_after=now + CRL_LIFETIME / 2,
        number=number,
        this_update=now,
        next_update=now + CRL_LIFETIME,
    )
    _cache_of(session).crls[row.fingerprint] = cached
    return cached


# --- OCSP (RFC 6960) ----------------------------------------------------------------


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER
    )


def ocsp_response(*, session: Session, settings: Settings, request_der: bytes) -> bytes:
    """Answer an OCSP request (RFC 6960 §2, §4.2) with good, revoked or unknown.

    The issuing CA signs its own responses (RFC 6960 §4.2.2.2) and includes its
    certificate. The nonce is echoed (RFC 6960 §4.4.1 as replaced by RFC 8954 and RFC
    9654); a request that cannot be read, or carries an empty or over-long nonce, gets
    the malformedRequest status, and one about a CA that is not ours gets unauthorized
    (RFC 6960 §2.3) — never an exception.
    """
    try:
        request = ocsp.load_der_ocsp_request(bytes(request_der))
        serial = request.serial_number
        algorithm = request.hash_algorithm
        name_hash = request.issuer_name_hash
        key_hash = request.issuer_key_hash
        try:
            nonce: bytes | None = request.extensions.get_extension_for_class(
                x509.OCSPNonce
            ).value.nonce
        except x509.ExtensionNotFound:
            nonce = None
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    if nonce is not None and not 1 <= len(nonce) <= MAX_NONCE_LENGTH:
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    authority = None
    authority_id = None
    for row in repository.authorities(session):
        candidate = _material(_cache_of(session), row)
        if candidate.kind.is_root:
            continue
        if candidate.ocsp_hashes(algorithm) == (name_hash, key_hash):
            authority, authority_id = candidate, row.id
            break
    if authority is None:
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    now = _now(None)
    record = repository.certificate(session, serial_key(serial))
    revocation_time = None
    revocation_reason = None
    if record is None or record.authority_id != authority_id:
        status = ocsp.OCSPCertStatus.UNKNOWN
    elif _record(record).revoked_by(now) and record.revoked_at is not None:
        status = ocsp.OCSPCertStatus.REVOKED
        revocation_time = record.revoked_at
        revocation_reason = _reason(record).crl_reason
    else:
        status = ocsp.OCSPCertStatus.GOOD
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            issuer_name_hash=name_hash,
            issuer_key_hash=key_hash,
            serial_number=serial,
            algorithm=algorithm,
            cert_status=status,
            this_update=now,
            next_update=now + OCSP_LIFETIME,
            revocation_time=revocation_time,
            revocation_reason=revocation_reason,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, authority.certificate)
        .certificates([authority.certificate])
    )
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    signer = _private_key(_cache_of(session), authority, settings)
    response = builder.sign(signer, profile.signature_hash(signer))
    return response.public_bytes(serialization.Encoding.DER)


# --- verification (the relying party's routine) -----------------------------------


def _parse(certificate: x509.Certificate | bytes) -> tuple[x509.Certificate, bytes]:
    """The certificate and its DER; malformed_certificate if either cannot be had."""
    parsed = _parsed(certificate)
    try:
        return parsed, parsed.public_bytes(serialization.Encoding.DER)
    except (ValueError, TypeError) as exc:
        raise VerificationError("malformed_certificate") from exc


def _parsed(certificate: x509.Certificate | bytes) -> x509.Certificate:
    """The certificate, its extensions decoded; malformed_certificate if it cannot be had."""
    try:
        if isinstance(certificate, x509.Certificate):
            parsed = certificate
        elif bytes(certificate).lstrip().startswith(b"-----BEGIN"):
            parsed = x509.load_pem_x509_certificate(bytes(certificate))
        else:
            parsed = x509.load_der_x509_certificate(bytes(certificate))
        if parsed.version is not x509.Version.v3:
            raise VerificationError("malformed_certificate")
        # Extensions are decoded lazily; decode them now so damage shows up here.
        parsed.extensions  # noqa: B018
        return parsed
    except (ValueError, TypeError) as exc:
        raise VerificationError("malformed_certificate") from exc


def _check_algorithm(certificate: x509.Certificate) -> None:
    if certificate.signature_algorithm_oid != ACCEPTED_SIGNATURE_ALGORITHM:
        raise VerificationError("weak_algorithm")
    _check_rsa(certificate)


def _issuer_of(session: Session, certificate: x509.Certificate) -> _Authority:
    try:
        key_id = certificate.extensions.get_extension_for_class(
            x509.AuthorityKeyIdentifier
        ).value.key_identifier
    except x509.ExtensionNotFound:
        key_id = None
    candidates = _cache_of(session).issuers_for(key_id, certificate.issuer)
    if not candidates:
        # A CA created by another process (or after a reset): learn it, once.
        _register(_cache_of(session), repository.authorities(session))
        candidates = _cache_of(session).issuers_for(key_id, certificate.issuer)
    if not candidates:
        raise VerificationError("untrusted_issuer")
    for candidate in candidates:
        try:
            certificate.verify_directly_issued_by(candidate.certificate)
        except (InvalidSignature, ValueError, TypeError):
            continue
        return candidate
    raise VerificationError("bad_certificate_signature")


def _check_key_usage(
    certificate: x509.Certificate, issuer: _Authority, kind: CertificateKind
) -> None:
    if issuer.kind is not kind.authority:
        raise VerificationError("wrong_key_usage")
    try:
        key_usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound as exc:
        raise VerificationError("wrong_key_usage") from exc
    if constraints.value.ca or key_usage.value != profile.leaf_key_usage(kind):
        raise VerificationError("wrong_key_usage")


def _check_validity(certificate: x509.Certificate, issuer: _Authority, at: datetime) -> None:
    ca = issuer.certificate
    if at < certificate.not_valid_before_utc or at < ca.not_valid_before_utc:
        raise VerificationError("not_yet_valid")
    if at > certificate.not_valid_after_utc or at > ca.not_valid_after_utc:
        raise VerificationError("expired")


def verify_certificate(
    *,
    session: Session,
    settings: Settings,
    certificate: x509.Certificate | bytes,
    kind: CertificateKind,
    at: datetime | None = None,
) -> VerifiedCertificate:
    """Decide whether a card certificate is good for ``kind`` at ``at`` (default: now).

    Checks, in order, each failing with its own VerificationError code: the encoding
    (malformed_certificate); sha256WithRSAEncryption and RSA >= 2048 (weak_algorithm);
    an issuing CA of ours that chains to our root, found by authorityKeyIdentifier and
    issuer name (untrusted_issuer) whose key verifies the signature
    (bad_certificate_signature) — RFC 5280 §6.1.3 (a)(1)-(2), (a)(4); the purpose: the
    CA of ``kind``, cA false and exactly the profile's keyUsage (wrong_key_usage, RFC
    5280 §4.2.1.3); validity of the certificate and its CA at ``at`` (not_yet_valid,
    expired; §6.1.3 (a)(2)); then one primary-key read of the issuance record for the
    revocation status and the holder (revoked, §6.1.3 (a)(3)).

    The chain is checked by hand rather than with ``cryptography.x509.verification``:
    its client verifier applies the CA/Browser-Forum web profile, whose default
    end-entity policy requires a subjectAltName that the user-authentication
    certificate does not carry (an ExtensionPolicy could relax it), and every failure
    comes back as one VerificationError whose only detail is English prose, while a
    relying party needs the precise reason as a stable code. The JPKI path is fixed and
    short — card certificate, issuing CA, root — and the issuing CAs are checked against
    the root once, when first loaded, then kept in memory, so the login hot path costs
    one database query. Certificate bytes that passed the checks of the bytes alone
    (encoding, algorithm, issuer's signature) are remembered per process, so a card
    presented again is neither parsed nor its issuer's signature verified again.
    """
    moment = _now(at)
    kind = CertificateKind(kind)
    if not kind.on_card:
        msg = "organisation certificates are verified by verify_organization_certificate"
        raise ValueError(msg)
    checked = _checked_certificate(session, certificate)
    parsed, issuer = checked.certificate, checked.issuer
    _check_key_usage(parsed, issuer, kind)
    _check_validity(parsed, issuer, moment)
    row = repository.certificate_row(session, serial_key(parsed.serial_number))
    if row is None or row.certificate != checked.der:
        # Signed with our key yet unknown to us: never trust what was not recorded.
        raise VerificationError("untrusted_issuer")
    record = _record(row)
    if record.holder_id is None or record.card_id is None:  # pragma: no cover - by the CA
        raise VerificationError("wrong_key_usage")
    if record.revoked_by(moment):
        raise VerificationError("revoked")
    # The validity is the certificate's own; holder, card and name are the CA's record.
    return from_attributes(
        VerifiedCertificate,
        record,
        serial=parsed.serial_number,
        kind=kind,
        not_before=parsed.not_valid_before_utc,
        not_after=parsed.not_valid_after_utc,
        medium=checked.medium,
    )


def _checked_certificate(
    session: Session, certificate: x509.Certificate | bytes
) -> _CheckedCertificate:
    """The checks of a certificate's bytes: encoding, algorithm, issuer and its signature.

    Bytes that passed before are not checked again (see :class:`_CheckedCertificate`);
    a certificate that fails is checked afresh each time it is presented.
    """
    cache = _cache_of(session)
    presented = None if isinstance(certificate, x509.Certificate) else bytes(certificate)
    if presented is not None:
        found = cache.checked.get(presented)
        if found is not None:
            return found
    parsed, der = _parse(certificate)
    _check_algorithm(parsed)
    checked = _CheckedCertificate(
        certificate=parsed,
        der=der,
        issuer=_issuer_of(session, parsed),
        medium=certificate_medium(parsed),
    )
    if presented is not None:
        cache.remember_checked(presented, checked)
    return checked


def certificate_medium(certificate: x509.Certificate) -> CredentialMedium:
    """Card or phone, from the certificate policies our CA put in (RFC 5280 §4.2.1.4)."""
    try:
        policies = certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return CredentialMedium.CARD
    return medium_of_policies(policy.policy_identifier for policy in policies)


def verify_signature(
    *, certificate: x509.Certificate | bytes, data: bytes, signature: bytes
) -> None:
    """Check a card signature: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2.2)."""
    parsed = _parsed(certificate)
    public_key = _check_rsa(parsed)
    try:
        public_key.verify(bytes(signature), bytes(data), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise VerificationError("bad_signature") from exc


def _check_rsa(certificate: x509.Certificate) -> rsa.RSAPublicKey:
    try:
        public_key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise VerificationError("weak_algorithm") from exc
    if not isinstance(public_key, rsa.RSAPublicKey) or public_key.key_size < MIN_RSA_BITS:
        raise VerificationError("weak_algorithm")
    return public_key


def read_basic_info(certificate: x509.Certificate | bytes) -> BasicInfo:
    """The basic 4 info from a signing certificate's subjectAltName otherName entries."""
    parsed, _ = _parse(certificate)
    try:
        names = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound as exc:
        raise NoBasicInfoError from exc
    return BasicInfo.from_other_names(names.get_values_for_type(x509.OtherName))


# --- organisation certificates (the government CA, GPKI's role) ------------------

OrganizationPublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey | mldsa.MLDSA65PublicKey


def _check_organization_key(public_key: object) -> OrganizationPublicKey:
    """ECDSA on P-256 (RFC 5480 §2.1.1.1 secp256r1), RSA of at least 2048 bits, or
    ML-DSA-65 (FIPS 204; certified by the post-quantum government CA)."""
    if isinstance(public_key, ec.EllipticCurvePublicKey) and isinstance(
        public_key.curve, ec.SECP256R1
    ):
        return public_key
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size >= MIN_RSA_BITS:
        return public_key
    if isinstance(public_key, mldsa.MLDSA65PublicKey):
        return public_key
    raise UnsupportedOrganizationKeyError


def _organization_kind(public_key: OrganizationPublicKey) -> CertificateKind:
    """An ML-DSA-65 key is certified by the post-quantum government CA, any other by gov."""
    if isinstance(public_key, mldsa.MLDSA65PublicKey):
        return CertificateKind.ORGANIZATION_PQ
    return CertificateKind.ORGANIZATION


def issue_organization_certificate(
    *,
    session: Session,
    settings: Settings,
    organization_code: str,
    organization_name: str,
    public_key: OrganizationPublicKey,
    now: datetime | None = None,
    not_after: datetime | None = None,
    uri: str | None = None,
    purpose: OrganizationPurpose = OrganizationPurpose.MESSAGES,
) -> x509.Certificate:
    """Issue an agency's message-signing certificate from the government CA (3 years).

    ``purpose`` picks another use of the key: signing the documents the organisation
    issues, or RFC 3161 time-stamp tokens (``profile.build_organization``).

    An ML-DSA-65 key gets its certificate from the post-quantum government CA
    (``pq-gov``), signed with ML-DSA-65 under its own policy; any other from ``gov``.
    ``uri`` adds an https address the organisation signs as to its subjectAltName.
    """
    code, name = check_organization(organization_code, organization_name)
    key = _check_organization_key(public_key)
    kind = _organization_kind(key)
    issuer = _authority(session, kind.authority)
    not_before = _now(now)
    not_after = _now(not_after or not_before + ORGANIZATION_LIFETIME)
    issuance = _issuance(_cache_of(session), issuer, settings, not_before, not_after)
    certificate = profile.build_organization(
        public_key=key,
        code=code,
        name=name,
        uri=uri,
        purpose=OrganizationPurpose(purpose),
        **issuance,
    )
    row = IssuedCertificate(
        kind=kind.value,
        holder_id=None,
        card_id=None,
        organization_code=code,
        subject_cn=code,
    )
    _record_issued(session, issuer, issuance, certificate, row)
    log.info(
        "jpki.certificate_issued",
        kind=kind.value,
        serial=serial_key(certificate.serial_number),
        organization=code,
    )
    return certificate


def revoke_organization_certificate(
    *,
    session: Session,
    serial: int,
    reason: RevocationReason,
    at: datetime | None = None,
) -> CertificateRecord:
    """Revoke an organisation certificate for key compromise, cessation or supersession.

    Published in gov.crl (pq-gov.crl for an ML-DSA-65 one) and by OCSP at once (RFC 5280
    §5.3.1 reason; ``at`` becomes
    the invalidityDate, §5.3.2). Revoking twice keeps the first reason and date.
    """
    reason = RevocationReason(reason)
    if reason not in ORGANIZATION_REASONS:
        raise RevocationReasonMismatchError
    row = repository.certificate(session, serial_key(serial), for_update=True)
    if row is None or not CertificateKind(row.kind).organization:
        raise OrganizationCertificateNotFoundError
    if row.status != CertificateStatus.REVOKED.value:
        _revoke(session, row, reason, at)
        session.flush()
    return _record(row)


def _check_organization_algorithm(certificate: x509.Certificate) -> CertificateKind:
    """sha256WithRSAEncryption over a P-256 or RSA key, or ML-DSA-65 over an ML-DSA-65
    key (the post-quantum hierarchy signs only those); which kind the certificate is."""
    try:
        key = _check_organization_key(certificate.public_key())
    except (ValueError, UnsupportedAlgorithm, UnsupportedOrganizationKeyError) as exc:
        raise VerificationError("weak_algorithm") from exc
    kind = _organization_kind(key)
    expected = (
        PQ_SIGNATURE_ALGORITHM
        if kind is CertificateKind.ORGANIZATION_PQ
        else ACCEPTED_SIGNATURE_ALGORITHM
    )
    if certificate.signature_algorithm_oid != expected:
        raise VerificationError("weak_algorithm")
    return kind


def _check_message_signing(certificate: x509.Certificate) -> None:
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise VerificationError("wrong_key_usage") from exc
    if EKU_MESSAGE_SIGNING not in usages:
        raise VerificationError("wrong_key_usage")


def _organization_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    if len(names) != 1 or not isinstance(names[0].value, str):
        raise VerificationError("malformed_certificate")
    return names[0].value


def verify_organization_certificate(
    *,
    session: Session,
    settings: Settings,
    certificate: x509.Certificate | bytes,
    at: datetime | None = None,
) -> VerifiedOrganization:
    """Decide whether an organisation certificate is good at ``at`` (default: now).

    The same checks as :func:`verify_certificate`, for the government CA's profile, each
    raising :class:`OrganizationVerificationError` (a VerificationError with the same
    codes): encoding (malformed_certificate); sha256WithRSAEncryption from the CA and a
    subject key that is ECDSA P-256 or RSA >= 2048, or ML-DSA-65 from the CA over an
    ML-DSA-65 key (weak_algorithm); the government CA of that kind (``gov``, or
    ``pq-gov`` for ML-DSA-65), chaining to its root, found by AKI and issuer name
    (untrusted_issuer) whose key
    verifies the signature (bad_certificate_signature) — RFC 5280 §6.1.3 (a)(1)-(2),
    (a)(4); cA false, keyUsage exactly digitalSignature and extendedKeyUsage including
    Myna's message-signing purpose (wrong_key_usage: a resident's card certificate fails
    here, §4.2.1.3, §4.2.1.12); validity of it and its CA (not_yet_valid, expired);
    the issuance record, which must hold these very bytes (untrusted_issuer), and its
    revocation status (revoked, §6.1.3 (a)(3)). The caller compares the code it expects
    with ``organization_code``.

    Agencies sign every message with the same certificate, so what its bytes settle is
    kept in the process (by DER) once they verified: a certificate seen before costs its
    validity dates and one read of its issuance record — the record and the revocation
    are never taken from memory, so a revocation counts from the next verification.
    """
    del settings  # the CA material comes from the database; kept for a uniform signature
    try:
        moment = _now(at)
        cache = _cache_of(session)
        der = _der_if_known(certificate)
        checked = None if der is None else cache.organizations.get(der)
        if checked is not None and der is not None:
            code = _recorded_organization(session, checked, der, moment)
        else:
            parsed, der = _parse(certificate)
            window = _checked_organization(session, parsed)
            code = _recorded_organization(session, window, der, moment)
            # Read last: a certificate the CA never recorded is untrusted whatever its names.
            checked = replace(window, organization_name=_organization_name(parsed))
            cache.remember_organization(der, checked)
        return VerifiedOrganization(
            serial=checked.serial,
            organization_code=code,
            organization_name=checked.organization_name,
            not_after=checked.certificate_not_after,
            kind=checked.kind,
        )
    except OrganizationVerificationError:
        raise
    except VerificationError as error:
        raise OrganizationVerificationError(error.code) from error


def _checked_organization(session: Session, parsed: x509.Certificate) -> _CheckedOrganization:
    """Algorithm, issuer and signature, key usage and purpose: what the bytes settle."""
    kind = _check_organization_algorithm(parsed)
    issuer = _issuer_of(session, parsed)
    _check_key_usage(parsed, issuer, kind)
    _check_message_signing(parsed)
    ca = issuer.certificate
    return _CheckedOrganization(
        serial=parsed.serial_number,
        serial_key=serial_key(parsed.serial_number),
        kind=kind,
        organization_name="",  # read once the record is found (see the caller)
        not_before=max(parsed.not_valid_before_utc, ca.not_valid_before_utc),
        not_after=min(parsed.not_valid_after_utc, ca.not_valid_after_utc),
        certificate_not_after=parsed.not_valid_after_utc,
    )


def _der_if_known(certificate: x509.Certificate | bytes) -> bytes | None:
    """The DER to look a certificate up by (None for a PEM text: parsed first)."""
    if isinstance(certificate, x509.Certificate):
        return certificate.public_bytes(serialization.Encoding.DER)
    data = bytes(certificate)
    return None if data.lstrip().startswith(b"-----BEGIN") else data


def _recorded_organization(
    session: Session, checked: _CheckedOrganization, der: bytes, moment: datetime
) -> str:
    """Validity at ``moment`` (of the certificate and its CA); then the issuance record,
    which must hold these bytes, and its revocation; the organisation code it names."""
    if moment < checked.not_before:
        raise VerificationError("not_yet_valid")
    if moment > checked.not_after:
        raise VerificationError("expired")
    row = repository.standing(session, checked.serial_key, der)
    if row is None or row.kind != checked.kind.value or row.organization_code is None:
        raise VerificationError("untrusted_issuer")
    if revoked_by(row.status, row.revoked_at, row.invalidity_date, moment):
        raise VerificationError("revoked")
    return row.organization_code


def verify_organization_signature(
    *, certificate: x509.Certificate | bytes, data: bytes, signature: bytes
) -> None:
    """Check an organisation's signature over ``data`` with its certificate's key.

    ECDSA P-256 with SHA-256, the signature DER ``Ecdsa-Sig-Value`` (RFC 3279 §2.2.3),
    RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2.2), or ML-DSA-65 (FIPS 204 §5.3, empty
    context). Call
    :func:`verify_organization_certificate` first: this checks the signature only.
    """
    try:
        parsed, _ = _parse(certificate)
    except VerificationError as error:
        raise OrganizationVerificationError(error.code) from error
    try:
        public_key = _check_organization_key(parsed.public_key())
    except (ValueError, UnsupportedAlgorithm, UnsupportedOrganizationKeyError) as exc:
        raise OrganizationVerificationError("weak_algorithm") from exc
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(bytes(signature), bytes(data), ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, mldsa.MLDSA65PublicKey):
            public_key.verify(bytes(signature), bytes(data))
        else:
            public_key.verify(bytes(signature), bytes(data), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise OrganizationVerificationError("bad_signature") from exc
