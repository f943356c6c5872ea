"""JPKI (公的個人認証サービス) rules and value objects: no I/O, no ORM, no web.

What lives here is the part of the J-LIS certificate profile that is pure data:
certificate kinds, revocation reasons and their RFC 5280 §5.3.1 CRLReason, the
basic 4 info (基本4情報) carried by the signing certificate (署名用電子証明書), the
validity rule (the holder's 5th birthday after issue), the rules for organisation
certificates (組織の電子証明書) issued by the government CA in the role of the
government PKI (政府認証基盤, GPKI) and the errors people see.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import ClassVar

from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier
from pyasn1.codec.der import decoder as der_decoder
from pyasn1.codec.der import encoder as der_encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import char

from myna.platform.errors import N_, MynaError, NotFoundError
from myna.platform.wareki import ERAS, era_of

# Japan has no daylight saving time, so a fixed offset is exact (and needs no tzdata).
JST = timezone(timedelta(hours=9), "JST")

# The J-LIS arc under which the signing certificate carries the basic 4 info as
# subjectAltName otherName entries (J-LIS certificate profile).
JLIS_BASIC_INFO_ARC = "1.2.392.200149.8.5.5"
OID_NAME = ObjectIdentifier(f"{JLIS_BASIC_INFO_ARC}.1")
OID_NAME_SUBSTITUTE = ObjectIdentifier(f"{JLIS_BASIC_INFO_ARC}.2")
OID_SEX = ObjectIdentifier(f"{JLIS_BASIC_INFO_ARC}.3")
OID_BIRTH_DATE = ObjectIdentifier(f"{JLIS_BASIC_INFO_ARC}.4")
OID_ADDRESS = ObjectIdentifier(f"{JLIS_BASIC_INFO_ARC}.5")

# Myna's own private arc: a UUID-derived OID (ITU-T X.667, the 2.25 arc), which needs
# no registration. UUID f3d74022-529d-4602-be5a-86b7c0ff3569. See docs/jpki.md.
MYNA_ARC = "2.25.324120047593859607022947288340813002089"
POLICY_SIGN = ObjectIdentifier(f"{MYNA_ARC}.1.1")
POLICY_AUTH = ObjectIdentifier(f"{MYNA_ARC}.1.2")
POLICY_ORGANIZATION = ObjectIdentifier(f"{MYNA_ARC}.1.3")
# スマホ用電子証明書: the phone credential's two certificates, issued by the same CAs as the
# card's but under policies of their own, so a relying party can tell a phone from a card
# (docs/phone-credential.md).
POLICY_PHONE_SIGN = ObjectIdentifier(f"{MYNA_ARC}.1.4")
POLICY_PHONE_AUTH = ObjectIdentifier(f"{MYNA_ARC}.1.5")
# Organisation certificates of the post-quantum hierarchy (ML-DSA-65, FIPS 204):
# a policy of their own, so a relying party can tell them from the RSA/ECDSA ones.
POLICY_ORGANIZATION_PQ = ObjectIdentifier(f"{MYNA_ARC}.1.6")
# extendedKeyUsage (RFC 5280 §4.2.1.12) of organisation certificates: signing the
# messages agencies exchange over the information provision network
# (情報提供ネットワークシステム) — requests, answers, notices.
EKU_MESSAGE_SIGNING = ObjectIdentifier(f"{MYNA_ARC}.2.1")
# id-kp-documentSigning (RFC 9336 §3.1): a municipality's key that signs the PDF
# certificates it issues (住民票の写し …), and nothing else.
EKU_DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
# id-kp-timeStamping (RFC 3161 §2.3): a time-stamping authority's key, alone and critical.
EKU_TIME_STAMPING = ObjectIdentifier("1.3.6.1.5.5.7.3.8")


class OrganizationPurpose(StrEnum):
    """What an organisation certificate's key may sign (its extendedKeyUsage)."""

    MESSAGES = "messages"  # the network's messages (EKU_MESSAGE_SIGNING)
    DOCUMENTS = "documents"  # documents an organisation issues (RFC 9336), non-repudiation
    TIMESTAMPS = "timestamps"  # RFC 3161 time-stamp tokens


