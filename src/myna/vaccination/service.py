"""接種証明書: issuing a resident's certificates and verifying presented ones.

The municipality acts here: it reads the resident's doses from its 予防接種台帳 through
the network hub (the portal's self-disclosure path, so the exchange log shows the read),
the name and date of birth from its own 住民基本台帳, and signs with its vaccination key,
certified by the government CA. Verification needs no login and no personal data of
Myna's: the presented certificate carries everything, checked against the issuer's
published keys (SMART Health Card) or the government CA (ICAO VDS-NC).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import jpki, network, registry
from myna.platform.db import utcnow
from myna.platform.logging import get_logger
from myna.platform.settings import Settings
from myna.vaccination import domain
from myna.vaccination.domain import (
    Dose,
    Holder,
    NoVaccinationRecordError,
    RecordsUnavailableError,
    VerifiedCertificate,
    rejection,
)
from myna.vaccination.models import VaccinationSigner

log = get_logger(__name__)
ITEM = "vaccination"
SIGNER_PREFIX = "vax-"
ISSUERS_PATH = "/vaccination/issuers"
JWKS_SUFFIX = "/.well-known/jwks.json"
PURPOSE = "予防接種証明書（接種証明書）の交付"
LIST_PURPOSE = "予防接種証明書（接種証明書）の交付：接種記録の確認"
# A key is replaced this long before its certificate ends, so no card is signed by a key
# whose certificate would lapse while the card is being shown.
RENEW_BEFORE = timedelta(days=30)
# Clock skew allowed on the SHC nbf of a card from another clock.
NBF_SKEW = timedelta(minutes=5)
_ISSUER_CODE = re.compile(r"(\d{6})")
_CODE_MAP = {
    "revoked": "revoked",
    "expired": "expired",
    "not_yet_valid": "not_yet_valid",
}


def signer_code(municipality_code: str) -> str:
    """The organisation code of a municipality's vaccination key: ``vax-<code>``."""
    return f"{SIGNER_PREFIX}{municipality_code}"


def issuer_url(settings: Settings, municipality_code: str) -> str:
    """The SHC ``iss`` of a municipality: its keys are at this URL + /.well-known/jwks.json."""
    return f"{settings.portal_url.rstrip('/')}{ISSUERS_PATH}/{municipality_code}"


def _passphrase(settings: Settings, municipality_code: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"myna-vaccination-key:" + municipality_code.encode(),
    ).derive(settings.secret_key.get_secret_value().encode())


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The EC public JWK (RFC 7518 §6.2.1) of a P-256 key, without kid."""
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": domain.b64url(numbers.x.to_bytes(32, "big")),
        "y": domain.b64url(numbers.y.to_bytes(32, "big")),
    }


@dataclass(frozen=True, slots=True)
class Signer:
    """A municipality's vaccination key, ready to sign."""

    municipality_code: str
    kid: str
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey


def _good(session: Session, settings: Settings, row: VaccinationSigner, at: datetime) -> bool:
    try:
        jpki.verify_organization_certificate(
            session=session, settings=settings, certificate=row.certificate_der, at=at
        )
    except jpki.OrganizationVerificationError:
        return False
    return True


def _rows(session: Session, municipality_code: str) -> list[VaccinationSigner]:
    return list(
        session.scalars(
            select(VaccinationSigner)
            .where(VaccinationSigner.municipality_code == municipality_code)
            .order_by(VaccinationSigner.created_at.desc(), VaccinationSigner.id.desc())
        )
    )


def current_signer(
    *, session: Session, settings: Settings, municipality_code: str, now: datetime | None = None
) -> Signer:
    """The municipality's signing key, made (and certified) when it has no good one.

    Good means its certificate verifies now and for ``RENEW_BEFORE`` more: a revoked or
    ending key is replaced, and stays in the table for the certificates it signed.
    """
    moment = now or utcnow()
    for row in _rows(session, municipality_code):
        if _good(session, settings, row, moment) and _good(
            session, settings, row, moment + RENEW_BEFORE
        ):
            return _signer(settings, row)
    return _signer(settings, _create(session, settings, municipality_code, moment))


