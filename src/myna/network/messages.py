"""Signed exchange messages: JWS compact (RFC 7515 §7.1), ES256, certificate in ``x5c``.

The hub trusts a message only when the certificate in its header verifies with the
government CA (``myna.jpki.verify_organization_certificate``: chain, validity, key
usage, revocation) and names the agency the message claims to come from.

A hybrid message (docs/adr/0010-post-quantum-signatures.md) carries a second signature
over the same payload bytes: ML-DSA-65 (FIPS 204) by the sender's post-quantum key,
itself a JWS with detached content (RFC 7515 Appendix F) — ``<header>..<signature>``,
its protected header naming ``alg`` ML-DSA-65, ``kid`` the sender and ``x5c`` its
ML-DSA-65 certificate from the post-quantum government CA — in the ES256 protected
header's ``pq`` parameter. The compact form, the media type and every transport stay
as they are. What a receiver requires is its policy (``MYNA_MESSAGE_SIGNATURE_POLICY``):
``classic`` checks ES256 and ignores ``pq``; ``hybrid`` checks both; ``post-quantum``
checks ML-DSA-65 only.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, mldsa
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter
from sqlalchemy.orm import Session

from myna import jpki
from myna.network.domain import (
    BadMessageSignatureError,
    BadPqSignatureError,
    MalformedMessageError,
    MissingPqSignatureError,
    SenderMismatchError,
    UnsignedMessageError,
    UntrustedPqCertificateError,
)
from myna.platform.encoding import b64, b64url, b64url_decode
from myna.platform.errors import MynaError
from myna.platform.settings import Settings

ALGORITHM = "ES256"
PQ_ALGORITHM = "ML-DSA-65"
# The ES256 protected header's parameter that carries the ML-DSA-65 signature.
PQ_HEADER = "pq"
POLICIES = ("classic", "hybrid", "post-quantum")
MAX_TOKEN_BYTES = 256 * 1024
# An ML-DSA-65 certificate is about 5.4 KB, its signature 3,309 bytes: base64url'd into
# the detached JWS and again into the ES256 header, about 20 KB (docs/benchmarks.md).
MAX_HEADER_BYTES = 32 * 1024


class _Registry(JWSRegistry):
    # The protected header carries the sender's certificate in ``x5c`` (about 1 KiB of
    # base64) and, in a hybrid message, the ML-DSA-65 signature with its certificate;
    # joserfc's default header limit of 512 bytes is meant for bare headers.
    max_header_length = MAX_HEADER_BYTES
    max_payload_length = MAX_TOKEN_BYTES

    def __init__(self, *, algorithms: list[str]) -> None:
        pq = HeaderParameter("The ML-DSA-65 signature (a detached JWS, ADR 0010)", "str")
        super().__init__(header_registry={PQ_HEADER: pq}, algorithms=algorithms)


REGISTRY = _Registry(algorithms=[ALGORITHM])
# A message that carries a file (a correction request's evidence, at most 1 MiB) is
# accepted only where one is expected; every other message keeps the small limit.
MAX_FILE_TOKEN_BYTES = 3 * 1024 * 1024


class _FileRegistry(_Registry):
    max_payload_length = MAX_FILE_TOKEN_BYTES


FILE_REGISTRY = _FileRegistry(algorithms=[ALGORITHM])


def registry_for(max_bytes: int) -> JWSRegistry:
    """The JWS limits for messages of at most ``max_bytes``."""
    return REGISTRY if max_bytes <= MAX_TOKEN_BYTES else FILE_REGISTRY


@dataclass(frozen=True, slots=True)
class PqCredential:
    """An organisation's ML-DSA-65 key and its certificate from the post-quantum gov CA."""

    certificate: x509.Certificate
    private_key: mldsa.MLDSA65PrivateKey


@dataclass(frozen=True, slots=True)
class Credential:
    """An agency's signing identity: its code, certificate and private key.

    With ``pq`` it signs hybrid: ES256 and ML-DSA-65 over the same payload. The header's
    ``x5c`` value and the JWK the signature is made with are derived once, when the
    credential is made: an agency signs all day with the same ones.
    """

    code: str
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey
    pq: PqCredential | None = None
    x5c: str = field(init=False, repr=False, compare=False)
    jwk: ECKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "x5c", b64(self.certificate.public_bytes(Encoding.DER)))
        object.__setattr__(self, "jwk", ECKey.import_key(self.private_key))


@dataclass(frozen=True, slots=True)
class OpenedMessage:
    """A message whose signature and sender certificate were verified."""

    sender: str
    payload: bytes


