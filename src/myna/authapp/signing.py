"""Signing with the card for a business: the basic 4 info for a login, and signing
transactions (電子署名の依頼).

Both open a signing request of the e-application kind
(:func:`myna.applications.submission.open_signing_request`), so the card reader, its API
and the waiting page are the ones the resident knows; a resident whose signing
certificate is revoked or expired is told so before any request exists. Once the card
has signed, the portal verifies the detached CMS signature (chain, validity,
revocation, the signer is the resident who asked) and hands it to the handler of its
purpose, registered at the composition root:

* :class:`IdentitySigning` keeps the verified signing certificate on the login request,
  from which the basic 4 info are read;
* :class:`TransactionSigning` keeps the signature, the signed document and the
  certificate on the business's signing transaction, which the business then fetches
  encrypted to its registered key (JWE, ECDH-ES+A256KW / A256GCM).

What the card signs is the canonical JSON document of :mod:`myna.authapp.domain` (the
business's name, the title, the documents' SHA-256 digests); the signature is a detached
CMS SignedData (RFC 5652) whose signer's RSASSA-PKCS1-v1_5 / SHA-256 signature covers the
signed attributes, among them the SHA-256 of that document (docs/api/authapp.md).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc import jwe
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import jpki
from myna.applications import submission
from myna.applications.domain import canonical_json
from myna.authapp import clients, oidc
from myna.authapp.clients import CONTENT_ENCRYPTION, ENCRYPTION_ALGORITHM, ClientRead
from myna.authapp.domain import (
    SIGN_REQUEST_LIFETIME_MINUTES,
    SignRequestDoneError,
    SignRequestExpiredError,
    SignRequestNotFoundError,
    SignStatus,
    check_digests,
    check_title,
    identity_document,
    new_id,
    signing_document,
)
from myna.authapp.models import AuthAppSignRequest
from myna.platform.db import utcnow
from myna.platform.encoding import b64url
from myna.platform.settings import Settings

IDENTITY_PURPOSE = "authapp-identity"
SIGN_PURPOSE = "authapp-sign"
SIGN_PATH = oidc.PREFIX + "/sign"
RESULT_TYPE = "authapp-signature+json"
SIGNATURE_FORMAT = "cms-detached"


@dataclass(frozen=True, slots=True)
class SignRequestRead:
    """A signing transaction as its business reads it."""

    id: str
    status: SignStatus
    title: str
    digests: tuple[str, ...]
    url: str
    return_url: str
    created_at: datetime
    expires_at: datetime
    signed_at: datetime | None
    result: str | None


@dataclass(frozen=True, slots=True)
class SignRequestPage:
    """A signing transaction as the resident's page shows it."""

    id: str
    client_name: str
    title: str
    digests: tuple[str, ...]
    return_url: str
    expires_at: datetime
    signed: bool
    signing_request_id: str | None


def _status(row: AuthAppSignRequest, now: datetime) -> SignStatus:
    if row.signature is not None:
        return SignStatus.SIGNED
    return SignStatus.EXPIRED if row.expires_at <= now else SignStatus.PENDING


def _url(settings: Settings, request_id: str) -> str:
    return f"{settings.portal_url.rstrip('/')}{SIGN_PATH}/{request_id}"


def create_sign_request(
    *,
    session: Session,
    settings: Settings,
    client: ClientRead,
    title: str,
    digests: list[Any],
    return_url: str,
) -> SignRequestRead:
    """A new signing transaction of ``client``: what the resident will sign, and where
    they go back to (a URL on the client's registered site)."""
    now = utcnow()
    row = AuthAppSignRequest(
        id=new_id(),
        client_id=client.client_id,
        title=check_title(title),
        digests=list(check_digests(digests)),
        return_url=clients.check_return_url(client, return_url),
        created_at=now,
        expires_at=now + timedelta(minutes=SIGN_REQUEST_LIFETIME_MINUTES),
    )
    session.add(row)
    session.flush()
    return _read(settings, row, client, now)


