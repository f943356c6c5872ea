"""The municipality filing API's use cases (申請データ取得API): clients, tokens, checks, export.

A municipality's system is an OAuth 2.0 client that authenticates with ``private_key_jwt``
(`RFC 7523 §2.2`_, `OpenID Connect Core §9`_): it signs a short JWT with its ES256 key
and posts it to the token endpoint with ``grant_type=client_credentials``
(`RFC 6749 §4.4`_). The checks are the platform's, those of `RFC 7523 §3`_
(:mod:`myna.platform.oauth.rfc7523`): ``iss`` and ``sub`` are the client_id, ``aud`` is
the token endpoint (this server publishes no issuer identifier), ``exp`` is present and
near, and the ``jti`` is accepted once. What comes back is a random bearer token
(`RFC 6750`_) for ten minutes, of which only the SHA-256 digest is stored.

The signature check of an application (:func:`check_signature`) and the export package
(:func:`export_package`) are shared by the back-office pages and the API.

.. _`RFC 7523 §2.2`: https://www.rfc-editor.org/rfc/rfc7523#section-2.2
.. _`RFC 7523 §3`: https://www.rfc-editor.org/rfc/rfc7523#section-3
.. _`OpenID Connect Core §9`: https://openid.net/specs/openid-connect-core-1_0.html#ClientAuthentication
.. _`RFC 6749 §4.4`: https://www.rfc-editor.org/rfc/rfc6749#section-4.4
.. _`RFC 6750`: https://www.rfc-editor.org/rfc/rfc6750
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import secrets
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from myna import jpki, reference
from myna.applications import service as applications
from myna.applications.service import ApplicationRead
from myna.office.filing_models import (
    MunicipalityApiAssertion,
    MunicipalityApiClient,
    MunicipalityApiToken,
)
from myna.platform.attributes import from_attributes
from myna.platform.db import add_once, utcnow
from myna.platform.errors import N_, MynaError, NotFoundError
from myna.platform.i18n import gettext as _
from myna.platform.oauth import rfc7518, rfc7523
from myna.platform.oauth.errors import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    InvalidTokenError,
    UnsupportedGrantTypeError,
)
from myna.platform.oauth.rfc7523 import ASSERTION_TYPE
from myna.platform.params import EARLIEST_DATE, LATEST_DATE
from myna.platform.settings import Settings

TOKEN_PATH = "/api/municipality/token"  # noqa: S105 - a URL path, not a secret
GRANT_TYPE = "client_credentials"
SCOPE = "applications"
TOKEN_LIFETIME = timedelta(minutes=10)
ALGORITHM = "ES256"
MAX_NAME_LENGTH = 200


# --- errors --------------------------------------------------------------------------
# The token endpoint answers the platform's OAuth errors (myna.platform.oauth.errors), in
# its own words where those are more helpful to a municipality's developer.

INCOMPLETE_REQUEST = N_(
    "The token request needs grant_type, client_assertion_type "
    "(urn:ietf:params:oauth:client-assertion-type:jwt-bearer) and client_assertion."
)
ONLY_CLIENT_CREDENTIALS = N_("Only grant_type=client_credentials is supported.")
ONLY_APPLICATIONS_SCOPE = N_("The only scope is “applications”.")
TOKEN_REFUSED = N_("The access token is missing, unknown or expired. Get a new one.")


class NaiveSinceError(MynaError):
    code = "invalid_since"
    message = N_(
        "since must be an ISO 8601 time with its time zone, "
        "e.g. 2026-11-28T09:00:00+09:00 or 2026-11-28T00:00:00Z."
    )
    status_code = 422


class SinceOutOfRangeError(MynaError):
    code = "invalid_since"
    message = N_("since must be a time from {earliest} to {latest}.")
    status_code = 422

    def __init__(self) -> None:
        super().__init__(earliest=EARLIEST_DATE.isoformat(), latest=LATEST_DATE.isoformat())


class InvalidClientKeyError(MynaError):
    code = "invalid_client_key"
    message = N_(
        "The key must be an EC P-256 public key as a JWK (kty EC, crv P-256, x, y) "
        "without its private part."
    )


class InvalidClientNameError(MynaError):
    code = "invalid_client_name"
    message = N_("The client name must not be empty and at most {limit} characters.")


class ApiClientNotFoundError(NotFoundError):
    code = "api_client_not_found"
    message = N_("No API client with this client ID exists.")


# --- clients -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApiClientRead:
    """A registered API client (no key material beyond the public JWK)."""

    client_id: str
    municipality_code: str
    name: str
    public_jwk: dict[str, Any]
    enabled: bool
    created_at: datetime


def _client_read(row: MunicipalityApiClient) -> ApiClientRead:
    return from_attributes(ApiClientRead, row, public_jwk=dict(row.public_jwk))


def _public_key(jwk: dict[str, Any]) -> ECKey | RSAKey:
    """The client's ES256 verification key: the platform's rule for keys, EC only."""
    try:
        return rfc7518.public_key(jwk, key_types=("EC",))
    except rfc7518.UnacceptableKeyError as exc:
        raise InvalidClientKeyError from exc


def register_client(
    *, session: Session, municipality_code: str, name: str, public_jwk: dict[str, Any]
) -> ApiClientRead:
    """Register a municipality's API client with its ES256 public JWK."""
    municipality = reference.get_municipality(session=session, code=municipality_code)
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidClientNameError(limit=MAX_NAME_LENGTH)
    key = _public_key(public_jwk)
    row = MunicipalityApiClient(
        client_id=f"muni-{municipality.code}-{secrets.token_hex(8)}",
        municipality_code=municipality.code,
        name=name,
        public_jwk=key.as_dict(private=False),
        enabled=True,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return _client_read(row)


def generate_client(
    *, session: Session, municipality_code: str, name: str
) -> tuple[ApiClientRead, dict[str, Any]]:
    """Create a P-256 key pair, register its public part; the private JWK is returned once."""
    key = ECKey.generate_key("P-256", private=True)
    client = register_client(
        session=session,
        municipality_code=municipality_code,
        name=name,
        public_jwk=key.as_dict(private=False),
    )
    private = {**key.as_dict(private=True), "alg": ALGORITHM, "kid": client.client_id}
    return client, private


def client_names(
    *, session: Session, client_ids: Sequence[str], municipality_code: str
) -> dict[str, str]:
    """The names of the municipality's own API clients among ``client_ids``."""
    if not client_ids:
        return {}
    rows = session.execute(
        select(MunicipalityApiClient.client_id, MunicipalityApiClient.name).where(
            MunicipalityApiClient.client_id.in_(client_ids),
            MunicipalityApiClient.municipality_code == municipality_code,
        )
    )
    return {row.client_id: row.name for row in rows}


def set_client_enabled(*, session: Session, client_id: str, enabled: bool) -> ApiClientRead:
    """Turn a client off (its tokens stop working at once) or on again."""
    row = session.get(MunicipalityApiClient, client_id)
    if row is None:
        raise ApiClientNotFoundError
    row.enabled = enabled
    session.flush()
    return _client_read(row)


# --- tokens --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """An access token response (RFC 6749 §5.1)."""

    access_token: str
    expires_in: int
    scope: str
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 scheme name


@dataclass(frozen=True, slots=True)
class ApiCaller:
    """Who is calling the API with a valid bearer token."""

    client_id: str
    municipality_code: str

    @property
    def actor(self) -> str:
        return f"api:{self.client_id}"


def token_endpoint(settings: Settings) -> str:
    """The token endpoint's URL: the ``aud`` every client assertion must name."""
    return settings.portal_url.rstrip("/") + TOKEN_PATH


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _client_keys(session: Session, client_id: str) -> list[ECKey | RSAKey]:
    """The enabled client's registered key, for :func:`rfc7523.verify_client_assertion`."""
    row = session.get(MunicipalityApiClient, client_id)
    if row is None:
        raise rfc7523.unknown_client()
    if not row.enabled:
        raise InvalidClientError(reason=N_("the client is disabled"))
    return [_public_key(row.public_jwk)]


def _remember(session: Session, client_id: str, jti: str, until: datetime) -> bool:
    """Record the client's ``jti`` until ``until``; False if it was used before."""
    return add_once(
        session, MunicipalityApiAssertion(client_id=client_id, jti=jti, expires_at=until)
    )


def issue_token(
    *,
    session: Session,
    settings: Settings,
    grant_type: str,
    client_assertion_type: str,
    client_assertion: str,
    scope: str = "",
) -> IssuedToken:
    """Authenticate a client by its signed assertion and issue a 10-minute bearer token."""
    if not grant_type or not client_assertion_type or not client_assertion:
        raise InvalidRequestError(INCOMPLETE_REQUEST)
    if grant_type != GRANT_TYPE:
        raise UnsupportedGrantTypeError(ONLY_CLIENT_CREDENTIALS)
    if client_assertion_type != ASSERTION_TYPE:
        raise InvalidRequestError(INCOMPLETE_REQUEST)
    if scope and scope.split() != [SCOPE]:
        raise InvalidScopeError(ONLY_APPLICATIONS_SCOPE)
    now = utcnow()
    _forget_expired(session, now)
    verified = rfc7523.verify_client_assertion(
        client_assertion.strip(),
        audience=rfc7523.token_endpoint_audience(token_endpoint(settings)),
        algorithms=[ALGORITHM],
        client_keys=lambda client_id, _kid: _client_keys(session, client_id),
        remember=lambda client_id, jti, until: _remember(session, client_id, jti, until),
        now=now,
    )
    row = session.get(MunicipalityApiClient, verified.client_id)  # loaded by _client_keys
    if row is None:
        raise rfc7523.unknown_client()
    token = secrets.token_urlsafe(32)
    session.add(
        MunicipalityApiToken(
            token_digest=_digest(token),
            client_id=row.client_id,
            municipality_code=row.municipality_code,
            scope=SCOPE,
            created_at=now,
            expires_at=now + TOKEN_LIFETIME,
        )
    )
    session.flush()
    return IssuedToken(
        access_token=token, expires_in=int(TOKEN_LIFETIME.total_seconds()), scope=SCOPE
    )


def _forget_expired(session: Session, now: datetime) -> None:
    """Used jtis past their assertion's expiry can no longer be replayed; old tokens neither."""
    # Each is kept until the skew no longer lets its assertion through (rfc7523).
    session.execute(
        delete(MunicipalityApiAssertion).where(MunicipalityApiAssertion.expires_at < now)
    )
    session.execute(delete(MunicipalityApiToken).where(MunicipalityApiToken.expires_at < now))


def authenticate(*, session: Session, token: str | None) -> ApiCaller:
    """The caller of a bearer token that is known, unexpired and of an enabled client."""
    if not token:
        raise InvalidTokenError(TOKEN_REFUSED)
    row = session.get(MunicipalityApiToken, _digest(token))
    if row is None or row.expires_at <= utcnow():
        raise InvalidTokenError(TOKEN_REFUSED)
    client = session.get(MunicipalityApiClient, row.client_id)
    if client is None or not client.enabled:
        raise InvalidTokenError(TOKEN_REFUSED)
    return ApiCaller(client_id=row.client_id, municipality_code=row.municipality_code)


# --- the signature of a filed application ----------------------------------------------

SIGNATURE_LABELS = {
    "valid": N_("Valid"),
    "revoked": N_("Revoked"),
    "expired": N_("Certificate expired"),
    "not_yet_valid": N_("Not yet valid"),
}
_INVALID_LABEL = N_("Invalid")


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """The signature and certificate of an application as checked at ``checked_at``.

    ``status`` is ``valid`` or the JPKI verification code (``revoked``, ``expired``,
    ``bad_signature`` ...). The certificate details come from the verification when it
    succeeds, else from the CA's issuance record, so a revoked one still shows its holder.
    """

    status: str
    signer_name: str
    certificate_serial: str
    not_before: datetime | None
    not_after: datetime | None
    signing_time: datetime | None
    revoked_at: datetime | None
    checked_at: datetime

    @property
    def valid(self) -> bool:
        return self.status == "valid"

    @property
    def label(self) -> str:
        return _(SIGNATURE_LABELS.get(self.status, _INVALID_LABEL))

    @property
    def message(self) -> str:
        """Why the check failed, in the reader's language ("" when valid)."""
        return "" if self.valid else jpki.VerificationError(self.status).localized()

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat(timespec="seconds")

        return {
            "status": self.status,
            "valid": self.valid,
            "signer_name": self.signer_name,
            "certificate_serial": self.certificate_serial,
            "not_before": iso(self.not_before),
            "not_after": iso(self.not_after),
            "signing_time": iso(self.signing_time),
            "revoked_at": iso(self.revoked_at),
            "checked_at": iso(self.checked_at),
        }


def check_signature(
    *, session: Session, settings: Settings, application: ApplicationRead
) -> SignatureCheck:
    """Verify the application's CMS signature and signing certificate now (署名検証)."""
    content, signature = applications.signed_parts(session=session, application_id=application.id)
    now = utcnow()
    try:
        signed = jpki.verify_detached_signature(
            session=session, settings=settings, signature=signature, content=content
        )
    except jpki.VerificationError as error:
        record = _certificate_record(session, application.certificate_serial)
        return SignatureCheck(
            status=error.code,
            signer_name=application.signer_name,
            certificate_serial=application.certificate_serial,
            not_before=None if record is None else record.not_before,
            not_after=None if record is None else record.not_after,
            signing_time=application.signed_at,
            revoked_at=None if record is None else record.revoked_at,
            checked_at=now,
        )
    return SignatureCheck(
        status="valid",
        signer_name=signed.basic_info.name,
        certificate_serial=format(signed.certificate.serial, "x"),
        not_before=signed.certificate.not_before,
        not_after=signed.certificate.not_after,
        signing_time=signed.signing_time,
        revoked_at=None,
        checked_at=now,
    )


def _certificate_record(session: Session, serial: str) -> jpki.CertificateRecord | None:
    try:
        return jpki.certificate_status(session=session, serial=int(serial, 16))
    except (ValueError, jpki.CertificateNotFoundError):
        return None


# --- the export package ----------------------------------------------------------------

README = """Myna e-application export: {receipt}

application.json  the application exactly as the applicant signed it (canonical JSON)
application.p7s   the detached CMS (PKCS #7) signature over application.json, DER
ca.pem            the Myna JPKI root CA and signing CA certificates
attachments/      the attached files; their SHA-256 digests are inside application.json
manifest.json     receipt number, procedure, municipality, status, history, attachments
                  with SHA-256, and the signature check when this package was made

Verify the signature with OpenSSL:

  openssl cms -verify -binary -inform DER -in application.p7s \\
      -content application.json -CAfile ca.pem -purpose any -out /dev/null

"Verification successful" means application.json is unchanged and was signed with a
signing certificate issued by the Myna JPKI. OpenSSL does not check revocation here;
manifest.json records the revocation status at export time. To check against the
current CRL, fetch /jpki/crl/sign.crl from the portal, then (openssl cms takes no
-CRLfile: the CRL goes into the CA file)

  openssl crl -inform DER -in sign.crl -out sign-crl.pem
  cat ca.pem sign-crl.pem > ca-crl.pem
  openssl cms -verify -binary -inform DER -in application.p7s \\
      -content application.json -CAfile ca-crl.pem -crl_check -purpose any -out /dev/null

A revoked signing certificate then fails with "certificate revoked".

Check an attachment: sha256sum attachments/<name> and compare with application.json.
"""


def _safe_names(files: list[applications.AttachmentInfo]) -> dict[int, str]:
    """A unique, flat file name per attachment inside the zip (no paths)."""
    names: dict[int, str] = {}
    used: set[str] = set()
    for info in files:
        base = posixpath.basename(info.name.replace("\\", "/")) or f"attachment-{info.id}"
        name = base if base not in used else f"{info.id}-{base}"
        used.add(name)
        names[info.id] = name
    return names


def export_package(
    *, session: Session, settings: Settings, receipt_number: str, municipality_code: str
) -> tuple[str, bytes]:
    """The export zip of one application of the municipality: its name and bytes."""
    application = applications.get_application(
        session=session, receipt_number=receipt_number, municipality_code=municipality_code
    )
    content, signature = applications.signed_parts(session=session, application_id=application.id)
    check = check_signature(session=session, settings=settings, application=application)
    files = applications.attachments(session=session, application_id=application.id)
    names = _safe_names(files)
    events = applications.history(session=session, application_id=application.id)
    manifest = {
        "receipt_number": application.receipt_number,
        "procedure": {"code": application.procedure_code, "name": application.procedure_name},
        "municipality": application.municipality_code,
        "status": application.status.value,
        "submitted_at": application.submitted_at.isoformat(timespec="seconds"),
        "history": [
            {
                "kind": e.kind,
                "status": None if e.status is None else e.status.value,
                "comment": e.comment,
                "actor": e.actor,
                "visible_to_resident": e.visible_to_resident,
                "at": e.created_at.isoformat(timespec="seconds"),
            }
            for e in events
        ],
        "attachments": [
            {
                "file": f"attachments/{names[f.id]}",
                "name": f.name,
                "media_type": f.media_type,
                "size": f.size,
                "sha256": f.sha256,
            }
            for f in files
        ],
        "application_sha256": hashlib.sha256(content).hexdigest(),
        "verification": check.to_dict(),
    }
    ca_pem = b"".join(
        x509.load_der_x509_certificate(
            jpki.ca_certificate(session=session, kind=kind)
        ).public_bytes(Encoding.PEM)
        for kind in ("root", "sign")
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("application.json", content)
        archive.writestr("application.p7s", signature)
        archive.writestr("ca.pem", ca_pem)
        for info in files:
            data = applications.attachment_data(
                session=session, application_id=application.id, attachment_id=info.id
            )
            archive.writestr(f"attachments/{names[info.id]}", data)
        archive.writestr(
            "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
        )
        archive.writestr("README.txt", README.format(receipt=application.receipt_number))
    return f"{application.receipt_number}.zip", buffer.getvalue()


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 §4.3, RFC 8187)."""
    fallback = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in name)
    return f"attachment; filename=\"{fallback or 'file'}\"; filename*=UTF-8''{quote(name, safe='')}"