def _create(
    session: Session, settings: Settings, municipality_code: str, now: datetime
) -> VaccinationSigner:
    municipality = registry.get_municipality(session=session, code=municipality_code)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = jpki.issue_organization_certificate(
        session=session,
        settings=settings,
        organization_code=signer_code(municipality_code),
        organization_name=f"{municipality.prefecture_name}{municipality.name}",
        public_key=key.public_key(),
        now=now,
        uri=issuer_url(settings, municipality_code),
    )
    row = VaccinationSigner(
        municipality_code=municipality_code,
        kid=domain.jwk_thumbprint(public_jwk(key.public_key())),
        certificate_der=certificate.public_bytes(serialization.Encoding.DER),
        private_key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(_passphrase(settings, municipality_code)),
        ).decode(),
        created_at=now,
    )
    session.add(row)
    session.flush()
    log.info("vaccination.signer_created", municipality=municipality_code, kid=row.kid)
    return row


def _signer(settings: Settings, row: VaccinationSigner) -> Signer:
    key = serialization.load_pem_private_key(
        row.private_key_pem.encode(), password=_passphrase(settings, row.municipality_code)
    )
    if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - written above
        msg = "a vaccination key is an EC key"
        raise TypeError(msg)
    return Signer(
        municipality_code=row.municipality_code,
        kid=row.kid,
        certificate=x509.load_der_x509_certificate(row.certificate_der),
        private_key=key,
    )


def jwks(
    *, session: Session, settings: Settings, municipality_code: str, now: datetime | None = None
) -> dict[str, list[dict[str, object]]]:
    """The municipality's JWK Set: every key whose certificate is good now, with x5c.

    ``x5c`` (RFC 7517 §4.7) holds the key's certificate then the government CA's, standard
    base64 of DER; the leaf's subjectAltName carries the issuer URL, as SMART Health Cards
    asks of an issuer that publishes certificates.
    """
    municipality_code = registry.validate_municipality_code(municipality_code)
    registry.get_municipality(session=session, code=municipality_code)
    moment = now or utcnow()
    ca = jpki.ca_certificate(session=session, kind="gov")
    keys: list[dict[str, object]] = []
    for row in _rows(session, municipality_code):
        if not _good(session, settings, row, moment):
            continue
        certificate = x509.load_der_x509_certificate(row.certificate_der)
        public_key = certificate.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey):  # pragma: no cover
            continue
        keys.append(
            {
                **public_jwk(public_key),
                "kid": row.kid,
                "use": "sig",
                "alg": "ES256",
                "x5c": [_b64(row.certificate_der), _b64(ca)],
            }
        )
    return {"keys": keys}


def _b64(der: bytes) -> str:
    """Standard base64 with padding: x5c is not base64url (RFC 7517 §4.7)."""
    return base64.b64encode(der).decode("ascii")


# --- reading the register ----------------------------------------------------------


def vaccination_record(
    *, session: Session, hub: network.Hub, resident_id: int, purpose: str = LIST_PURPOSE
) -> list[Dose]:
    """The resident's doses in the municipality's 予防接種台帳, read through the hub."""
    outcome = network.request_self_information(
        session=session, hub=hub, resident_id=resident_id, items=[ITEM], purpose=purpose
    )
    if ITEM in outcome.unavailable_items():
        raise RecordsUnavailableError
    payloads = [
        record.payload
        for result in outcome.results
        if result.item == ITEM
        for record in result.records
    ]
    return domain.doses_from_payloads(payloads)


@dataclass(frozen=True, slots=True)
class VaccineSummary:
    """A vaccine the resident has doses of, for the page's choice."""

    vaccine: domain.Vaccine
    doses: tuple[Dose, ...]


def vaccines_of(*, session: Session, hub: network.Hub, resident_id: int) -> list[VaccineSummary]:
    """The vaccines the resident can get a certificate for, in the catalogue's order."""
    doses = vaccination_record(session=session, hub=hub, resident_id=resident_id)
    return [
        VaccineSummary(v, tuple(d for d in doses if d.vaccine == v))
        for v in domain.VACCINES
        if any(d.vaccine == v for d in doses)
    ]


# --- issuing ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedCertificates:
    """Both certificates of one vaccine for one resident, as issued now."""

    vaccine: domain.Vaccine
    holder: Holder
    doses: tuple[Dose, ...]
    issuer_name: str
    issuer: str
    shc_jws: str
    shc_qr: str  # the shc:/ numeric text
    vds: str | None  # the VDS-NC JSON; None when a dose lacks its lot number
    issued_at: datetime


def _holder(resident: registry.ResidentRead) -> Holder:
    sex = {registry.Sex.MALE: "M", registry.Sex.FEMALE: "F"}.get(resident.sex, "X")
    return Holder(
        family_name=resident.family_name,
        given_name=resident.given_name,
        family_name_kana=resident.family_name_kana,
        given_name_kana=resident.given_name_kana,
        birth_date=resident.birth_date,
        sex=sex,
    )


