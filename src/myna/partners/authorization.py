"""The authorization server's use cases (FAPI 2.0 Security Profile, authorization code flow).

A client pushes its request (PAR, RFC 9126), the browser opens it at the authorization
endpoint, the resident consents (:mod:`myna.partners.consents` calls :func:`approve` or
:func:`deny`), the client exchanges the single-use code for a DPoP-bound access token
and an ID token (RFC 6749 §4.1.3, RFC 7636, RFC 9449 §5), and resource APIs check the
token with :func:`authenticate_resource_request`. Secrets (codes, tokens) are stored as
SHA-256 digests only.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, CursorResult, Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from myna.partners import discovery
from myna.partners.domain import (
    ACCESS_TOKEN_LIFETIME_SECONDS,
    CODE_LIFETIME_SECONDS,
    OPENID,
    PAR_LIFETIME_SECONDS,
    SIGNING_ALGORITHMS,
    PartnerError,
    RegisteredClient,
    UnknownScopeError,
    pairwise_subject,
    parse_scopes,
)
from myna.partners.dpop import remembering
from myna.partners.models import AccessToken, AuthorizationCode, Consent, PushedRequest, SeenProof
from myna.partners.organizations import get_client
from myna.platform import i18n
from myna.platform.db import utcnow
from myna.platform.encoding import b64url_sha256
from myna.platform.errors import N_, MynaError, NotFoundError
from myna.platform.oauth import rfc7638, rfc9126, rfc9449
from myna.platform.oauth.errors import (
    InvalidDPoPProofError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    InvalidTokenError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from myna.platform.oauth.rfc9126 import PushedAuthorization
from myna.platform.settings import Settings

# After the browser opens a pushed request, the resident may need to log in with the
# card first; the pending authorization waits this long for the consent.
PENDING_LIFETIME = timedelta(minutes=10)
ID_TOKEN_LIFETIME_SECONDS = 300
# RFC 7636 §4.1: 43 to 128 unreserved characters; the S256 challenge is 43 (§4.2).
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_TOKEN = re.compile(r"[A-Za-z0-9._~+/-]+=*")
MAX_STATE_LENGTH = 500
MAX_NONCE_LENGTH = 255
MAX_REDIRECT_URI_LENGTH = 500


# --- errors (the OAuth ones are the platform's: myna.platform.oauth.errors) ------------

NOT_APPROVED = N_("This organisation is not approved to use the API.")
CONSENT_WITHDRAWN = N_("the resident withdrew the consent")
CODE_REUSED = N_("the code was already used; the tokens it gave are revoked")
ONLY_AUTHORIZATION_CODE = N_("Only the authorization_code grant is supported.")


class PendingAuthorizationNotFoundError(NotFoundError):
    code = "authorization_request_not_found"
    message = N_(
        "This authorization request does not exist or has ended. "
        "Please start again from the service you came from."
    )


class InvalidAuthorizationRequestError(PartnerError):
    """Shown to the resident at the authorization endpoint; never redirected."""

    code = "invalid_authorization_request"
    message = N_(
        "This authorization request cannot be used: {reason}. "
        "Please start again from the service you came from."
    )
    status_code = 400

    def localized(self) -> str:
        # A resident reads this page: the reason is a message id of its own.
        reason = i18n.gettext(str(self.params.get("reason", "")))
        return i18n.gettext(self.message).format(reason=reason)


# --- values ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingAuthorization:
    """A pushed request the browser has opened, waiting for the resident's consent."""

    pending_id: str
    client: RegisteredClient
    scopes: tuple[str, ...]
    redirect_uri: str
    state: str | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenContext:
    """Who may get what with an access token that passed every check."""

    client_id: str
    resident_id: int
    consent_id: str
    scopes: tuple[str, ...]


