"""Pure rules of the authentication app (デジタル認証アプリ): scopes, PKCE, digests, claims.

No I/O here. The scopes are the Digital Agency's: ``openid`` (who it is: the user
authentication certificate, the PIN), ``name address birthdate gender`` (the basic 4
info, read from the signing certificate, so the resident also signs with the signing
password) and ``sign`` (signing transactions, for a business's server through the
client credentials grant).
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from myna.platform import i18n
from myna.platform.errors import N_, MynaError, NotFoundError
from myna.platform.oauth.errors import InvalidRequestError, InvalidScopeError, OAuthError

OPENID = "openid"
NAME, ADDRESS, BIRTHDATE, GENDER = "name", "address", "birthdate", "gender"
BASIC_INFO_SCOPES = (NAME, ADDRESS, BIRTHDATE, GENDER)
SIGN = "sign"
ALL_SCOPES = (OPENID, *BASIC_INFO_SCOPES, SIGN)
# What a resident is asked for in the browser; ``sign`` is for a business's server.
LOGIN_SCOPES = (OPENID, *BASIC_INFO_SCOPES)
SCOPE_LABELS = {
    OPENID: N_("That it is you (an ID made only for this service, never your My Number)"),
    NAME: N_("Name"),
    ADDRESS: N_("Address"),
    BIRTHDATE: N_("Date of birth"),
    GENDER: N_("Sex"),
    SIGN: N_("Electronic signatures on documents"),
}
# J-LIS's sex codes (1 male, 2 female, 3 unknown) as OIDC Core §5.1 ``gender`` values.
GENDER_FOR_SEX = {1: "male", 2: "female", 3: "unknown"}
SEX_LABELS = {1: N_("Male"), 2: N_("Female"), 3: N_("Unknown")}

CODE_LIFETIME_SECONDS = 60
ACCESS_TOKEN_LIFETIME_SECONDS = 300
ID_TOKEN_LIFETIME_SECONDS = 300
AUTHORIZATION_LIFETIME_MINUTES = 10
SIGN_REQUEST_LIFETIME_MINUTES = 30
MAX_STATE_LENGTH = 500
MAX_NONCE_LENGTH = 255
MAX_REDIRECT_URI_LENGTH = 500
MAX_TITLE_LENGTH = 100
MAX_DIGESTS = 10
# RFC 7636 §4.1: 43 to 128 unreserved characters; the S256 challenge is 43 (§4.2).
VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# Ids of pending authorizations and signing transactions: 256 random bits, base64url.
ID_PATTERN = r"^[A-Za-z0-9_-]{43}$"
ACR_IDENTITY = "urn:myna:authapp:acr:jpki-sign"
ACR_LOGIN = "urn:myna:authapp:acr:jpki-auth"


def new_id() -> str:
    """A fresh, unguessable id (256 bits): 43 base64url characters."""
    return secrets.token_urlsafe(32)


class AuthAppError(MynaError):
    """Base of the authentication app's errors."""

    code = "authapp_error"


class ReasonedError(AuthAppError):
    """An error whose ``{reason}`` is a message id of its own, translated when shown and
    filled with the error's other parameters."""

    def localized(self) -> str:
        params = dict(self.params)
        reason = i18n.gettext(str(params.pop("reason", "")))
        # A reason from elsewhere (a library's words) is shown as is.
        with contextlib.suppress(KeyError, IndexError, ValueError):
            reason = reason.format(**params)
        return i18n.gettext(self.message).format(reason=reason)


class ClientNotFoundError(NotFoundError):
    code = "authapp_client_not_found"
    message = N_("No business is registered with this client ID.")


class InvalidClientRegistrationError(ReasonedError):
    code = "invalid_client_registration"
    message = N_("The registration is not valid: {reason}.")
    status_code = 422


class AuthorizationNotFoundError(NotFoundError):
    code = "authapp_authorization_not_found"
    message = N_(
        "This login request does not exist or has ended. "
        "Please start again from the service you came from."
    )


class SignRequestNotFoundError(NotFoundError):
    code = "sign_request_not_found"
    message = N_("This signing request does not exist.")