def sign_shc(payload: dict[str, object], signer: Signer) -> str:
    """The compact JWS of an SHC payload: ES256, ``zip: DEF``, ``kid`` the thumbprint."""
    header = {"alg": "ES256", "zip": "DEF", "kid": signer.kid}
    signing_input = (
        f"{domain.b64url(domain.minified(header))}."
        f"{domain.b64url(domain.deflate_raw(domain.minified(payload)))}"
    )
    signature = _raw_signature(signer.private_key, signing_input.encode("ascii"))
    return f"{signing_input}.{domain.b64url(signature)}"


def sign_vds(data: dict[str, object], signer: Signer) -> str:
    """A VDS-NC: ``data`` and its signature over the RFC 8785 form, with the certificate."""
    signature = _raw_signature(signer.private_key, domain.canonical_json(data))
    seal = {
        "data": data,
        "sig": {
            "alg": "ES256",
            "cer": domain.b64url(signer.certificate.public_bytes(serialization.Encoding.DER)),
            "sigvl": domain.b64url(signature),
        },
    }
    return json.dumps(seal, ensure_ascii=False, separators=(",", ":"))


def _raw_signature(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA P-256 / SHA-256 as r‖s, 32 bytes each (RFC 7518 §3.4)."""
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def issue(
    *,
    session: Session,
    hub: network.Hub,
    settings: Settings,
    resident_id: int,
    slug: str,
    now: datetime | None = None,
) -> IssuedCertificates:
    """The logged-in resident's certificates of one vaccine, signed by their municipality.

    The doses come through the hub under the issuing purpose (the exchange log shows it);
    only the resident's own: the request carries the link code of the session's resident.
    """
    chosen = domain.vaccine(slug)
    moment = now or utcnow()
    doses = tuple(
        d
        for d in vaccination_record(
            session=session, hub=hub, resident_id=resident_id, purpose=PURPOSE
        )
        if d.vaccine == chosen
    )
    if not doses:
        raise NoVaccinationRecordError
    resident = registry.get_resident(session=session, resident_id=resident_id)
    holder = _holder(resident)
    signer = current_signer(
        session=session, settings=settings, municipality_code=resident.municipality_code, now=moment
    )
    issuer = issuer_url(settings, resident.municipality_code)
    payload = domain.shc_payload(
        issuer=issuer,
        issued_at=int(moment.timestamp()),
        bundle=domain.fhir_bundle(holder, doses),
    )
    jws = sign_shc(payload, signer)
    try:
        vds: str | None = sign_vds(
            domain.vds_data(
                holder=holder,
                doses=doses,
                certificate_id=domain.uvci(
                    municipality_code=resident.municipality_code,
                    serial=int.from_bytes(jws.encode()[-8:], "big"),
                ),
            ),
            signer,
        )
    except domain.LotNumberMissingError:
        vds = None
    log.info(
        "vaccination.issued",
        municipality=resident.municipality_code,
        vaccine=chosen.slug,
        doses=len(doses),
        kid=signer.kid,
    )
    return IssuedCertificates(
        vaccine=chosen,
        holder=holder,
        doses=doses,
        issuer_name=resident.municipality_name,
        issuer=issuer,
        shc_jws=jws,
        shc_qr=domain.shc_numeric(jws),
        vds=vds,
        issued_at=moment,
    )


# --- verifying ---------------------------------------------------------------------------


def verify(
    *, session: Session, settings: Settings, text: str, now: datetime | None = None
) -> VerifiedCertificate:
    """Verify a presented certificate: an ``shc:/`` text, a bare JWS or a VDS-NC JSON.

    Raises :class:`domain.CertificateRejectedError` with the reason for anything short of
    a good signature by a key Myna's government CA certified for a known municipality.
    """
    moment = now or utcnow()
    text = text.strip()
    if len(text) > domain.MAX_PAYLOAD_CHARS:
        raise rejection("too_large")
    try:
        if text.lower().startswith(domain.SHC_PREFIX):
            found = _verify_shc(session, settings, domain.shc_from_numeric(text), moment)
        elif text.startswith("{"):
            found = _verify_vds(session, settings, text, moment)
        elif text.count(".") == 2:
            found = _verify_shc(session, settings, text, moment)
        else:
            raise rejection("unreadable")
    except domain.CertificateRejectedError as error:
        log.info("vaccination.verify_refused", reason=error.reason)
        raise
    log.info("vaccination.verified", format=found.format, issuer=found.issuer)
    return found


def _json_object(data: bytes | str) -> dict[str, object]:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise rejection("malformed") from exc
    if not isinstance(value, dict):
        raise rejection("malformed")
    return value


def _verify_shc(
    session: Session, settings: Settings, jws: str, now: datetime
) -> VerifiedCertificate:
    parts = jws.split(".")
    if len(parts) != 3:
        raise rejection("malformed")
    try:
        header = _json_object(domain.b64url_decode(parts[0]))
        compressed = domain.b64url_decode(parts[1])
        signature = domain.b64url_decode(parts[2])
    except ValueError as exc:
        raise rejection("malformed") from exc
    if header.get("alg") != "ES256" or header.get("zip") != "DEF":
        raise rejection("malformed")
    payload = _json_object(domain.inflate_raw(compressed))
    issuer = payload.get("iss")
    if not isinstance(issuer, str):
        raise rejection("malformed")
    prefix = f"{settings.portal_url.rstrip('/')}{ISSUERS_PATH}/"
    code = issuer.removeprefix(prefix)
    if not issuer.startswith(prefix) or not _ISSUER_CODE.fullmatch(code):
        raise rejection("unknown_issuer")
    try:
        registry.get_municipality(session=session, code=code)
    except (registry.MunicipalityNotFoundError, registry.InvalidMunicipalityCodeError) as exc:
        raise rejection("unknown_issuer") from exc
    row = session.scalars(
        select(VaccinationSigner).where(
            VaccinationSigner.kid == str(header.get("kid", "")),
            VaccinationSigner.municipality_code == code,
        )
    ).first()
    if row is None:
        raise rejection("unknown_key")
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    _check_signature(row.certificate_der, signing_input, signature)
    _check_signer(session, settings, row.certificate_der, code, now)
    nbf = payload.get("nbf")
    if not isinstance(nbf, int | float) or isinstance(nbf, bool):
        raise rejection("malformed")
    if datetime.fromtimestamp(nbf, tz=UTC) > now + NBF_SKEW:
        raise rejection("not_yet_valid")
    names, birth, doses = domain.read_shc_bundle(payload)
    municipality = registry.get_municipality(session=session, code=code)
    return VerifiedCertificate(
        format="shc",
        names=names,
        birth_date=birth,
        doses=tuple(doses),
        issuer_name=f"{municipality.prefecture_name}{municipality.name}",
        issuer=issuer,
    )


def _verify_vds(
    session: Session, settings: Settings, text: str, now: datetime
) -> VerifiedCertificate:
    seal = _json_object(text)
    data, sig = seal.get("data"), seal.get("sig")
    if not isinstance(data, dict) or not isinstance(sig, dict) or sig.get("alg") != "ES256":
        raise rejection("malformed")
    try:
        certificate = domain.b64url_decode(str(sig.get("cer", "")))
        signature = domain.b64url_decode(str(sig.get("sigvl", "")))
        canonical = domain.canonical_json(data)
    except (ValueError, TypeError) as exc:
        raise rejection("malformed") from exc
    verified = _check_signer(session, settings, certificate, None, now)
    _check_signature(certificate, canonical, signature)
    names, birth, doses = domain.read_vds_message(data)
    return VerifiedCertificate(
        format="vds-nc",
        names=names,
        birth_date=birth,
        doses=tuple(doses),
        issuer_name=verified.organization_name,
        issuer=verified.organization_code,
    )


def _check_signer(
    session: Session,
    settings: Settings,
    certificate: bytes,
    municipality_code: str | None,
    now: datetime,
) -> jpki.VerifiedOrganization:
    """The signer's certificate: chains to the government CA, good now, a municipality's
    vaccination key (``vax-<code>``; the named municipality's when one is named)."""
    try:
        verified = jpki.verify_organization_certificate(
            session=session, settings=settings, certificate=certificate, at=now
        )
    except jpki.OrganizationVerificationError as error:
        raise rejection(_CODE_MAP.get(error.code, "untrusted_signer")) from error
    code = verified.organization_code.removeprefix(SIGNER_PREFIX)
    if not verified.organization_code.startswith(SIGNER_PREFIX) or (
        municipality_code is not None and code != municipality_code
    ):
        raise rejection("signer_mismatch")
    return verified


def _check_signature(certificate: bytes, data: bytes, signature: bytes) -> None:
    """ES256 with the certificate's key; the signature r‖s (64 bytes)."""
    if len(signature) != 64:
        raise rejection("bad_signature")
    try:
        public_key = x509.load_der_x509_certificate(certificate).public_key()
    except ValueError as exc:
        raise rejection("untrusted_signer") from exc
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise rejection("untrusted_signer")
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public_key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise rejection("bad_signature") from exc