# The URI subjectAltName of an organisation certificate: urn:myna:agency:<code>.
ORGANIZATION_URN_PREFIX = "urn:myna:agency:"
# Lowercase letters, digits and inner "-", "_" or "."; at most 64, the X.520 upper bound
# of a commonName (RFC 5280 Appendix A.1, ub-common-name), where the code is carried.
_ORGANIZATION_CODE = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?")
# ub-organization-name (RFC 5280 Appendix A.1).
MAX_ORGANIZATION_NAME = 64
ORGANIZATION_LIFETIME = timedelta(days=3 * 365)

# How long a stored CRL or OCSP answer stays fresh.
CRL_LIFETIME = timedelta(hours=24)
OCSP_LIFETIME = timedelta(hours=1)

# RFC 6960 §4.4.1 as updated by RFC 8954 §2.1 and RFC 9654 §2.1: a nonce of 0 octets or
# more than the limit is a malformed request.
MAX_NONCE_LENGTH = 128
MIN_RSA_BITS = 2048


class CertificateKind(StrEnum):
    """The two certificates on a MyNumber card, and an organisation's certificate."""

    SIGN = "sign"  # 署名用電子証明書: carries the basic 4 info
    AUTH = "auth"  # 利用者証明用電子証明書: proves "it is me", carries nothing personal
    # An agency's (later a partner's) message-signing certificate, from the government CA.
    ORGANIZATION = "organization"
    # Its ML-DSA-65 twin from the post-quantum government CA (docs/adr/0010).
    ORGANIZATION_PQ = "organization-pq"

    @property
    def authority(self) -> AuthorityKind:
        """The issuing CA of this kind of certificate."""
        return _ISSUERS[self]

    @property
    def on_card(self) -> bool:
        """Whether the certificate lives on a MyNumber card (signing or user-auth)."""
        return not self.organization

    @property
    def organization(self) -> bool:
        """Whether the certificate is an organisation's (classic or post-quantum)."""
        return self in (CertificateKind.ORGANIZATION, CertificateKind.ORGANIZATION_PQ)


class CredentialMedium(StrEnum):
    """Where the key of a resident's certificate lives: the card's chip or a phone.

    The phone credential (スマホ用電子証明書) is issued from the card and carries the same
    two kinds of certificate; its certificate policy tells it apart (:data:`POLICIES`).
    """

    CARD = "card"
    PHONE = "phone"


class AuthorityKind(StrEnum):
    """The CAs: root and card CAs in the role of J-LIS, a government CA in that of GPKI."""

    ROOT = "root"
    SIGN = "sign"
    AUTH = "auth"
    # 政府認証基盤 (GPKI) 官職/組織認証局: agencies' organisation certificates.
    GOVERNMENT = "gov"
    # The post-quantum hierarchy beside the RSA one (ML-DSA-65, FIPS 204): its own root
    # and a government CA issuing ML-DSA-65 organisation certificates.
    PQ_ROOT = "pq-root"
    PQ_GOVERNMENT = "pq-gov"

    @property
    def post_quantum(self) -> bool:
        """Whether the CA signs with ML-DSA-65 (else RSA-2048)."""
        return self in (AuthorityKind.PQ_ROOT, AuthorityKind.PQ_GOVERNMENT)

    @property
    def root(self) -> AuthorityKind:
        """The root this CA chains to (a root is its own)."""
        return AuthorityKind.PQ_ROOT if self.post_quantum else AuthorityKind.ROOT

    @property
    def is_root(self) -> bool:
        """Whether this is a self-signed root CA."""
        return self in (AuthorityKind.ROOT, AuthorityKind.PQ_ROOT)


