"""Signed exchange messages: JWS compact (RFC 7515 §7.1), ES256, certificate in ``x5c``.

The hub trusts a message only when the certificate in its header verifies with the
government CA (``myna.jpki.verify_organization_certificate``: chain, validity, key
usage, revocation) and names the agency the message claims to come from.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.jws import JWSRegistry
from sqlalchemy.orm import Session

from myna import jpki
from myna.network.domain import (
    BadMessageSignatureError,
    MalformedMessageError,
    SenderMismatchError,
    UnsignedMessageError,
)
from myna.platform.encoding import b64
from myna.platform.errors import MynaError
from myna.platform.settings import Settings

ALGORITHM = "ES256"
MAX_TOKEN_BYTES = 256 * 1024


class _Registry(JWSRegistry):
    # The protected header carries the sender's certificate in ``x5c`` (about 1 KiB of
    # base64); joserfc's default header limit of 512 bytes is meant for bare headers.
    max_header_length = 4096
    max_payload_length = MAX_TOKEN_BYTES


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
class Credential:
    """An agency's signing identity: its code, certificate and private key."""

    code: str
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey


@dataclass(frozen=True, slots=True)
class OpenedMessage:
    """A message whose signature and sender certificate were verified."""

    sender: str
    payload: bytes


def sign(payload: bytes, credential: Credential) -> str:
    """Sign ``payload`` as ``credential``'s agency."""
    certificate = b64(credential.certificate.public_bytes(Encoding.DER))
    header = {"alg": ALGORITHM, "kid": credential.code, "x5c": [certificate]}
    key = ECKey.import_key(credential.private_key)
    return jws.serialize_compact(header, payload, key, registry=FILE_REGISTRY)


def header_certificate(
    token: str, *, bad_certificate: Callable[[], Exception], max_bytes: int = MAX_TOKEN_BYTES
) -> tuple[str, x509.Certificate]:
    """The ``kid`` and the ``x5c`` certificate of a JWS header (RFC 7515 §4.1.4, §4.1.6).

    The hub and a node say differently that the certificate does not parse (the node in
    the JPKI's words, having no JPKI database), so the caller names that error.
    """
    if not token or len(token) > max_bytes or token.count(".") != 2:
        raise UnsignedMessageError
    try:
        extracted = jws.extract_compact(token.encode("ascii"), registry=registry_for(max_bytes))
        header = extracted.headers()
    except (JoseError, ValueError, UnicodeError) as exc:
        raise MalformedMessageError from exc
    sender = header.get("kid")
    chain = header.get("x5c")
    if header.get("alg") != ALGORITHM or not isinstance(sender, str) or not chain:
        raise UnsignedMessageError
    if not isinstance(chain, list) or not isinstance(chain[0], str):
        raise MalformedMessageError
    try:
        der = base64.b64decode(chain[0], validate=True)
        return sender, x509.load_der_x509_certificate(der)
    except (ValueError, binascii.Error) as exc:
        raise bad_certificate() from exc


def open_signed(
    token: str,
    *,
    session: Session,
    settings: Settings,
    expected_sender: str | None = None,
    max_bytes: int = MAX_TOKEN_BYTES,
) -> OpenedMessage:
    """Verify ``token``'s sender certificate and signature; return sender and payload."""
    sender, certificate = header_certificate(
        token, bad_certificate=BadMessageSignatureError, max_bytes=max_bytes
    )
    try:
        verified = jpki.verify_organization_certificate(
            session=session, settings=settings, certificate=certificate
        )
    except MynaError as exc:
        raise BadMessageSignatureError from exc
    if verified.organization_code != sender:
        raise SenderMismatchError(claimed=sender, signer=verified.organization_code)
    if expected_sender is not None and sender != expected_sender:
        raise SenderMismatchError(claimed=expected_sender, signer=sender)
    public_key = certificate.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise BadMessageSignatureError
    try:
        opened = jws.deserialize_compact(
            token, ECKey.import_key(public_key), registry=registry_for(max_bytes)
        )
    except (JoseError, ValueError) as exc:
        raise BadMessageSignatureError from exc
    return OpenedMessage(sender=sender, payload=opened.payload)
