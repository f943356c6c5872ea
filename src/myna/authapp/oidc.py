"""The authentication app as an OpenID Provider: discovery, the authorization code flow
with PKCE, ``private_key_jwt``, the ID token and the UserInfo endpoint.

OpenID Connect Core 1.0 §3.1 (authorization code flow) over RFC 6749 §4.1, with PKCE
S256 required (RFC 7636), the client authenticated at the token endpoint by a JWT
signed with its registered key (RFC 7523 §2.2, the platform's
:func:`~myna.platform.oauth.rfc7523.verify_client_assertion`), and ``client_credentials``
(RFC 6749 §4.4) for a business's own calls to the signing API. Tokens are bearer
tokens (RFC 6750), stored as SHA-256 digests. The ID token is signed ES256 by the
app's own key, certified by the government CA like the portal's; its ``sub`` is a
pairwise pseudonym (OIDC Core §8.1).

The basic 4 info (``name address birthdate gender``) are read from the resident's
signing certificate, verified again (chain, validity, revocation) each time they are
shown or provided; each provision to a business goes through the hub, so it appears
in the resident's やりとり履歴.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from cryptography.hazmat.primitives.serialization import Encoding
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from myna import jpki, network
from myna.authapp import clients
from myna.authapp.clients import ClientRead
from myna.authapp.domain import (
    ACCESS_TOKEN_LIFETIME_SECONDS,
    ACR_IDENTITY,
    ACR_LOGIN,
    ALL_SCOPES,
    AUTHORIZATION_LIFETIME_MINUTES,
    BASIC_INFO_SCOPES,
    CODE_LIFETIME_SECONDS,
    ID_TOKEN_LIFETIME_SECONDS,
    MAX_NONCE_LENGTH,
    MAX_REDIRECT_URI_LENGTH,
    MAX_STATE_LENGTH,
    SCOPE_LABELS,
    SEX_LABELS,
    SIGN,
    VERIFIER,
    AccessDeniedError,
    AuthorizationNotFoundError,
    IdentityClaims,
    IdentityNotSignedError,
    InsufficientScopeError,
    InvalidAuthorizationRequestError,
    RedirectError,
    UnsupportedResponseTypeError,
    bounded,
    check_pkce,
    login_scopes,
    needs_signature,
    new_id,
    parse_scopes,
)
from myna.authapp.models import (
    AuthAppAuthorization,
    AuthAppCode,
    AuthAppSeenAssertion,
    AuthAppToken,
)
from myna.platform import i18n
from myna.platform.db import add_once, utcnow
from myna.platform.encoding import b64, b64url_sha256
from myna.platform.errors import N_
from myna.platform.oauth import rfc7515, rfc7523
from myna.platform.oauth.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidTokenError,
    OAuthError,
    UnsupportedGrantTypeError,
)
from myna.platform.oauth.rfc7519 import Remember
from myna.platform.settings import Settings

PREFIX = "/authapp"
DISCOVERY_PATH = PREFIX + "/.well-known/openid-configuration"
AUTHORIZE_PATH = PREFIX + "/authorize"
TOKEN_PATH = PREFIX + "/token"
USERINFO_PATH = PREFIX + "/userinfo"
JWKS_PATH = PREFIX + "/jwks"
SIGN_REQUESTS_PATH = PREFIX + "/api/v1/sign-requests"
CONSENT_PATH = PREFIX + "/consent"
ALGORITHM = "ES256"
CREDENTIAL_CODE = "authapp"
CREDENTIAL_NAME = "デジタル認証アプリ"
# The self-only procedure the partner API's provisions are logged under (本人同意に基づく
# 民間事業者への提供), the item J-LIS holds the basic 4 info in.
PROVISION_PROCEDURE = "partner-disclosure"
BASIC_INFO_ITEM = "basic-info"
GRANT_TYPES = ("authorization_code", "client_credentials")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
CODE_REUSED = N_("the code was already used; the tokens it gave are revoked")


def issuer(settings: Settings) -> str:
    """The issuer identifier: the portal's URL and ``/authapp``."""
    return settings.portal_url.rstrip("/") + PREFIX


def endpoint(settings: Settings, path: str) -> str:
    """An absolute endpoint URL on the portal."""
    return settings.portal_url.rstrip("/") + path