ISSUING_AUTHORITIES = (
    AuthorityKind.SIGN,
    AuthorityKind.AUTH,
    AuthorityKind.GOVERNMENT,
    AuthorityKind.PQ_GOVERNMENT,
)
_ISSUERS = {
    CertificateKind.SIGN: AuthorityKind.SIGN,
    CertificateKind.AUTH: AuthorityKind.AUTH,
    CertificateKind.ORGANIZATION: AuthorityKind.GOVERNMENT,
    CertificateKind.ORGANIZATION_PQ: AuthorityKind.PQ_GOVERNMENT,
}
CARD_KINDS = frozenset({CertificateKind.SIGN, CertificateKind.AUTH})
# The certificate policy (RFC 5280 §4.2.1.4) of each resident certificate, by medium.
POLICIES = {
    (CertificateKind.SIGN, CredentialMedium.CARD): POLICY_SIGN,
    (CertificateKind.AUTH, CredentialMedium.CARD): POLICY_AUTH,
    (CertificateKind.SIGN, CredentialMedium.PHONE): POLICY_PHONE_SIGN,
    (CertificateKind.AUTH, CredentialMedium.PHONE): POLICY_PHONE_AUTH,
}


def medium_of_policies(policies: Iterable[ObjectIdentifier]) -> CredentialMedium:
    """The medium a resident certificate's policies name (a card when none is a phone's)."""
    found = set(policies)
    if POLICY_PHONE_SIGN in found or POLICY_PHONE_AUTH in found:
        return CredentialMedium.PHONE
    return CredentialMedium.CARD


class CertificateStatus(StrEnum):
    """Whether an issued certificate still stands."""

    VALID = "valid"
    REVOKED = "revoked"


class SigningStanding(StrEnum):
    """Whether a holder can sign now: the state of their signing certificates (署名用電子証明書).

    What a relying party asks before it starts a signature, from the same record the
    CRLs and the OCSP responder are made from (RFC 6960 §2.2 good / revoked; an expired
    certificate is no longer on the CRL, RFC 5280 §3.3, so it is told apart here).
    """

    VALID = "valid"  # at least one signing certificate is in force
    REVOKED = "revoked"  # the newest one was revoked (e.g. after a move, 転居)
    EXPIRED = "expired"  # the newest one ran out (5th birthday after issuance)
    MISSING = "missing"  # none was ever issued (e.g. a card of a child under 15)


class RevocationReason(StrEnum):
    """Why a certificate is revoked (失効), mapped to RFC 5280 §5.3.1 CRLReason.

    The first four are J-LIS's reasons for card certificates; the last three the
    government CA's for organisation certificates. Each applies to its own side only.

    ======================  ======================  ==================================
    reason                  CRLReason               why
    ======================  ======================  ==================================
    LOSS                    keyCompromise (1)       the card (and its key) left the
                                                    holder's hands (紛失・盗難)
    DEATH                   cessationOfOperation    the holder died (死亡); the key is
                            (5)                     not compromised, no longer needed
    CARD_REPLACEMENT        superseded (4)          a new card replaces this one (再交付)
    BASIC_INFO_CHANGE       affiliationChanged (3)  name, address, ... changed (転居,
                                                    氏名変更): the certificate's subject
                                                    information is no longer true
    KEY_COMPROMISE          keyCompromise (1)       an organisation's key leaked or
                                                    may have (鍵の危殆化)
    CESSATION_OF_OPERATION  cessationOfOperation    the organisation stopped or merged
                            (5)                     (廃止・統合)
    SUPERSEDED              superseded (4)          a new key and certificate replace
                                                    this one (鍵更新)
    ======================  ======================  ==================================
    """

    LOSS = "loss"
    DEATH = "death"
    CARD_REPLACEMENT = "card_replacement"
    BASIC_INFO_CHANGE = "basic_info_change"
    KEY_COMPROMISE = "key_compromise"
    CESSATION_OF_OPERATION = "cessation_of_operation"
    SUPERSEDED = "superseded"

    @property
    def crl_reason(self) -> x509.ReasonFlags:
        """The RFC 5280 §5.3.1 reason code that goes into CRL entries and OCSP answers."""
        return _CRL_REASONS[self]

    @property
    def revokes(self) -> frozenset[CertificateKind]:
        """The certificates this event revokes: a change of the 4 info spares the auth one."""
        if self in ORGANIZATION_REASONS:
            return frozenset({CertificateKind.ORGANIZATION, CertificateKind.ORGANIZATION_PQ})
        if self is RevocationReason.BASIC_INFO_CHANGE:
            return frozenset({CertificateKind.SIGN})
        return CARD_KINDS

    def applies_to(self, kind: CertificateKind) -> bool:
        """Whether this reason may revoke a certificate of ``kind`` (card vs organisation)."""
        return (self in ORGANIZATION_REASONS) is kind.organization