def _pq_signature(payload: bytes, code: str, pq: PqCredential) -> str:
    """The ML-DSA-65 JWS over ``payload`` with detached content (RFC 7515 Appendix F)."""
    header = {
        "alg": PQ_ALGORITHM,
        "kid": code,
        "x5c": [b64(pq.certificate.public_bytes(Encoding.DER))],
    }
    protected = b64url(json.dumps(header, sort_keys=True, separators=(",", ":")).encode())
    signature = pq.private_key.sign(f"{protected}.{b64url(payload)}".encode("ascii"))
    return f"{protected}..{b64url(signature)}"


def sign(payload: bytes, credential: Credential) -> str:
    """Sign ``payload`` as ``credential``'s agency: ES256, and ML-DSA-65 when it has the key."""
    header = {"alg": ALGORITHM, "kid": credential.code, "x5c": [credential.x5c]}
    if credential.pq is not None:
        header[PQ_HEADER] = _pq_signature(payload, credential.code, credential.pq)
    return jws.serialize_compact(header, payload, credential.jwk, registry=FILE_REGISTRY)


@dataclass(frozen=True, slots=True)
class PqSignature:
    """The ML-DSA-65 signature of a hybrid message, read but not yet verified."""

    sender: str
    certificate: x509.Certificate
    signing_input: bytes
    signature: bytes

    def verify(self) -> None:
        """Check the signature with the certificate's key; BadPqSignatureError if not."""
        key = self.certificate.public_key()
        if not isinstance(key, mldsa.MLDSA65PublicKey):
            raise BadPqSignatureError
        try:
            key.verify(self.signature, self.signing_input)
        except InvalidSignature as exc:
            raise BadPqSignatureError from exc


@dataclass(frozen=True, slots=True)
class Envelope:
    """A message as read, before any signature is checked: what each policy needs.

    ``signed`` is the JWS as read, checked later without reading the token again;
    ``certificate_der`` the ``x5c`` certificate's bytes, by which verifiers know it.
    """

    sender: str
    certificate: x509.Certificate
    payload: bytes
    pq: PqSignature | None
    signed: jws.CompactSignature
    certificate_der: bytes


def _pq_part(value: object, encoded_payload: str) -> PqSignature:
    """Read the ``pq`` header parameter: ``<protected>..<signature>``."""
    if not isinstance(value, str) or len(value) > MAX_HEADER_BYTES:
        raise MalformedMessageError
    parts = value.split(".")
    if len(parts) != 3 or parts[1]:
        raise MalformedMessageError
    try:
        header = json.loads(b64url_decode(parts[0]))
        signature = b64url_decode(parts[2])
    except ValueError as exc:
        raise MalformedMessageError from exc
    if not isinstance(header, dict) or header.get("alg") != PQ_ALGORITHM:
        raise BadPqSignatureError
    sender, chain = header.get("kid"), header.get("x5c")
    if not isinstance(sender, str) or not isinstance(chain, list) or not chain:
        raise MalformedMessageError
    try:
        der = base64.b64decode(str(chain[0]), validate=True)
        certificate = x509.load_der_x509_certificate(der)
    except (ValueError, binascii.Error) as exc:
        raise UntrustedPqCertificateError(reason="malformed_certificate") from exc
    signing_input = f"{parts[0]}.{encoded_payload}".encode("ascii")
    return PqSignature(sender, certificate, signing_input, signature)


def read_envelope(
    token: str, *, bad_certificate: Callable[[], Exception], max_bytes: int = MAX_TOKEN_BYTES
) -> Envelope:
    """Read a message's header, certificates and payload; verify nothing yet."""
    if not token or len(token) > max_bytes or token.count(".") != 2:
        raise UnsignedMessageError
    try:
        extracted = jws.extract_compact(token.encode("ascii"), registry=registry_for(max_bytes))
        header = extracted.headers()
    except (JoseError, ValueError, UnicodeError) as exc:
        raise MalformedMessageError from exc
    sender, der, certificate = _header_certificate(header, bad_certificate)
    pq = header.get(PQ_HEADER)
    encoded_payload = token.split(".")[1]
    return Envelope(
        sender=sender,
        certificate=certificate,
        payload=extracted.payload,
        pq=None if pq is None else _pq_part(pq, encoded_payload),
        signed=extracted,
        certificate_der=der,
    )


def required_pq(envelope: Envelope, policy: str) -> PqSignature | None:
    """The ML-DSA-65 signature ``policy`` requires (None under ``classic``).

    Checks what needs no trust decision: present, and by the message's sender.
    """
    if policy not in POLICIES:
        msg = f"unknown signature policy {policy!r}"
        raise ValueError(msg)
    if policy == "classic":
        return None
    if envelope.pq is None:
        raise MissingPqSignatureError
    if envelope.pq.sender != envelope.sender:
        raise SenderMismatchError(claimed=envelope.sender, signer=envelope.pq.sender)
    return envelope.pq