def _encrypted_result(client: ClientRead, row: AuthAppSignRequest) -> str:
    """The signature, the signed document and the certificate, as a compact JWE to the
    client's encryption key (RFC 7516; ECDH-ES+A256KW, A256GCM: RFC 7518 §4.6, §5.3)."""
    assert row.signature is not None and row.content is not None  # noqa: S101 - signed
    assert row.certificate_der is not None and row.signed_at is not None  # noqa: S101
    payload = {
        "id": row.id,
        "title": row.title,
        "digests": row.digests,
        "signature_format": SIGNATURE_FORMAT,
        "signature": b64url(row.signature),
        "document": b64url(row.content),
        "certificate": b64url(row.certificate_der),
        "signed_at": row.signed_at.isoformat(timespec="seconds"),
    }
    enc_key = client.encryption_key
    header = {
        "alg": ENCRYPTION_ALGORITHM,
        "enc": CONTENT_ENCRYPTION,
        "typ": RESULT_TYPE,
        "kid": enc_key.get("kid", ""),
    }
    return jwe.encrypt_compact(
        header,
        json.dumps(payload, ensure_ascii=False).encode(),
        ECKey.import_key(enc_key),
        algorithms=[ENCRYPTION_ALGORITHM, CONTENT_ENCRYPTION],
    )


def _read(
    settings: Settings, row: AuthAppSignRequest, client: ClientRead, now: datetime
) -> SignRequestRead:
    status = _status(row, now)
    return SignRequestRead(
        id=row.id,
        status=status,
        title=row.title,
        digests=tuple(row.digests),
        url=_url(settings, row.id),
        return_url=row.return_url,
        created_at=row.created_at,
        expires_at=row.expires_at,
        signed_at=row.signed_at,
        result=_encrypted_result(client, row) if status is SignStatus.SIGNED else None,
    )


def sign_request_for_client(
    *, session: Session, settings: Settings, client: ClientRead, request_id: str
) -> SignRequestRead:
    """The client's own signing transaction; another client's is "not found" (no hint
    that it exists)."""
    row = session.get(AuthAppSignRequest, request_id[:64])
    if row is None or row.client_id != client.client_id:
        raise SignRequestNotFoundError
    return _read(settings, row, client, utcnow())


def _resident_row(
    session: Session, request_id: str, resident_id: int, now: datetime
) -> AuthAppSignRequest:
    """The transaction, bound to the first resident who opens it; another's is "not found"."""
    row = session.get(AuthAppSignRequest, request_id[:64])
    if row is None or (row.resident_id is not None and row.resident_id != resident_id):
        raise SignRequestNotFoundError
    if row.signature is None and row.expires_at <= now:
        raise SignRequestExpiredError
    if row.resident_id is None:
        row.resident_id = resident_id
        session.flush()
    return row


def sign_request_page(*, session: Session, request_id: str, resident_id: int) -> SignRequestPage:
    """What the resident's page shows: the business, the title, the digests."""
    row = _resident_row(session, request_id, resident_id, utcnow())
    client = clients.get_client(session=session, client_id=row.client_id)
    return SignRequestPage(
        id=row.id,
        client_name=client.name,
        title=row.title,
        digests=tuple(row.digests),
        return_url=row.return_url,
        expires_at=row.expires_at,
        signed=row.signature is not None,
        signing_request_id=row.signing_request_id,
    )