ORGANIZATION_REASONS = frozenset(
    {
        RevocationReason.KEY_COMPROMISE,
        RevocationReason.CESSATION_OF_OPERATION,
        RevocationReason.SUPERSEDED,
    }
)
_CRL_REASONS = {
    RevocationReason.LOSS: x509.ReasonFlags.key_compromise,
    RevocationReason.DEATH: x509.ReasonFlags.cessation_of_operation,
    RevocationReason.CARD_REPLACEMENT: x509.ReasonFlags.superseded,
    RevocationReason.BASIC_INFO_CHANGE: x509.ReasonFlags.affiliation_changed,
    RevocationReason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    RevocationReason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
    RevocationReason.SUPERSEDED: x509.ReasonFlags.superseded,
}


# --- errors people see ------------------------------------------------------------


class JpkiError(MynaError, code="jpki_error"):
    """Base class of the JPKI context's errors."""


_VERIFICATION_MESSAGES: dict[str, str] = {
    "malformed_certificate": N_(
        "The certificate could not be read. Send the whole certificate, in DER or PEM form."
    ),
    "untrusted_issuer": N_(
        "The certificate was not issued by the Myna JPKI certificate authority. "
        "Use a certificate read from a MyNumber card."
    ),
    "bad_certificate_signature": N_(
        "The certificate's signature does not match its issuer, so it may have been altered. "
        "Read the certificate from the card again."
    ),
    "expired": N_("The certificate has expired. Ask your municipality to issue a new certificate."),
    "not_yet_valid": N_(
        "The certificate is not valid yet. Check the device's clock and try again later."
    ),
    "revoked": N_(
        "The certificate has been revoked. "
        "Contact your municipality to have the certificate reissued."
    ),
    "wrong_key_usage": N_(
        "This certificate cannot be used for this purpose. Log in with the "
        "user-authentication certificate and sign with the signing certificate."
    ),
    "weak_algorithm": N_(
        "The certificate uses a key or algorithm that is too weak (RSA of at least "
        "2048 bits with SHA-256 is required). Use a certificate from a current MyNumber card."
    ),
    "bad_signature": N_(
        "The signature does not match the data and the certificate. "
        "Sign the data again with the same card."
    ),
    "malformed_signature": N_(
        "The signature could not be read as a CMS signature of a MyNumber card. "
        "Sign again with the card's signing certificate."
    ),
}
VERIFICATION_CODES = frozenset(_VERIFICATION_MESSAGES)


class VerificationError(JpkiError, status_code=400):
    """A certificate or signature failed verification; ``code`` says exactly why."""

    _messages: ClassVar[Mapping[str, str]] = _VERIFICATION_MESSAGES

    def __init__(self, code: str) -> None:
        if code not in _VERIFICATION_MESSAGES:
            msg = f"unknown verification failure code {code!r}"
            raise ValueError(msg)
        self.code = code
        super().__init__(self._messages.get(code, _VERIFICATION_MESSAGES[code]))