def digest(secret: str) -> str:
    """How codes and tokens are stored: SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _bounded(params: Mapping[str, str], name: str, limit: int) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if len(value) > limit:
        raise InvalidRequestError(reason=N_("{name} is too long"), name=name)
    return value


def require_active(client: RegisteredClient) -> RegisteredClient:
    """The client, if its organisation is approved; else ``unauthorized_client``."""
    if not client.is_active:
        raise UnauthorizedClientError(NOT_APPROVED)
    return client


# --- PAR (RFC 9126 §2) -------------------------------------------------------------------


def push_request(
    *,
    session: Session,
    client: RegisteredClient,
    params: Mapping[str, str],
    dpop_jkt: str | None = None,
) -> PushedAuthorization:
    """Store an authenticated client's authorization request; return its request_uri.

    Per `Section 2.1`_ the parameters are those of RFC 6749 §4.1.1, checked now: a
    ``request_uri`` is refused, the redirect URI must be registered (exact string), PKCE
    S256 is required (FAPI 2.0 §5.3.2.2) and scopes must be approved for the client.
    ``dpop_jkt`` binds the code to a key (RFC 9449 §10), from the parameter or a DPoP
    header's proof.

    .. _`Section 2.1`: https://www.rfc-editor.org/rfc/rfc9126#section-2.1
    """
    require_active(client)
    rfc9126.check_pushed_parameters(params, client_id=client.client_id)
    if "request" in params:
        raise InvalidRequestError(reason=N_("request objects are not supported"))
    if params.get("response_type") != "code":
        raise InvalidRequestError(reason=N_("response_type must be code"))
    redirect_uri = _bounded(params, "redirect_uri", MAX_REDIRECT_URI_LENGTH)
    if redirect_uri is None or redirect_uri not in client.redirect_uris:
        raise InvalidRequestError(reason=N_("redirect_uri is not registered for this client"))
    method = params.get("code_challenge_method")
    challenge = params.get("code_challenge", "")
    if method != "S256" or not _CHALLENGE.fullmatch(challenge):
        raise InvalidRequestError(reason=N_("PKCE with code_challenge_method S256 is required"))
    try:
        scopes = parse_scopes(params.get("scope", "")[:1000])
    except UnknownScopeError as exc:
        raise InvalidScopeError(reason=N_("unknown scope")) from exc
    allowed = {OPENID, *client.approved_scopes}
    if not scopes:
        raise InvalidScopeError(reason=N_("scope is required"))
    if not set(scopes) <= allowed:
        raise InvalidScopeError(reason=N_("beyond what this organisation was approved for"))
    bound = params.get("dpop_jkt") or None
    if bound is not None and dpop_jkt is not None and bound != dpop_jkt:
        raise InvalidDPoPProofError(reason=N_("dpop_jkt does not match the DPoP proof"))
    jkt = bound or dpop_jkt
    if jkt is not None and not rfc7638.is_thumbprint(jkt):
        raise InvalidRequestError(reason=N_("dpop_jkt is not a JWK thumbprint"))
    now = utcnow()
    pending_id = secrets.token_urlsafe(32)
    stored = {
        "scope": " ".join(scopes),
        "redirect_uri": redirect_uri,
        "state": _bounded(params, "state", MAX_STATE_LENGTH),
        "nonce": _bounded(params, "nonce", MAX_NONCE_LENGTH),
        "code_challenge": challenge,
        "opened": False,
    }
    session.add(
        PushedRequest(
            id=pending_id,
            client_id=client.client_id,
            parameters=stored,
            dpop_jkt=jkt,
            created_at=now,
            expires_at=now + timedelta(seconds=PAR_LIFETIME_SECONDS),
        )
    )
    session.flush()
    return PushedAuthorization(rfc9126.request_uri(pending_id), PAR_LIFETIME_SECONDS)


# --- the authorization endpoint (RFC 9126 §4) -------------------------------------------


def open_request(*, session: Session, client_id: str | None, request_uri: str | None) -> str:
    """Accept a pushed request at the authorization endpoint; return its pending id.

    Only pushed requests are accepted (FAPI 2.0 §5.3.2.2 item 2); the client_id must be
    the one that pushed it (`Section 4`_). Errors are shown here, never redirected: the
    redirect URI is not known to be the client's until the request is found.

    .. _`Section 4`: https://www.rfc-editor.org/rfc/rfc9126#section-4
    """
    if not request_uri or not client_id:
        raise InvalidAuthorizationRequestError(reason=N_("only pushed requests are accepted"))
    reference = rfc9126.reference(request_uri)
    if reference is None:
        raise InvalidAuthorizationRequestError(reason=N_("the request address is not one of ours"))
    row = session.get(PushedRequest, reference)
    if row is None or row.client_id != client_id:
        raise InvalidAuthorizationRequestError(reason=N_("the request is unknown"))
    now = utcnow()
    if row.used_at is not None or row.parameters.get("opened") or row.expires_at <= now:
        raise InvalidAuthorizationRequestError(
            reason=N_("the request has expired or was already used")
        )
    _require_client(session, row.client_id)
    row.parameters = {**row.parameters, "opened": True}
    row.expires_at = now + PENDING_LIFETIME
    return row.id


def _require_client(session: Session, client_id: str) -> RegisteredClient:
    client = get_client(session=session, client_id=client_id)
    if not client.is_active:
        raise InvalidAuthorizationRequestError(reason=N_("the organisation is not approved"))
    return client


def _pending_row(session: Session, pending_id: str, resident_id: int) -> PushedRequest:
    """The opened, unexpired, unused request, bound to the first resident who opens it.

    Another resident's is "not found", exactly as an unknown id: the request was pushed
    for one person's browser, and from the moment that person sees its consent page no
    one else may read, answer or refuse it. The row is locked while it is bound, so two
    residents opening it at once cannot both have it.
    """
    row = session.get(PushedRequest, pending_id[:64], with_for_update=True)
    if (
        row is None
        or not row.parameters.get("opened")
        or row.used_at is not None
        or row.expires_at <= utcnow()
    ):
        raise PendingAuthorizationNotFoundError
    holder = row.parameters.get("resident_id")
    if holder is None:
        row.parameters = {**row.parameters, "resident_id": resident_id}
        session.flush()
    elif holder != resident_id:
        raise PendingAuthorizationNotFoundError
    return row


def pending_request(*, session: Session, pending_id: str, resident_id: int) -> PendingAuthorization:
    """The opened, unexpired, unused request waiting for ``resident_id``'s consent; else 404.

    The first resident to open it is the only one who ever gets it (see :func:`_pending_row`).
    """
    row = _pending_row(session, pending_id, resident_id)
    client = get_client(session=session, client_id=row.client_id)
    if not client.is_active:
        raise PendingAuthorizationNotFoundError
    return PendingAuthorization(
        pending_id=row.id,
        client=client,
        scopes=tuple(row.parameters["scope"].split()),
        redirect_uri=row.parameters["redirect_uri"],
        state=row.parameters.get("state"),
        expires_at=row.expires_at,
    )


def _claim(
    session: Session,
    model: type[PushedRequest] | type[AuthorizationCode],
    where: ColumnElement[bool],
    now: datetime,
) -> bool:
    """Mark a request or code used, only if no one else did: one conditional UPDATE, so
    two concurrent redemptions cannot both succeed (the row lock decides)."""
    result = session.execute(
        update(model)
        .where(where, model.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return cast("CursorResult[Any]", result).rowcount == 1


def _redirect(settings: Settings, redirect_uri: str, params: dict[str, str | None]) -> str:
    """The redirect with ``iss`` (RFC 9207 §2), appended to any query the URI has."""
    query = {k: v for k, v in params.items() if v is not None}
    query["iss"] = discovery.issuer(settings)
    separator = "&" if "?" in redirect_uri else "?"
    return redirect_uri + separator + urlencode(query)


def approve(
    *,
    session: Session,
    settings: Settings,
    pending_id: str,
    resident_id: int,
    consent_id: str,
    scopes: list[str] | tuple[str, ...],
    auth_time: datetime | None = None,
) -> str:
    """Issue the single-use code for a consent; return the redirect (code, state, iss).

    ``scopes`` are those the resident consented to: a subset of the request's;
    ``auth_time`` is when the resident logged in with the card (the ID token's).
    """
    pending = pending_request(session=session, pending_id=pending_id, resident_id=resident_id)
    granted = tuple(dict.fromkeys(scopes))
    if not granted or not set(granted) <= set(pending.scopes):
        raise InvalidScopeError(reason=N_("the consent goes beyond the request"))
    consent = session.get(Consent, consent_id)
    if (
        consent is None
        or consent.resident_id != resident_id
        or consent.client_id != pending.client.client_id
        or consent.revoked_at is not None
    ):
        raise PendingAuthorizationNotFoundError
    row = _pending_row(session, pending_id, resident_id)
    now = utcnow()
    code = secrets.token_urlsafe(32)
    session.add(
        AuthorizationCode(
            digest=digest(code),
            client_id=pending.client.client_id,
            resident_id=resident_id,
            consent_id=consent_id,
            redirect_uri=pending.redirect_uri,
            scope=" ".join(granted),
            code_challenge=row.parameters["code_challenge"],
            nonce=row.parameters.get("nonce"),
            dpop_jkt=row.dpop_jkt,
            auth_time=auth_time,
            created_at=now,
            expires_at=now + timedelta(seconds=CODE_LIFETIME_SECONDS),
        )
    )
    if not _claim(session, PushedRequest, PushedRequest.id == row.id, now):
        raise PendingAuthorizationNotFoundError
    session.flush()
    return _redirect(settings, pending.redirect_uri, {"code": code, "state": pending.state})


def deny(*, session: Session, settings: Settings, pending_id: str, resident_id: int) -> str:
    """``resident_id`` refuses: the redirect with ``access_denied`` (RFC 6749 §4.1.2.1)."""
    pending = pending_request(session=session, pending_id=pending_id, resident_id=resident_id)
    if not _claim(session, PushedRequest, PushedRequest.id == pending.pending_id, utcnow()):
        raise PendingAuthorizationNotFoundError
    return _redirect(
        settings, pending.redirect_uri, {"error": "access_denied", "state": pending.state}
    )


# --- the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 9449 §5) --------------------


def revoke_consent_tokens(*, session: Session, consent_id: str) -> int:
    """Revoke every live token of a consent (and burn its unused codes); the count revoked."""
    now = utcnow()
    session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.consent_id == consent_id, AuthorizationCode.used_at.is_(None))
        .values(used_at=now)
    )
    tokens = session.scalars(
        select(AccessToken).where(
            AccessToken.consent_id == consent_id, AccessToken.revoked_at.is_(None)
        )
    ).all()
    for token in tokens:
        token.revoked_at = now
    session.flush()
    return len(tokens)


def _live_consent(session: Session, consent_id: str, client_id: str) -> Consent | None:
    consent = session.get(Consent, consent_id)
    if consent is None or consent.client_id != client_id or consent.revoked_at is not None:
        return None
    return consent


def exchange_code(
    *,
    session: Session,
    settings: Settings,
    client: RegisteredClient,
    params: Mapping[str, str],
    proof: rfc9449.DPoPProof,
) -> dict[str, Any]:
    """The token response for a code, a PKCE verifier and a DPoP proof (RFC 6749 §5.1).

    A code is used once; using it again revokes what it gave (RFC 6749 §4.1.2, "SHOULD
    revoke"): all tokens of its consent, since a consent yields exactly one code.
    """
    require_active(client)
    if params.get("grant_type") != "authorization_code":
        raise UnsupportedGrantTypeError(ONLY_AUTHORIZATION_CODE)
    code = params.get("code", "")
    if not code or len(code) > 128:
        raise InvalidRequestError(reason=N_("code is required"))
    row = session.get(AuthorizationCode, digest(code))
    if row is None or row.client_id != client.client_id:
        raise InvalidGrantError(reason=N_("the code is unknown or was issued to another client"))
    # Withdrawing a consent also burns its unused codes: say that, not "already used".
    consent = _live_consent(session, row.consent_id, client.client_id)
    if consent is None:
        raise InvalidGrantError(reason=CONSENT_WITHDRAWN)
    if row.used_at is not None:
        revoke_consent_tokens(session=session, consent_id=row.consent_id)
        raise InvalidGrantError(reason=CODE_REUSED)
    now = utcnow()
    if row.expires_at <= now:
        raise InvalidGrantError(reason=N_("the code has expired"))
    if params.get("redirect_uri") != row.redirect_uri:
        raise InvalidGrantError(reason=N_("redirect_uri differs from the authorization request"))
    verifier = params.get("code_verifier", "")
    if not _VERIFIER.fullmatch(verifier):
        raise InvalidGrantError(reason=N_("a PKCE code_verifier is required"))
    if not hmac.compare_digest(b64url_sha256(verifier), row.code_challenge):
        raise InvalidGrantError(reason=N_("the PKCE code_verifier does not match"))
    if row.dpop_jkt is not None and row.dpop_jkt != proof.jkt:
        raise InvalidDPoPProofError(reason=N_("the proof's key is not the one bound to the code"))
    if not _claim(session, AuthorizationCode, AuthorizationCode.digest == row.digest, now):
        # Another request redeemed it between our read and now: the same as a replay.
        revoke_consent_tokens(session=session, consent_id=row.consent_id)
        raise InvalidGrantError(reason=CODE_REUSED)
    access_token = secrets.token_urlsafe(32)
    session.add(
        AccessToken(
            digest=digest(access_token),
            client_id=client.client_id,
            resident_id=row.resident_id,
            consent_id=row.consent_id,
            scope=row.scope,
            jkt=proof.jkt,
            created_at=now,
            expires_at=now + timedelta(seconds=ACCESS_TOKEN_LIFETIME_SECONDS),
        )
    )
    response: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "DPoP",
        "expires_in": ACCESS_TOKEN_LIFETIME_SECONDS,
        "scope": row.scope,
    }
    if OPENID in row.scope.split():
        response["id_token"] = id_token(
            session=session,
            settings=settings,
            client_id=client.client_id,
            resident_id=row.resident_id,
            nonce=row.nonce,
            auth_time=row.auth_time or row.created_at,
            now=now,
        )
    session.flush()
    return response


def id_token(
    *,
    session: Session,
    settings: Settings,
    client_id: str,
    resident_id: int,
    nonce: str | None,
    auth_time: datetime,
    now: datetime,
) -> str:
    """The ID token (OIDC Core §2), ES256, its subject the pairwise pseudonym (§8.1)."""
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "iss": discovery.issuer(settings),
        "sub": subject(settings=settings, client_id=client_id, resident_id=resident_id),
        "aud": client_id,
        "iat": issued,
        "exp": issued + ID_TOKEN_LIFETIME_SECONDS,
        # The card login the consent was given in (the code's time for older codes).
        "auth_time": int(auth_time.timestamp()),
        "acr": discovery.ACR_CARD,
    }
    if nonce is not None:
        claims["nonce"] = nonce
    return discovery.sign_jwt(session=session, settings=settings, claims=claims)


def subject(*, settings: Settings, client_id: str, resident_id: int) -> str:
    """The resident's pairwise ``sub`` for one organisation."""
    secret = settings.secret_key.get_secret_value().encode()
    return pairwise_subject(secret, client_id, resident_id)


# --- resource requests (RFC 9449 §7) -------------------------------------------------


_TOKENS = cast(Table, AccessToken.__table__)
# Every resource request reads its token: a Core select compiled once.
_TOKEN_ROW = select(_TOKENS).where(_TOKENS.c.digest == bindparam("digest"))


def authenticate_resource_request(
    *,
    session: Session,
    settings: Settings,
    authorization: str | None,
    dpop: str | None,
    method: str,
    url: str,
) -> TokenContext:
    """The token's context, if the DPoP-bound token and its proof pass `Section 7.1`_.

    A bearer presentation of a DPoP-bound token is refused (§7.2); so are tokens of a
    revoked consent or a suspended organisation. ``url`` is the URI the resource is
    published at (the issuer's), not what a proxy forwarded.

    .. _`Section 7.1`: https://www.rfc-editor.org/rfc/rfc9449#section-7.1
    """
    del settings  # The issuer's URL is in ``url``; kept for symmetry with the others.
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "dpop" or not token or not _TOKEN.fullmatch(token) or len(token) > 256:
        raise InvalidTokenError(reason=N_("send the access token as “Authorization: DPoP …”"))
    now = utcnow()
    checked = rfc9449.verify_proof(dpop, method=method, url=url, now=now, access_token=token)
    row = session.execute(_TOKEN_ROW, {"digest": digest(token)}).one_or_none()
    if row is None:
        raise InvalidTokenError(reason=N_("the token is unknown"))
    # The key first: only the token's holder learns why else it is refused.
    if row.jkt != checked.jkt:
        raise InvalidTokenError(reason=N_("the token is bound to another key"))
    if _live_consent(session, row.consent_id, row.client_id) is None:
        raise InvalidTokenError(reason=CONSENT_WITHDRAWN)
    if row.revoked_at is not None:
        raise InvalidTokenError(reason=N_("the token was revoked"))
    if row.expires_at <= now:
        raise InvalidTokenError(reason=N_("the token has expired"))
    if not get_client(session=session, client_id=row.client_id).is_active:
        raise InvalidTokenError(reason=N_("the organisation is not approved"))
    rfc9449.remember_proof(checked, remembering(session, "dpop"))
    return TokenContext(
        client_id=row.client_id,
        resident_id=row.resident_id,
        consent_id=row.consent_id,
        scopes=tuple(row.scope.split()),
    )


def www_authenticate(error: MynaError) -> str:
    """The WWW-Authenticate challenge for a refused resource request (RFC 9449 §7.1).

    Header values are Latin-1: the challenge names the error; the JSON body explains it.
    """
    algs = " ".join(SIGNING_ALGORITHMS)
    return f'DPoP error="{error.code}", algs="{algs}"'


def forget_expired(*, session: Session) -> None:
    """Housekeeping: pushed requests and codes long past their lifetime, old jtis."""
    now = utcnow()
    session.execute(delete(SeenProof).where(SeenProof.expires_at < now))
    cutoff = now - timedelta(hours=1)
    for model in (PushedRequest, AuthorizationCode):
        for row in session.scalars(select(model).where(model.expires_at < cutoff)).all():
            session.delete(row)