def metadata(settings: Settings) -> dict[str, Any]:
    """The provider metadata (OpenID Connect Discovery 1.0 §3)."""
    return {
        "issuer": issuer(settings),
        "authorization_endpoint": endpoint(settings, AUTHORIZE_PATH),
        "token_endpoint": endpoint(settings, TOKEN_PATH),
        "userinfo_endpoint": endpoint(settings, USERINFO_PATH),
        "jwks_uri": endpoint(settings, JWKS_PATH),
        "scopes_supported": list(ALL_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(rfc7515.SIGNING_ALGORITHMS),
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "acr_values_supported": [ACR_LOGIN, ACR_IDENTITY],
        "claims_supported": [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "name",
            "address",
            "birthdate",
            "gender",
        ],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "ui_locales_supported": ["ja", "en"],
        "service_documentation": settings.portal_url.rstrip("/") + "/api/docs",
    }


# --- the app's signing key ----------------------------------------------------------------


def _credential(session: Session, settings: Settings) -> network.Credential:
    return network.credential_for(
        session=session, settings=settings, code=CREDENTIAL_CODE, name=CREDENTIAL_NAME
    )


def signing_key(*, session: Session, settings: Settings) -> ECKey:
    """The app's private signing key (P-256), with its RFC 7638 thumbprint as ``kid``."""
    key = ECKey.import_key(_credential(session, settings).private_key)
    return ECKey.import_key(key.as_dict(private=True, kid=key.thumbprint()))


def public_jwks(*, session: Session, settings: Settings) -> dict[str, Any]:
    """The JWKS: the public key with its government-CA certificate in ``x5c``."""
    credential = _credential(session, settings)
    key = ECKey.import_key(credential.private_key)
    certificate = b64(credential.certificate.public_bytes(Encoding.DER))
    public = key.as_dict(
        private=False, kid=key.thumbprint(), use="sig", alg=ALGORITHM, x5c=[certificate]
    )
    return {"keys": [public]}


def sign_jwt(*, session: Session, settings: Settings, claims: dict[str, Any]) -> str:
    """A JWT signed by the app (ES256, ``kid`` the key's thumbprint)."""
    key = signing_key(session=session, settings=settings)
    header = {"alg": ALGORITHM, "typ": "JWT", "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=[ALGORITHM])


# --- the authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2) -------------------------


def _redirect(settings: Settings, redirect_uri: str, params: Mapping[str, str | None]) -> str:
    """The redirect with ``iss`` (RFC 9207 §2), appended to any query the URI has."""
    query = {k: v for k, v in params.items() if v is not None}
    query["iss"] = issuer(settings)
    separator = "&" if "?" in redirect_uri else "?"
    return redirect_uri + separator + urlencode(query)


def error_redirect(
    settings: Settings, redirect_uri: str, error: OAuthError, state: str | None
) -> str:
    """RFC 6749 §4.1.2.1: ``error``, a localized ``error_description``, ``state``."""
    return _redirect(
        settings,
        redirect_uri,
        {"error": error.code, "error_description": error.localized(), "state": state},
    )


def start_authorization(*, session: Session, settings: Settings, params: Mapping[str, str]) -> str:
    """Check an authorization request and keep it; the id of the login request.

    The client and its redirect URI are checked first; until both are known an error is
    shown (:class:`InvalidAuthorizationRequestError`), never redirected. Afterwards an
    error goes back to the client (:class:`RedirectError`): response_type ``code`` only,
    no request objects, PKCE S256, ``openid`` and scopes the client may ask for,
    ``state`` and ``nonce`` both required.
    """
    client = clients.find_client(session=session, client_id=params.get("client_id"))
    if client is None:
        raise InvalidAuthorizationRequestError(reason=N_("the client is not registered"))
    redirect_uri = params.get("redirect_uri", "")
    if len(redirect_uri) > MAX_REDIRECT_URI_LENGTH or redirect_uri not in client.redirect_uris:
        raise InvalidAuthorizationRequestError(
            reason=N_("the redirect URI is not registered for this client")
        )
    raw_state = params.get("state")
    state = raw_state if raw_state and len(raw_state) <= MAX_STATE_LENGTH else None
    try:
        if params.get("response_type") != "code":
            raise UnsupportedResponseTypeError
        if "request" in params or "request_uri" in params:
            raise InvalidRequestError(reason=N_("request objects are not supported"))
        challenge = check_pkce(params.get("code_challenge_method"), params.get("code_challenge"))
        scopes = login_scopes(params.get("scope", ""), allowed=client.scopes)
        if bounded(raw_state, "state", MAX_STATE_LENGTH) is None:
            raise InvalidRequestError(reason=N_("state is required"))
        nonce = bounded(params.get("nonce"), "nonce", MAX_NONCE_LENGTH)
        if nonce is None:
            raise InvalidRequestError(reason=N_("nonce is required"))
    except OAuthError as error:
        raise RedirectError(error_redirect(settings, redirect_uri, error, state)) from error
    now = utcnow()
    row = AuthAppAuthorization(
        id=new_id(),
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        scope=" ".join(scopes),
        state=state,
        nonce=nonce,
        code_challenge=challenge,
        created_at=now,
        expires_at=now + timedelta(minutes=AUTHORIZATION_LIFETIME_MINUTES),
    )
    session.add(row)
    session.flush()
    return row.id


# --- the login request, the signature and the consent ------------------------------------


@dataclass(frozen=True, slots=True)
class ConsentView:
    """A login request as its consent page shows it."""

    id: str
    client: ClientRead
    scopes: tuple[str, ...]
    labels: tuple[str, ...]
    needs_signature: bool
    identity: IdentityClaims | None
    signing_request_id: str | None
    redirect_uri: str
    expires_at: datetime

    @property
    def ready(self) -> bool:
        """Whether the resident can consent now (signed, if the 4 info are asked for)."""
        return not self.needs_signature or self.identity is not None

    @property
    def sex_label(self) -> str:
        """The sex as the resident reads it (a message id)."""
        return "" if self.identity is None else SEX_LABELS.get(self.identity.sex, SEX_LABELS[3])


def _authorization(
    session: Session, authorization_id: str, resident_id: int, now: datetime
) -> AuthAppAuthorization:
    """The open login request, bound to ``resident_id`` (the first resident to open it).

    Another resident's is "not found": a login request is one person's. The row is
    locked while it is read, so two residents opening it at once are bound one after the
    other, and the second finds it the first's.
    """
    row = session.get(
        AuthAppAuthorization, authorization_id[:64], with_for_update=True, populate_existing=True
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise AuthorizationNotFoundError
    if row.resident_id is None:
        row.resident_id = resident_id
        session.flush()
    elif row.resident_id != resident_id:
        raise AuthorizationNotFoundError
    return row


def certified_claims(
    *, session: Session, settings: Settings, certificate_der: bytes, at: datetime | None = None
) -> IdentityClaims:
    """The basic 4 info from a signing certificate that verifies now (chain, validity,
    revocation: ``jpki.verify_certificate``), read with ``jpki.read_basic_info``."""
    jpki.verify_certificate(
        session=session,
        settings=settings,
        certificate=certificate_der,
        kind=jpki.CertificateKind.SIGN,
        at=at,
    )
    info = jpki.read_basic_info(certificate_der)
    return IdentityClaims(
        name=info.name, address=info.address, birthdate=info.birth_date, sex=info.sex
    )


def scope_labels(scopes: Sequence[str]) -> tuple[str, ...]:
    """The requested items in the resident's words."""
    return tuple(i18n.gettext(SCOPE_LABELS[scope]) for scope in scopes)


def consent_view(
    *, session: Session, settings: Settings, authorization_id: str, resident_id: int
) -> ConsentView:
    """What the consent page shows: the business, the items and, once signed, the values."""
    now = utcnow()
    row = _authorization(session, authorization_id, resident_id, now)
    client = clients.get_client(session=session, client_id=row.client_id)
    scopes = tuple(row.scope.split())
    identity = None
    if row.certificate_der is not None:
        identity = certified_claims(
            session=session, settings=settings, certificate_der=row.certificate_der
        )
    return ConsentView(
        id=row.id,
        client=client,
        scopes=scopes,
        labels=scope_labels(scopes),
        needs_signature=needs_signature(scopes),
        identity=identity,
        signing_request_id=row.signing_request_id,
        redirect_uri=row.redirect_uri,
        expires_at=row.expires_at,
    )


def attach_signing_request(
    *, session: Session, authorization_id: str, resident_id: int, signing_request_id: str
) -> None:
    """Remember which signing request gives this login request its certificate."""
    row = _authorization(session, authorization_id, resident_id, utcnow())
    row.signing_request_id = signing_request_id
    session.flush()


def accept_certificate(
    *, session: Session, signing_request_id: str, resident_id: int, certificate_der: bytes
) -> AuthAppAuthorization:
    """Keep the verified signing certificate on the login request it was asked for."""
    row = session.scalars(
        select(AuthAppAuthorization).where(
            AuthAppAuthorization.signing_request_id == signing_request_id
        )
    ).one_or_none()
    if row is None:
        raise AuthorizationNotFoundError
    row = _authorization(session, row.id, resident_id, utcnow())
    row.certificate_der = certificate_der
    session.flush()
    return row


def _claim(
    session: Session, model: type[AuthAppAuthorization] | type[AuthAppCode], key: str, now: datetime
) -> bool:
    """Mark a login request or a code used, only if no one else did: one conditional
    UPDATE, so two concurrent answers cannot both succeed."""
    column = AuthAppAuthorization.id if model is AuthAppAuthorization else AuthAppCode.digest
    result = session.execute(
        update(model)
        .where(column == key, model.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return cast("CursorResult[Any]", result).rowcount == 1


def approve(
    *,
    session: Session,
    settings: Settings,
    authorization_id: str,
    resident_id: int,
    auth_time: datetime | None,
) -> str:
    """The resident consents: a single-use code; the redirect (code, state, iss).

    When the basic 4 info are asked for, the resident must have signed, and the
    certificate must still verify.
    """
    now = utcnow()
    row = _authorization(session, authorization_id, resident_id, now)
    scopes = row.scope.split()
    if needs_signature(scopes):
        if row.certificate_der is None:
            raise IdentityNotSignedError
        certified_claims(session=session, settings=settings, certificate_der=row.certificate_der)
    code = secrets.token_urlsafe(32)
    session.add(
        AuthAppCode(
            digest=digest(code),
            client_id=row.client_id,
            resident_id=resident_id,
            redirect_uri=row.redirect_uri,
            scope=row.scope,
            code_challenge=row.code_challenge,
            nonce=row.nonce,
            certificate_der=row.certificate_der,
            auth_time=auth_time or now,
            created_at=now,
            expires_at=now + timedelta(seconds=CODE_LIFETIME_SECONDS),
        )
    )
    if not _claim(session, AuthAppAuthorization, row.id, now):
        raise AuthorizationNotFoundError
    session.flush()
    return _redirect(settings, row.redirect_uri, {"code": code, "state": row.state})


def deny(*, session: Session, settings: Settings, authorization_id: str, resident_id: int) -> str:
    """The resident refuses: ``access_denied`` to the client (RFC 6749 §4.1.2.1)."""
    now = utcnow()
    row = _authorization(session, authorization_id, resident_id, now)
    if not _claim(session, AuthAppAuthorization, row.id, now):
        raise AuthorizationNotFoundError
    return error_redirect(settings, row.redirect_uri, AccessDeniedError(), row.state)


# --- the token endpoint (RFC 6749 §4.1.3, §4.4, RFC 7523 §2.2) --------------------------------


def digest(secret: str) -> str:
    """How codes and tokens are stored: SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _remember(session: Session) -> Remember:
    def record(scope: str, jti: str, until: datetime) -> bool:
        key = hashlib.sha256(f"{scope}\x00{jti}".encode()).hexdigest()
        return add_once(session, AuthAppSeenAssertion(jti=key, expires_at=until))

    return record


def authenticate_client(
    *, session: Session, settings: Settings, params: Mapping[str, str], now: datetime
) -> ClientRead:
    """The registered business that signed ``client_assertion`` (RFC 7523 §3): its
    signature by a registered key, ``aud`` the issuer, not expired, ``jti`` once."""
    if params.get("client_assertion_type") != rfc7523.ASSERTION_TYPE:
        raise InvalidClientError(
            reason=N_("use private_key_jwt (client_assertion_type jwt-bearer)")
        )
    if "client_secret" in params:
        raise InvalidClientError(reason=N_("client secrets are not accepted"))

    def client_keys(client_id: str, kid: str | None) -> Sequence[ECKey | RSAKey]:
        client = clients.find_client(session=session, client_id=client_id)
        if client is None:
            raise rfc7523.unknown_client()
        return client.signing_keys(kid)

    verified = rfc7523.verify_client_assertion(
        params.get("client_assertion", ""),
        audience=rfc7523.issuer_audience(issuer(settings)),
        algorithms=rfc7515.SIGNING_ALGORITHMS,
        client_keys=client_keys,
        remember=_remember(session),
        now=now,
        client_id=params.get("client_id"),
    )
    return clients.get_client(session=session, client_id=verified.client_id)


def token(
    *,
    session: Session,
    settings: Settings,
    client: ClientRead,
    params: Mapping[str, str],
    now: datetime,
) -> dict[str, Any]:
    """The token response (RFC 6749 §5.1) for an authenticated client."""
    grant_type = params.get("grant_type")
    if grant_type == "authorization_code":
        return _exchange_code(session, settings, client, params, now)
    if grant_type == "client_credentials":
        return _client_credentials(session, client, params, now)
    raise UnsupportedGrantTypeError(
        N_("Only authorization_code and client_credentials are supported.")
    )


def _revoke_from_code(session: Session, code_digest: str, now: datetime) -> None:
    session.execute(
        update(AuthAppToken)
        .where(AuthAppToken.code_digest == code_digest, AuthAppToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )


def _exchange_code(
    session: Session,
    settings: Settings,
    client: ClientRead,
    params: Mapping[str, str],
    now: datetime,
) -> dict[str, Any]:
    """A code, its PKCE verifier and redirect URI for a bearer token and an ID token.

    A code is used once; using it again revokes the token it gave (RFC 6749 §4.1.2).
    """
    code = params.get("code", "")
    if not code or len(code) > 128:
        raise InvalidRequestError(reason=N_("code is required"))
    row = session.get(AuthAppCode, digest(code))
    if row is None or row.client_id != client.client_id:
        raise InvalidGrantError(reason=N_("the code is unknown or was issued to another client"))
    if row.used_at is not None:
        _revoke_from_code(session, row.digest, now)
        raise InvalidGrantError(reason=CODE_REUSED)
    if row.expires_at <= now:
        raise InvalidGrantError(reason=N_("the code has expired"))
    if params.get("redirect_uri") != row.redirect_uri:
        raise InvalidGrantError(reason=N_("redirect_uri differs from the authorization request"))
    verifier = params.get("code_verifier", "")
    if not VERIFIER.fullmatch(verifier):
        raise InvalidGrantError(reason=N_("a PKCE code_verifier is required"))
    if not hmac.compare_digest(b64url_sha256(verifier), row.code_challenge):
        raise InvalidGrantError(reason=N_("the PKCE code_verifier does not match"))
    if not _claim(session, AuthAppCode, row.digest, now):
        _revoke_from_code(session, row.digest, now)
        raise InvalidGrantError(reason=CODE_REUSED)
    access_token = secrets.token_urlsafe(32)
    session.add(
        AuthAppToken(
            digest=digest(access_token),
            client_id=client.client_id,
            resident_id=row.resident_id,
            code_digest=row.digest,
            scope=row.scope,
            certificate_der=row.certificate_der,
            created_at=now,
            expires_at=now + timedelta(seconds=ACCESS_TOKEN_LIFETIME_SECONDS),
        )
    )
    session.flush()
    scopes = row.scope.split()
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": issuer(settings),
        "sub": clients.subject(
            settings=settings, client_id=client.client_id, resident_id=row.resident_id
        ),
        "aud": client.client_id,
        "iat": issued,
        "exp": issued + ID_TOKEN_LIFETIME_SECONDS,
        "auth_time": int(row.auth_time.timestamp()),
        "acr": ACR_IDENTITY if needs_signature(scopes) else ACR_LOGIN,
    }
    if row.nonce is not None:
        claims["nonce"] = row.nonce
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_LIFETIME_SECONDS,
        "scope": row.scope,
        "id_token": sign_jwt(session=session, settings=settings, claims=claims),
    }


def _client_credentials(
    session: Session, client: ClientRead, params: Mapping[str, str], now: datetime
) -> dict[str, Any]:
    """A token for the business's own calls (RFC 6749 §4.4): the ``sign`` scope only."""
    scopes = parse_scopes(params.get("scope", ""), allowed=[s for s in client.scopes if s == SIGN])
    access_token = secrets.token_urlsafe(32)
    session.add(
        AuthAppToken(
            digest=digest(access_token),
            client_id=client.client_id,
            resident_id=None,
            scope=" ".join(scopes),
            created_at=now,
            expires_at=now + timedelta(seconds=ACCESS_TOKEN_LIFETIME_SECONDS),
        )
    )
    session.flush()
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_LIFETIME_SECONDS,
        "scope": " ".join(scopes),
    }


# --- bearer tokens (RFC 6750) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenContext:
    """Who may do what with an access token that passed every check."""

    client_id: str
    resident_id: int | None
    scopes: tuple[str, ...]
    certificate_der: bytes | None


def authenticate_bearer(*, session: Session, authorization: str | None, scope: str) -> TokenContext:
    """The token of ``Authorization: Bearer …`` (RFC 6750 §2.1), live and carrying
    ``scope``; else ``invalid_token`` (401) or ``insufficient_scope`` (403)."""
    scheme, _, value = (authorization or "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not _TOKEN.fullmatch(value):
        raise InvalidTokenError(reason=N_("send the access token as “Authorization: Bearer …”"))
    row = session.get(AuthAppToken, digest(value))
    now = utcnow()
    if row is None:
        raise InvalidTokenError(reason=N_("the token is unknown"))
    if row.revoked_at is not None:
        raise InvalidTokenError(reason=N_("the token was revoked"))
    if row.expires_at <= now:
        raise InvalidTokenError(reason=N_("the token has expired"))
    scopes = tuple(row.scope.split())
    if scope not in scopes:
        raise InsufficientScopeError(scope=scope)
    return TokenContext(row.client_id, row.resident_id, scopes, row.certificate_der)


def www_authenticate(error: OAuthError) -> str:
    """The challenge of a refused bearer request (RFC 6750 §3); the body explains it."""
    return f'Bearer realm="authapp", error="{error.code}"'


# --- UserInfo (OIDC Core §5.3) --------------------------------------------------------------


def userinfo(
    *, session: Session, settings: Settings, hub: network.Hub, context: TokenContext
) -> dict[str, Any]:
    """The resident's claims for the token's scopes: ``sub``, and the basic 4 info read
    from the signing certificate (verified now), the provision logged through the hub."""
    if context.resident_id is None:
        raise InvalidTokenError(reason=N_("the token was not issued for a resident"))
    answer: dict[str, Any] = {
        "sub": clients.subject(
            settings=settings, client_id=context.client_id, resident_id=context.resident_id
        )
    }
    wanted = [scope for scope in context.scopes if scope in BASIC_INFO_SCOPES]
    if not wanted:
        return answer
    if context.certificate_der is None:
        raise InvalidTokenError(reason=N_("the token carries no signing certificate"))
    try:
        identity = certified_claims(
            session=session, settings=settings, certificate_der=context.certificate_der
        )
    except jpki.VerificationError as exc:
        raise InvalidTokenError(
            reason=N_("the resident's signing certificate is no longer valid")
        ) from exc
    client = clients.get_client(session=session, client_id=context.client_id)
    record_provision(session=session, hub=hub, resident_id=context.resident_id, client=client)
    return {**answer, **identity.claims(wanted)}


def record_provision(
    *, session: Session, hub: network.Hub, resident_id: int, client: ClientRead
) -> None:
    """Log the provision of the basic 4 info to ``client`` in the resident's やりとり履歴.

    As the partner API does: through the hub, under the self-only procedure 本人同意に基づく
    民間事業者への提供, with the business's name in the purpose. The hub writes the log
    in this transaction; a provision it cannot log is not made.
    """
    network.request_self_information(
        session=session,
        hub=hub,
        resident_id=resident_id,
        items=[BASIC_INFO_ITEM],
        procedure=PROVISION_PROCEDURE,
        purpose=f"{client.name}への基本4情報の提供（デジタル認証アプリ・本人の同意）"[:200],
    )


def forget_expired(*, session: Session) -> None:
    """Housekeeping: login requests, codes and tokens an hour past their lifetime (and
    the certificates they kept), old assertion ids."""
    now = utcnow()
    cutoff = now - timedelta(hours=1)
    session.execute(delete(AuthAppSeenAssertion).where(AuthAppSeenAssertion.expires_at < now))
    session.execute(delete(AuthAppAuthorization).where(AuthAppAuthorization.expires_at < cutoff))
    session.execute(delete(AuthAppCode).where(AuthAppCode.expires_at < cutoff))
    session.execute(delete(AuthAppToken).where(AuthAppToken.expires_at < cutoff))
    session.flush()