# The same codes, told to an agency's operator rather than to a card holder.
_ORGANIZATION_VERIFICATION_MESSAGES: dict[str, str] = {
    "untrusted_issuer": N_(
        "The certificate was not issued by the Myna Government CA. Use the organisation "
        "certificate issued to the agency with `myna jpki org-issue`."
    ),
    "bad_certificate_signature": N_(
        "The certificate's signature does not match the Myna Government CA, so it may have "
        "been altered. Use the certificate file as it was issued."
    ),
    "expired": N_(
        "The organisation certificate has expired. Ask the Myna Government CA for a new one."
    ),
    "revoked": N_(
        "The organisation certificate has been revoked. "
        "Ask the Myna Government CA for a new key and certificate."
    ),
    "wrong_key_usage": N_(
        "This certificate is not an organisation certificate for signing exchange messages. "
        "Use the certificate the Myna Government CA issued to the agency."
    ),
    "weak_algorithm": N_(
        "The certificate uses a key or algorithm that is not accepted (ECDSA P-256 or RSA "
        "of at least 2048 bits, with SHA-256, is required). Issue a new key and certificate."
    ),
    "bad_signature": N_(
        "The message signature does not match the data and the organisation certificate. "
        "Sign the message again with the agency's key."
    ),
}


class OrganizationVerificationError(VerificationError):
    """An organisation certificate or its signature failed verification (same codes)."""

    _messages: ClassVar[Mapping[str, str]] = {
        **_VERIFICATION_MESSAGES,
        **_ORGANIZATION_VERIFICATION_MESSAGES,
    }


class WeakKeyError(JpkiError, code="weak_key"):
    """The key offered for a certificate is not RSA of at least 2048 bits."""

    message = N_(
        "The public key must be an RSA key of at least 2048 bits. "
        "Generate a new key on the card and try again."
    )


class BasicInfoRequiredError(JpkiError, code="basic_info_required"):
    """A signing certificate was asked for without the basic 4 info."""

    message = N_(
        "A signing certificate needs the holder's basic four information (name, date of "
        "birth, sex, address). Provide them and try again."
    )


class BasicInfoForbiddenError(JpkiError, code="basic_info_forbidden"):
    """A user-authentication certificate was asked for with the basic 4 info."""

    message = N_(
        "A user-authentication certificate must not carry personal information. "
        "Issue it without the basic four information."
    )


class InvalidBasicInfoError(JpkiError, code="invalid_basic_info"):
    """The basic 4 info is incomplete, out of range or inconsistent."""

    message = N_(
        "The basic four information is incomplete or invalid: name and address must not "
        "be empty, sex must be 1, 2 or 3 and the date of birth must be in the Meiji era or "
        "later and match the one given for the certificate. Correct it and try again."
    )


class InvalidValidityError(JpkiError, code="invalid_validity"):
    """The requested validity period is empty or outlasts the issuing CA."""

    message = N_(
        "The certificate's validity period is empty or outlasts its certificate authority. "
        "Choose an end after the start and before the authority expires."
    )


class NoBasicInfoError(JpkiError, code="no_basic_info"):
    """The certificate carries no basic 4 info (it is not a signing certificate)."""

    message = N_(
        "This certificate carries no basic four information; only a signing certificate "
        "does. Use the signing certificate instead."
    )


class RevocationNotApplicableError(JpkiError, code="revocation_not_applicable"):
    """The reason cannot revoke the kind asked (a move never revokes the auth cert)."""

    message = N_(
        "A change of the basic four information revokes only the signing certificate; the "
        "user-authentication certificate stays valid. Revoke only the signing certificate."
    )


class InvalidSerialError(JpkiError, code="invalid_serial"):
    """A serial number given by a person could not be read."""

    message = N_(
        "The serial number could not be read. Give it in decimal, as hexadecimal with a 0x "
        "prefix, or as colon-separated hexadecimal bytes."
    )