def prepare_signature(
    *, session: Session, request_id: str, resident_id: int
) -> submission.SigningRequestView:
    """Open the card's signing request for the transaction (the same one when asked
    again); a revoked or expired signing certificate is refused before it exists."""
    now = utcnow()
    row = _resident_row(session, request_id, resident_id, now)
    if row.signature is not None:
        raise SignRequestDoneError
    client = clients.get_client(session=session, client_id=row.client_id)
    key = "aas-" + row.id

    def document() -> bytes:
        return canonical_json(
            signing_document(
                client_name=client.name,
                title=row.title,
                sign_request_id=row.id,
                client_id=client.client_id,
                digests=row.digests,
                submission_key=key,
                prepared_at=now.isoformat(timespec="seconds"),
            )
        )

    view = submission.open_signing_request(
        session=session,
        resident_id=resident_id,
        submission_key=key,
        municipality_code="",
        procedure_code=SIGN_PURPOSE,
        content=document,
        purpose=SIGN_PURPOSE,
        done_path=f"{SIGN_PATH}/{row.id}",
        now=now,
    )
    row.signing_request_id = view.id
    session.flush()
    return view


def prepare_identity_signature(
    *, session: Session, settings: Settings, authorization_id: str, resident_id: int
) -> submission.SigningRequestView:
    """Open the card's signing request that gives a login request the basic 4 info."""
    now = utcnow()
    consent = oidc.consent_view(
        session=session,
        settings=settings,
        authorization_id=authorization_id,
        resident_id=resident_id,
    )
    key = "aai-" + consent.id

    def document() -> bytes:
        return canonical_json(
            identity_document(
                client_name=consent.client.name,
                issuer=oidc.issuer(settings),
                authorization_id=consent.id,
                client_id=consent.client.client_id,
                scopes=consent.scopes,
                labels=consent.labels[1:],
                submission_key=key,
                prepared_at=now.isoformat(timespec="seconds"),
            )
        )

    view = submission.open_signing_request(
        session=session,
        resident_id=resident_id,
        submission_key=key,
        municipality_code="",
        procedure_code=IDENTITY_PURPOSE,
        content=document,
        purpose=IDENTITY_PURPOSE,
        done_path=f"{oidc.CONSENT_PATH}/{consent.id}",
        now=now,
    )
    oidc.attach_signing_request(
        session=session,
        authorization_id=consent.id,
        resident_id=resident_id,
        signing_request_id=view.id,
    )
    return view


def _receipt() -> str:
    return "AA" + secrets.token_hex(10).upper()


class IdentitySigning:
    """Keeps a verified signing certificate on its login request (a
    :class:`~myna.applications.submission.SignedDocumentHandler`)."""

    def on_signed(
        self,
        *,
        session: Session,
        request: submission.SigningRequestView,
        signed: jpki.SignedContent,
        signature: bytes,
        now: datetime,
    ) -> submission.SignedReceipt:
        """The basic 4 info are now readable for the consent page and the business."""
        del signature, now
        oidc.accept_certificate(
            session=session,
            signing_request_id=request.id,
            resident_id=signed.certificate.holder_id,
            certificate_der=signed.certificate_der,
        )
        return submission.SignedReceipt(_receipt(), "received", request.procedure_name)


class TransactionSigning:
    """Keeps the card's signature on the business's signing transaction (a
    :class:`~myna.applications.submission.SignedDocumentHandler`)."""

    def on_signed(
        self,
        *,
        session: Session,
        request: submission.SigningRequestView,
        signed: jpki.SignedContent,
        signature: bytes,
        now: datetime,
    ) -> submission.SignedReceipt:
        """Refused when the transaction expired or was signed already; else kept."""
        row = session.scalars(
            select(AuthAppSignRequest).where(AuthAppSignRequest.signing_request_id == request.id)
        ).one_or_none()
        if row is None or row.resident_id != signed.certificate.holder_id:
            raise SignRequestNotFoundError
        if row.signature is not None:
            raise SignRequestDoneError
        if row.expires_at <= now:
            raise SignRequestExpiredError
        row.signature = signature
        row.content = request.content
        row.certificate_der = signed.certificate_der
        row.signed_at = signed.signing_time or now
        session.flush()
        return submission.SignedReceipt(_receipt(), "received", request.procedure_name)