def header_certificate(
    token: str, *, bad_certificate: Callable[[], Exception], max_bytes: int = MAX_TOKEN_BYTES
) -> tuple[str, x509.Certificate]:
    """The ``kid`` and the ``x5c`` certificate of a JWS header (RFC 7515 §4.1.4, §4.1.6).

    The hub and a node say differently that the certificate does not parse (the node in
    the JPKI's words, having no JPKI database), so the caller names that error.
    """
    envelope = read_envelope(token, bad_certificate=bad_certificate, max_bytes=max_bytes)
    return envelope.sender, envelope.certificate


def _header_certificate(
    header: dict[str, object], bad_certificate: Callable[[], Exception]
) -> tuple[str, bytes, x509.Certificate]:
    sender = header.get("kid")
    chain = header.get("x5c")
    if header.get("alg") != ALGORITHM or not isinstance(sender, str) or not chain:
        raise UnsignedMessageError
    if not isinstance(chain, list) or not isinstance(chain[0], str):
        raise MalformedMessageError
    try:
        der = base64.b64decode(chain[0], validate=True)
        return sender, der, x509.load_der_x509_certificate(der)
    except (ValueError, binascii.Error) as exc:
        raise bad_certificate() from exc


def open_signed(
    token: str,
    *,
    session: Session,
    settings: Settings,
    expected_sender: str | None = None,
    max_bytes: int = MAX_TOKEN_BYTES,
    policy: str = "classic",
) -> OpenedMessage:
    """Verify ``token``'s sender certificates and signatures as ``policy`` requires.

    ``classic``: the ES256 signature and its government-CA certificate; ``hybrid``: that
    and the ML-DSA-65 signature with its certificate from the post-quantum government
    CA; ``post-quantum``: the ML-DSA-65 one alone. Returns sender and payload.
    """
    envelope = read_envelope(token, bad_certificate=BadMessageSignatureError, max_bytes=max_bytes)
    sender = envelope.sender
    pq = required_pq(envelope, policy)
    if pq is not None:
        _verify_pq(pq, session=session, settings=settings)
    if policy != "post-quantum":
        _verify_classic(envelope, session=session, settings=settings, max_bytes=max_bytes)
    if expected_sender is not None and sender != expected_sender:
        raise SenderMismatchError(claimed=expected_sender, signer=sender)
    return OpenedMessage(sender=sender, payload=envelope.payload)


def _verify_pq(pq: PqSignature, *, session: Session, settings: Settings) -> None:
    """The ML-DSA-65 certificate is the post-quantum gov CA's, for the sender; then the
    signature."""
    try:
        verified = jpki.verify_organization_certificate(
            session=session, settings=settings, certificate=pq.certificate
        )
    except jpki.VerificationError as exc:
        raise UntrustedPqCertificateError(reason=exc.code) from exc
    if verified.kind is not jpki.CertificateKind.ORGANIZATION_PQ:
        raise UntrustedPqCertificateError(reason="weak_algorithm")
    if verified.organization_code != pq.sender:
        raise SenderMismatchError(claimed=pq.sender, signer=verified.organization_code)
    pq.verify()


def _verify_classic(
    envelope: Envelope, *, session: Session, settings: Settings, max_bytes: int
) -> None:
    sender, certificate = envelope.sender, envelope.certificate
    try:
        # By its bytes: a certificate verified before is known by them (jpki's cache).
        verified = jpki.verify_organization_certificate(
            session=session, settings=settings, certificate=envelope.certificate_der
        )
    except MynaError as exc:
        raise BadMessageSignatureError from exc
    if verified.organization_code != sender:
        raise SenderMismatchError(claimed=sender, signer=verified.organization_code)
    public_key = certificate.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise BadMessageSignatureError
    try:
        # The JWS read by read_envelope, checked as it was read (RFC 7515 §5.2).
        valid = jws.validate_compact(
            envelope.signed, ECKey.import_key(public_key), registry=registry_for(max_bytes)
        )
    except (JoseError, ValueError) as exc:
        raise BadMessageSignatureError from exc
    if not valid:
        raise BadMessageSignatureError


def open_message(
    token: str,
    *,
    session: Session,
    settings: Settings,
    expected_sender: str | None = None,
    max_bytes: int = MAX_TOKEN_BYTES,
) -> OpenedMessage:
    """A hub message or receipt between the hub and the agencies, opened under the
    receiver's ``MYNA_MESSAGE_SIGNATURE_POLICY`` (:func:`open_signed`)."""
    return open_signed(
        token,
        session=session,
        settings=settings,
        expected_sender=expected_sender,
        max_bytes=max_bytes,
        policy=settings.message_signature_policy,
    )