class CertificateNotFoundError(NotFoundError, code="certificate_not_found"):
    """No certificate with this serial number was issued."""

    message = N_("No certificate with this serial number was issued by Myna. Check the number.")


class AuthoritiesNotInitializedError(
    JpkiError, code="authorities_not_initialized", status_code=503
):
    """The CAs do not exist yet."""

    message = N_(
        "The JPKI certificate authorities have not been set up yet. "
        "Run `myna jpki init` and try again."
    )


class UnknownAuthorityError(NotFoundError, code="unknown_authority"):
    """A CA kind that does not exist was asked for."""

    message = N_("There is no such certificate authority. Use root, sign, auth or gov.")


class InvalidOrganizationError(JpkiError, code="invalid_organization"):
    """An organisation code or name that cannot go into a certificate."""

    message = N_(
        "The organisation code must be 1 to 64 lowercase letters, digits, '-', '_' or '.', "
        "starting and ending with a letter or digit, and the name 1 to 64 characters. "
        "Correct them and try again."
    )


class UnsupportedOrganizationKeyError(JpkiError, code="unsupported_organization_key"):
    """The key offered for an organisation certificate is neither P-256 nor RSA >= 2048."""

    message = N_(
        "An organisation certificate needs an ECDSA P-256 key or an RSA key of at least "
        "2048 bits. Generate such a key and try again."
    )


class RevocationReasonMismatchError(JpkiError, code="revocation_reason_mismatch"):
    """A card reason was given for an organisation certificate, or the other way round."""

    message = N_(
        "This reason does not apply to this certificate: card certificates are revoked for "
        "loss, death, card replacement or a change of the basic four information, "
        "organisation certificates for key compromise, cessation of operation or "
        "supersession. Choose a reason of the right kind."
    )


class OrganizationCertificateNotFoundError(
    NotFoundError, code="organization_certificate_not_found"
):
    """No organisation certificate with this serial number was issued."""

    message = N_(
        "No organisation certificate with this serial number was issued by the Myna "
        "Government CA. Check the number."
    )


# --- the basic 4 info -------------------------------------------------------------


def _der_string(value: str, spec: type[char.AbstractCharacterString]) -> bytes:
    encoded: bytes = der_encoder.encode(spec(value))
    return encoded


def _read_string(data: bytes, spec: char.AbstractCharacterString) -> str:
    try:
        value, rest = der_decoder.decode(data, asn1Spec=spec)
    except (PyAsn1Error, UnicodeError, ValueError) as exc:
        raise VerificationError("malformed_certificate") from exc
    if rest:
        raise VerificationError("malformed_certificate")
    return str(value)