class SignRequestExpiredError(AuthAppError):
    code = "sign_request_expired"
    message = N_(
        "The time to sign this document has run out. "
        "Ask the business that sent it for a new signing request."
    )
    status_code = 410


class SignRequestDoneError(AuthAppError):
    code = "sign_request_done"
    message = N_("This document has already been signed.")
    status_code = 409


class InvalidDigestError(AuthAppError):
    code = "invalid_digest"
    message = N_(
        "Each digest must be the SHA-256 of a document: 64 hexadecimal characters "
        "(1 to {limit} digests)."
    )
    status_code = 422


class InvalidTitleError(AuthAppError):
    code = "invalid_title"
    message = N_("The title is required and may be at most {limit} characters, on one line.")
    status_code = 422


class InvalidReturnUrlError(AuthAppError):
    code = "invalid_return_url"
    message = N_(
        "return_url must be an address on the same site as one of the registered redirect URIs."
    )
    status_code = 422


class IdentityNotSignedError(AuthAppError):
    code = "identity_not_signed"
    message = N_(
        "Sign with the signing certificate of your card first: the information asked for "
        "is read from it."
    )
    status_code = 409


class RedirectError(Exception):
    """An authorization error to send back to the client's redirect URI (RFC 6749
    §4.1.2.1): the redirect URI is known to be the client's, so the browser goes there."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class SignStatus(StrEnum):
    """Where a signing transaction stands, as the business reads it."""

    PENDING = "pending"
    SIGNED = "signed"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class IdentityClaims:
    """The basic 4 info as OIDC standard claims (OIDC Core §5.1)."""

    name: str
    address: str
    birthdate: date
    sex: int

    def claims(self, scopes: Iterable[str]) -> dict[str, Any]:
        """The claims of the granted ``scopes`` only."""
        wanted = set(scopes)
        values: dict[str, Any] = {
            NAME: self.name,
            ADDRESS: {"formatted": self.address},
            BIRTHDATE: self.birthdate.isoformat(),
            GENDER: GENDER_FOR_SEX.get(self.sex, "unknown"),
        }
        return {scope: values[scope] for scope in BASIC_INFO_SCOPES if scope in wanted}


def parse_scopes(text: str, *, allowed: Sequence[str]) -> tuple[str, ...]:
    """The ``scope`` parameter (RFC 6749 §3.3): known, allowed, in order, none twice."""
    if len(text) > 200:
        raise InvalidScopeError(reason=N_("the scope is too long"))
    scopes = tuple(dict.fromkeys(text.split()))
    if not scopes:
        raise InvalidScopeError(reason=N_("scope is required"))
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        raise InvalidScopeError(reason=N_("unknown scope"))
    if not set(scopes) <= set(allowed):
        raise InvalidScopeError(reason=N_("beyond what this business may ask for"))
    return scopes


def login_scopes(text: str, *, allowed: Sequence[str]) -> tuple[str, ...]:
    """The scopes of an authorization request: ``openid`` and the basic 4 info only."""
    scopes = parse_scopes(text, allowed=[s for s in allowed if s in LOGIN_SCOPES])
    if OPENID not in scopes:
        raise InvalidScopeError(reason=N_("openid is required"))
    return scopes


def needs_signature(scopes: Iterable[str]) -> bool:
    """Whether the basic 4 info are asked for: they come from the signing certificate."""
    return any(scope in BASIC_INFO_SCOPES for scope in scopes)


def check_pkce(method: str | None, challenge: str | None) -> str:
    """The S256 code challenge (RFC 7636 §4.3); ``plain`` and none are refused."""
    if method != "S256" or challenge is None or not CHALLENGE.fullmatch(challenge):
        raise InvalidRequestError(reason=N_("PKCE with code_challenge_method S256 is required"))
    return challenge


def bounded(value: str | None, name: str, limit: int) -> str | None:
    """An optional parameter within its length; empty is absent."""
    if value is None or value == "":
        return None
    if len(value) > limit:
        raise InvalidRequestError(reason=N_("{name} is too long"), name=name)
    return value


def check_digests(digests: Sequence[Any]) -> tuple[str, ...]:
    """1 to 10 SHA-256 digests, each 64 hexadecimal characters, lower-cased, none twice."""
    if not 0 < len(digests) <= MAX_DIGESTS:
        raise InvalidDigestError(limit=MAX_DIGESTS)
    checked: list[str] = []
    for digest in digests:
        text = digest.lower() if isinstance(digest, str) else ""
        if not SHA256_HEX.fullmatch(text):
            raise InvalidDigestError(limit=MAX_DIGESTS)
        checked.append(text)
    return tuple(dict.fromkeys(checked))


def check_title(title: str) -> str:
    """The title the resident reads: required, one line, at most 100 characters."""
    text = title.strip() if isinstance(title, str) else ""
    if not text or len(text) > MAX_TITLE_LENGTH or any(ord(c) < 0x20 for c in text):
        raise InvalidTitleError(limit=MAX_TITLE_LENGTH)
    return text


def identity_document(
    *,
    client_name: str,
    issuer: str,
    authorization_id: str,
    client_id: str,
    scopes: Sequence[str],
    labels: Sequence[str],
    submission_key: str,
    prepared_at: str,
) -> dict[str, Any]:
    """What the card signs to give the basic 4 info to a business: who, what, for which
    login request. The card reader shows it as it shows an application."""
    return {
        "version": 1,
        "procedure": {"code": "authapp-identity", "name": "本人確認（基本4情報の提供）"},
        "municipality": {"code": "", "name": client_name},
        "applicant": {"name": "署名用電子証明書の名義人"},
        "answers": [
            {
                "title": "提供する情報",
                "answers": [
                    ["提供先", client_name],
                    ["提供する情報", "・".join(labels)],
                    ["認証アプリ", issuer],
                ],
            }
        ],
        "data": {
            "authorization": authorization_id,
            "client_id": client_id,
            "scopes": list(scopes),
        },
        "attachments": [],
        "submission_key": submission_key,
        "prepared_at": prepared_at,
    }


def signing_document(
    *,
    client_name: str,
    title: str,
    sign_request_id: str,
    client_id: str,
    digests: Sequence[str],
    submission_key: str,
    prepared_at: str,
) -> dict[str, Any]:
    """What the card signs for a business's signing transaction: its name, the title and
    the documents' SHA-256 digests. The detached CMS signature covers these bytes; the
    business checks its digests are in ``data.digests``."""
    return {
        "version": 1,
        "procedure": {"code": "authapp-sign", "name": title},
        "municipality": {"code": "", "name": client_name},
        "applicant": {"name": "署名用電子証明書の名義人"},
        "answers": [
            {
                "title": "署名する文書（SHA-256）",
                "answers": [[f"文書{n}", digest] for n, digest in enumerate(digests, start=1)],
            }
        ],
        "data": {
            "sign_request": sign_request_id,
            "client_id": client_id,
            "digests": list(digests),
        },
        "attachments": [],
        "submission_key": submission_key,
        "prepared_at": prepared_at,
    }


class UnsupportedResponseTypeError(OAuthError, code="unsupported_response_type"):
    """RFC 6749 §4.1.2.1: the server does not issue codes by this method (only ``code``)."""

    message = N_("Only response_type=code is supported.")


class AccessDeniedError(OAuthError, code="access_denied"):
    """RFC 6749 §4.1.2.1: the resident (the resource owner) did not consent."""

    message = N_("The resident did not consent.")


class InsufficientScopeError(OAuthError, code="insufficient_scope", status_code=403):
    """RFC 6750 §3.1: the token does not carry the scope this resource needs."""

    message = N_("The access token does not carry the scope {scope}.")


class InvalidAuthorizationRequestError(ReasonedError):
    """Shown to the resident at the authorization endpoint; never redirected (RFC 6749
    §4.1.2.1: the client or its redirect URI could not be verified)."""

    code = "invalid_authorization_request"
    message = N_(
        "This login request cannot be used: {reason}. "
        "Please start again from the service you came from."
    )
    status_code = 400