@dataclass(frozen=True, slots=True)
class BasicInfo:
    """The basic 4 info (基本4情報) as the signing certificate carries it.

    ``name_substitute`` is the name in substitute characters (代替文字), used where the
    name holds characters outside the common character set; it may equal ``name``.
    ``sex`` follows the J-LIS code: 1 male, 2 female, 3 unknown.
    """

    name: str
    name_substitute: str
    sex: int
    birth_date: date
    address: str

    def __post_init__(self) -> None:
        if not self.name.strip() or not self.name_substitute.strip():
            raise InvalidBasicInfoError
        if not self.address.strip():
            raise InvalidBasicInfoError
        if isinstance(self.sex, bool) or self.sex not in (1, 2, 3):
            raise InvalidBasicInfoError
        if self.birth_date < ERAS[-1].starts:
            raise InvalidBasicInfoError

    def other_names(self) -> list[x509.OtherName]:
        """subjectAltName otherName entries, J-LIS arc .1-.5 (docs/jpki.md gives the bytes)."""
        return [
            x509.OtherName(OID_NAME, _der_string(self.name, char.UTF8String)),
            x509.OtherName(OID_NAME_SUBSTITUTE, _der_string(self.name_substitute, char.UTF8String)),
            x509.OtherName(OID_SEX, _der_string(str(self.sex), char.PrintableString)),
            x509.OtherName(
                OID_BIRTH_DATE,
                _der_string(encode_birth_date(self.birth_date), char.PrintableString),
            ),
            x509.OtherName(OID_ADDRESS, _der_string(self.address, char.UTF8String)),
        ]

    @classmethod
    def from_other_names(cls, names: Iterable[x509.OtherName]) -> BasicInfo:
        """Read the 4 info back from otherName entries; NoBasicInfoError if any is absent."""
        values = {
            entry.type_id.dotted_string: entry.value
            for entry in names
            if entry.type_id.dotted_string.startswith(JLIS_BASIC_INFO_ARC + ".")
        }
        wanted = (OID_NAME, OID_NAME_SUBSTITUTE, OID_SEX, OID_BIRTH_DATE, OID_ADDRESS)
        if any(oid.dotted_string not in values for oid in wanted):
            raise NoBasicInfoError
        sex = _read_string(values[OID_SEX.dotted_string], char.PrintableString())
        if not sex.isdigit() or len(sex) != 1:
            raise VerificationError("malformed_certificate")
        try:
            return cls(
                name=_read_string(values[OID_NAME.dotted_string], char.UTF8String()),
                name_substitute=_read_string(
                    values[OID_NAME_SUBSTITUTE.dotted_string], char.UTF8String()
                ),
                sex=int(sex),
                birth_date=decode_birth_date(
                    _read_string(values[OID_BIRTH_DATE.dotted_string], char.PrintableString())
                ),
                address=_read_string(values[OID_ADDRESS.dotted_string], char.UTF8String()),
            )
        except InvalidBasicInfoError as exc:
            raise VerificationError("malformed_certificate") from exc


_BIRTH_DATE = re.compile(r"[1-9][0-9]{8}")


def encode_birth_date(day: date) -> str:
    """``EYYYYMMDD``: the JPKI era digit (1 明治 .. 5 令和), then the Gregorian date."""
    return f"{era_of(day).code}{day:%Y%m%d}"


def decode_birth_date(text: str) -> date:
    """Read ``EYYYYMMDD`` back, refusing an era digit that does not fit the date."""
    if not _BIRTH_DATE.fullmatch(text):
        raise VerificationError("malformed_certificate")
    try:
        day = date(int(text[1:5]), int(text[5:7]), int(text[7:9]))
        era_code = era_of(day).code
    except ValueError as exc:
        raise VerificationError("malformed_certificate") from exc
    if era_code != int(text[0]):
        raise VerificationError("malformed_certificate")
    return day


# --- validity ---------------------------------------------------------------------


def birthday_in(year: int, birth_date: date) -> date:
    """The holder's birthday in ``year``; 29 Feb falls on 28 Feb in common years.

    Japanese law reckons a period whose corresponding day does not exist as ending on
    the last day of that month (民法 第143条第2項), so a 29 February birthday is the
    28th in a common year — the earlier choice, so no certificate outlives the rule.
    """
    if birth_date.month == 2 and birth_date.day == 29:
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return birth_date.replace(year=year)


def certificate_expiry(issued_on: date, birth_date: date) -> date:
    """The last day of validity: the holder's 5th birthday after the day of issue.

    A birthday on the day of issue does not count ("after" is strict).
    """
    if issued_on < birth_date:
        msg = "a certificate cannot be issued before its holder is born"
        raise ValueError(msg)
    first = birthday_in(issued_on.year, birth_date)
    year = issued_on.year if first > issued_on else issued_on.year + 1
    return birthday_in(year + 4, birth_date)


def end_of_day_jst(day: date) -> datetime:
    """The last second of ``day`` in Japan, in UTC (a certificate's notAfter)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=JST).astimezone(UTC)


# --- organisations ----------------------------------------------------------------


def check_organization(code: str, name: str) -> tuple[str, str]:
    """The code and name as they go into the certificate, or InvalidOrganizationError."""
    if not isinstance(code, str) or not _ORGANIZATION_CODE.fullmatch(code):
        raise InvalidOrganizationError
    if not isinstance(name, str):
        raise InvalidOrganizationError
    name = name.strip()
    if not name or len(name) > MAX_ORGANIZATION_NAME:
        raise InvalidOrganizationError
    # No control, format or unassigned characters (categories C*) in a DN.
    if any(unicodedata.category(character).startswith("C") for character in name):
        raise InvalidOrganizationError
    return code, name


def organization_urn(code: str) -> str:
    """The URI subjectAltName naming an organisation: ``urn:myna:agency:<code>``."""
    return f"{ORGANIZATION_URN_PREFIX}{code}"


# --- serial numbers ---------------------------------------------------------------


def serial_key(serial: int) -> str:
    """The stored form of a serial number: 40 lowercase hex digits (RFC 5280 §4.1.2.2)."""
    return f"{serial:040x}"


_HEX_BYTES = re.compile(r"[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2})+")


def parse_serial(text: str) -> int:
    """A serial number as people write it: decimal, ``0x``-hex or ``aa:bb:..`` (openssl)."""
    value = text.strip()
    try:
        if value.lower().startswith("0x"):
            serial = int(value[2:], 16)
        elif _HEX_BYTES.fullmatch(value):
            serial = int(value.replace(":", ""), 16)
        elif value.isdigit():
            serial = int(value, 10)
        else:
            raise InvalidSerialError
    except ValueError as exc:
        raise InvalidSerialError from exc
    if serial <= 0 or serial.bit_length() > 160:
        raise InvalidSerialError
    return serial


# --- results ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifiedCertificate:
    """What a relying party (署名検証者) learns from a certificate that verified."""

    serial: int
    kind: CertificateKind
    holder_id: int
    card_id: str
    not_before: datetime
    not_after: datetime
    subject_cn: str
    # A phone credential's certificate must come with the phone's unlock (user
    # verification); see docs/phone-credential.md.
    medium: CredentialMedium = CredentialMedium.CARD


@dataclass(frozen=True, slots=True)
class VerifiedOrganization:
    """What a relying party learns from an organisation certificate that verified."""

    serial: int
    organization_code: str
    organization_name: str
    not_after: datetime
    # ORGANIZATION_PQ when the certificate is ML-DSA-65 from the post-quantum government CA.
    kind: CertificateKind = CertificateKind.ORGANIZATION


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    """An issued certificate as its CA records it (no certificate bytes, no personal data).

    Card certificates have ``holder_id`` and ``card_id``; organisation certificates have
    ``organization_code`` instead.
    """

    serial: int
    kind: CertificateKind
    holder_id: int | None
    card_id: str | None
    subject_cn: str
    not_before: datetime
    not_after: datetime
    status: CertificateStatus
    revoked_at: datetime | None
    revocation_reason: RevocationReason | None
    invalidity_date: datetime | None
    organization_code: str | None = None

    def revoked_by(self, at: datetime) -> bool:
        """Whether the revocation had taken effect at ``at``."""
        return revoked_by(self.status, self.revoked_at, self.invalidity_date, at)


def revoked_by(
    status: CertificateStatus | str,
    revoked_at: datetime | None,
    invalidity_date: datetime | None,
    at: datetime,
) -> bool:
    """Whether a revocation recorded so had taken effect at ``at``: from the invalidity
    date when it is earlier than the revocation (RFC 5280 §5.3.2)."""
    if status != CertificateStatus.REVOKED or revoked_at is None:
        return False
    return min(revoked_at, invalidity_date or revoked_at) <= at


@dataclass(frozen=True, slots=True)
class AuthorityInfo:
    """A CA as shown in the public index."""

    kind: AuthorityKind
    subject: str
    not_before: datetime
    not_after: datetime
    sha256_fingerprint: str
