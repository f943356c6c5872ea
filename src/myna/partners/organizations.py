"""Organisations (連携する民間事業者): registration, review, keys; the client lookup.

An organisation registers its name, purpose, retention, redirect URIs, signing keys and
the scopes it asks for, each with a reason; it starts *pending* (審査待ち). A reviewer
approves a subset of the requested scopes, or rejects it; an approved organisation can be
suspended (its access tokens die at once) and resumed. The checks follow the specs the
authorization server relies on:

* redirect URIs are absolute, compared as exact strings and carry no fragment
  (`RFC 6749 §3.1.2`_); ``https`` only (`FAPI 2.0 Security Profile §5.3.2.2`_), except
  ``http`` on the loopback interface for a sandbox integrator (`RFC 8252 §7.3`_);
* keys are public keys only, EC P-256 or RSA of at least 2048 bits
  (`FAPI 2.0 Security Profile §5.4`_), each with a ``kid`` and a ``use``
  (`RFC 7517 §4`_): at least one ``sig`` key, to sign client assertions, and at most
  one ``enc`` key, to which the resource APIs encrypt their answers (ECDH-ES+A256KW or
  ECDH-ES for EC, RSA-OAEP-256 for RSA, `RFC 7518 §4`_); given inline (``jwks``) or by
  an ``https`` ``jwks_uri`` (`RFC 7591 §2`_), never both;
* a ``jwks_uri`` is fetched only for an approved organisation, only from a public
  address (the host name is resolved, every address checked, and the connection made
  to the address that was checked), with no redirects, a size limit and a deadline:
  whoever registers must not be able to make the platform call into its own network.

.. _`RFC 6749 §3.1.2`: https://www.rfc-editor.org/rfc/rfc6749#section-3.1.2
.. _`RFC 8252 §7.3`: https://www.rfc-editor.org/rfc/rfc8252#section-7.3
.. _`RFC 7517 §4`: https://www.rfc-editor.org/rfc/rfc7517#section-4
.. _`RFC 7518 §4`: https://www.rfc-editor.org/rfc/rfc7518#section-4
.. _`RFC 7591 §2`: https://www.rfc-editor.org/rfc/rfc7591#section-2
.. _`FAPI 2.0 Security Profile §5.3.2.2`: https://openid.net/specs/fapi-security-profile-2_0-final.html#section-5.3.2.2
.. _`FAPI 2.0 Security Profile §5.4`: https://openid.net/specs/fapi-security-profile-2_0-final.html#section-5.4
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address
from typing import Any, cast
from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx
from joserfc.jwk import KeySet, KeySetSerialization
from sqlalchemy import Row, Table, bindparam, select, update
from sqlalchemy.orm import Session

from myna import agencies
from myna.partners.domain import (
    MYINFO_PREFIX,
    NOTICES_SCOPE,
    OPENID,
    OrganizationNotFoundError,
    OrganizationStatus,
    PartnerError,
    RegisteredClient,
    RequestedScope,
    check_scope,
)
from myna.partners.models import AccessToken, Organization
from myna.platform.db import utcnow
from myna.platform.errors import N_
from myna.platform.i18n import get_locale
from myna.platform.i18n import gettext as _
from myna.platform.logging import get_logger
from myna.platform.oauth import rfc7518
from myna.platform.settings import Settings

log = get_logger(__name__)

MAX_NAME_LENGTH = 200
MAX_PURPOSE_LENGTH = 2000
MAX_CONTACT_LENGTH = 200
MAX_RETENTION_LENGTH = 200
MAX_REASON_LENGTH = 500
MAX_NOTE_LENGTH = 2000
MAX_REDIRECT_URIS = 10
MAX_URI_LENGTH = 500
MAX_KEYS = 10
MAX_KID_LENGTH = 128
# A jwks_uri answers a few keys; more than this is a mistake or an attack.
MAX_JWKS_BYTES = 64 * 1024
# Each connect or read of a jwks_uri may take this long...
JWKS_FETCH_TIMEOUT_SECONDS = 2.0
# ...and the whole fetch this long, so a server that drips its answer byte by byte
# cannot hold a worker (checked between reads: a worker is held at most the deadline
# and one read timeout).
JWKS_FETCH_DEADLINE_SECONDS = 3.0
# Fetched key sets are kept this long, so a rotation at the organisation shows soon.
JWKS_CACHE_SECONDS = 60.0
# An unknown kid refetches the set, but not more often than this (no fetch storms).
JWKS_REFETCH_SECONDS = 10.0
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# A signing key's algorithm, by key type (FAPI 2.0 Security Profile §5.4).
ALGORITHM_FOR_KTY = {"EC": "ES256", "RSA": "PS256"}
# An encryption key's key management algorithms, by key type (RFC 7518 §4.6, §4.3); the
# first is used when the key names none. The content is always A256GCM (RFC 7518 §5.3).
ENCRYPTION_ALGORITHMS_FOR_KTY = {"EC": ("ECDH-ES+A256KW", "ECDH-ES"), "RSA": ("RSA-OAEP-256",)}
CONTENT_ENCRYPTION = "A256GCM"
SIGNING, ENCRYPTION = "sig", "enc"
# What key_ops (RFC 7517 §4.3) may say for each use; RFC 7517 prefers "use" alone.
KEY_OPS_FOR_USE = {SIGNING: {"verify"}, ENCRYPTION: {"encrypt", "wrapKey", "deriveKey"}}
# NAT64's well-known prefix (RFC 6052 §2.1): the IPv4 address it carries is what counts.
_NAT64 = IPv6Network("64:ff9b::/96")

# How each scope reads on the list of linked services and on the consent page.
SCOPE_LABELS = {
    OPENID: N_("Who you are at this service (a pseudonymous ID, never your My Number)"),
    "name": N_("Name"),
    "address": N_("Address"),
    "birthdate": N_("Date of birth"),
    "gender": N_("Gender"),
    NOTICES_SCOPE: N_("Notices from public agencies (お知らせ)"),
}
MYINFO_LABEL = N_("My information: {category}")
STATUS_LABELS = {
    OrganizationStatus.PENDING: N_("Awaiting review"),
    OrganizationStatus.APPROVED: N_("Approved"),
    OrganizationStatus.REJECTED: N_("Not approved"),
    OrganizationStatus.SUSPENDED: N_("Suspended"),
}


# --- errors --------------------------------------------------------------------------


class InvalidRegistrationError(PartnerError):
    """A registration field is missing or malformed (RFC 7591 ``invalid_client_metadata``)."""

    code = "invalid_client_metadata"
    message = N_("The registration is not valid.")
    status_code = 400


class InvalidRedirectUriError(InvalidRegistrationError):
    """A redirect URI is not acceptable (RFC 7591 §3.2.2 ``invalid_redirect_uri``)."""

    code = "invalid_redirect_uri"
    message = N_("A redirect URI is not acceptable.")


class InvalidJwksError(InvalidRegistrationError):
    code = "invalid_jwks"
    message = N_("The JWKS is not acceptable.")


class InvalidScopeRequestError(InvalidRegistrationError):
    code = "invalid_scope_request"
    message = N_("The requested scopes are not acceptable.")


class OrganizationStateError(PartnerError):
    """The change does not fit where the registration stands (e.g. approving twice)."""

    code = "organization_state"
    message = N_("This organisation is {status}; it cannot be {action}.")
    status_code = 409


class InvalidReviewError(PartnerError):
    code = "invalid_review"
    message = N_("The review is not valid.")
    status_code = 400


class JwksUnavailableError(PartnerError):
    """The organisation's jwks_uri could not be read as a key set just now."""

    code = "jwks_unavailable"
    message = N_("The organisation's keys could not be fetched from its jwks_uri.")
    status_code = 502


# --- views ---------------------------------------------------------------------------


def client_view(row: Organization | Row[Any]) -> RegisteredClient:
    """The organisation as the authorization server and the consent page see it."""
    return RegisteredClient(
        client_id=row.client_id,
        name=row.name,
        purpose=row.purpose,
        status=OrganizationStatus(row.status),
        redirect_uris=tuple(row.redirect_uris),
        jwks=row.jwks,
        jwks_uri=row.jwks_uri,
        requested_scopes=tuple(
            RequestedScope(scope=s["scope"], reason=s.get("reason", ""))
            for s in row.requested_scopes
        ),
        approved_scopes=tuple(row.approved_scopes),
        retention=row.retention,
        contact=row.contact,
        extra={
            "created_at": row.created_at,
            "reviewed_at": row.reviewed_at,
            "review_note": row.review_note,
        },
    )


def scope_label(scope: str) -> str:
    """What a scope gives, in the reader's language (e.g. 「わたしの情報: 地方税」)."""
    if scope.startswith(MYINFO_PREFIX):
        code = scope.removeprefix(MYINFO_PREFIX)
        category = agencies.load_catalog().categories.get(code)
        name = code if category is None else _category_name(category)
        return _(MYINFO_LABEL).format(category=name)
    label = SCOPE_LABELS.get(scope)
    return scope if label is None else _(label)


def _category_name(category: agencies.Category) -> str:
    return category.name_ja if get_locale() == "ja" else category.name_en


def status_label(status: OrganizationStatus) -> str:
    """The registration's state in the reader's language."""
    return _(STATUS_LABELS[status])


# --- lookups -------------------------------------------------------------------------


def _row(session: Session, client_id: str) -> Organization:
    row = session.scalars(
        select(Organization).where(Organization.client_id == client_id[:64])
    ).one_or_none()
    if row is None:
        raise OrganizationNotFoundError
    return row


_ORGANIZATIONS = cast(Table, Organization.__table__)
# Every token and resource request reads its organisation: a Core select compiled once.
_CLIENT = select(_ORGANIZATIONS).where(_ORGANIZATIONS.c.client_id == bindparam("client_id"))


def get_client(*, session: Session, client_id: str) -> RegisteredClient:
    """The registered organisation with this client id, whatever its status; else 404."""
    row = session.execute(_CLIENT, {"client_id": client_id[:64]}).one_or_none()
    if row is None:
        raise OrganizationNotFoundError
    return client_view(row)


def list_approved(*, session: Session) -> list[RegisteredClient]:
    """The organisations residents may link with now, by name."""
    return list_organizations(session=session, status=OrganizationStatus.APPROVED)


def list_organizations(
    *, session: Session, status: OrganizationStatus | None = None
) -> list[RegisteredClient]:
    """Every registered organisation (or those in one state), by name."""
    query = select(Organization).order_by(Organization.name, Organization.client_id)
    if status is not None:
        query = query.where(Organization.status == status.value)
    return [client_view(row) for row in session.scalars(query)]


# --- checks --------------------------------------------------------------------------


def _text(value: str, *, field: str, limit: int) -> str:
    """A required free-text field, trimmed, within its length."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > limit:
        raise InvalidRegistrationError(
            N_("{field} is required and may be at most {limit} characters."),
            field=field,
            limit=limit,
        )
    if any(ord(c) < 0x20 and c not in "\n\t" for c in text):
        raise InvalidRegistrationError(
            N_("{field} must not contain control characters."), field=field
        )
    return text


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _is_internal_address(host: str) -> bool:
    """An IP literal of a private, link-local or reserved network (the loopback excepted)."""
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return not address.is_loopback and not address.is_global


def _split(uri: str) -> SplitResult | None:
    """The URL's parts, or None when it cannot be parsed (a bad port, a bad IPv6 host)."""
    try:
        parts = urlsplit(uri)
        _ = parts.port  # parsed lazily: read it here so a malformed port is refused
    except ValueError:
        return None
    return parts


def check_redirect_uri(uri: str) -> str:
    """One redirect URI as it will be compared: exact, absolute, https, no fragment."""
    if not isinstance(uri, str) or not 0 < len(uri) <= MAX_URI_LENGTH:
        raise InvalidRedirectUriError(
            N_("A redirect URI must be given and at most {limit} characters."),
            limit=MAX_URI_LENGTH,
        )
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in uri):
        raise InvalidRedirectUriError(N_("A redirect URI must not contain spaces."))
    if "#" in uri:
        raise InvalidRedirectUriError(
            N_("A redirect URI must not have a fragment (#): {uri}"), uri=uri
        )
    parts = _split(uri)
    if parts is None:
        raise InvalidRedirectUriError(N_("This is not an absolute URL: {uri}"), uri=uri)
    host = parts.hostname or ""
    if not host or "@" in parts.netloc or "*" in host:
        raise InvalidRedirectUriError(
            N_("A redirect URI needs a host name and no user name or wildcard: {uri}"), uri=uri
        )
    if parts.scheme == "https":
        return uri
    if parts.scheme == "http" and _is_loopback(host):
        return uri
    raise InvalidRedirectUriError(
        N_(
            "A redirect URI must use https (http only on 127.0.0.1 or localhost, "
            "for testing): {uri}"
        ),
        uri=uri,
    )


def check_redirect_uris(uris: Sequence[str]) -> list[str]:
    """The redirect URIs, each checked, none twice, at least one."""
    if isinstance(uris, str) or not 0 < len(uris) <= MAX_REDIRECT_URIS:
        raise InvalidRedirectUriError(
            N_("Give between 1 and {limit} redirect URIs."), limit=MAX_REDIRECT_URIS
        )
    checked = [check_redirect_uri(uri) for uri in uris]
    if len(set(checked)) != len(checked):
        raise InvalidRedirectUriError(N_("A redirect URI is listed twice."))
    return checked


def check_jwks_uri(uri: str) -> str:
    """A jwks_uri we may fetch: https (http only on the loopback, for a sandbox)."""
    if not isinstance(uri, str) or not 0 < len(uri) <= MAX_URI_LENGTH or "#" in uri:
        raise InvalidJwksError(
            N_("jwks_uri must be a URL of at most {limit} characters without a fragment."),
            limit=MAX_URI_LENGTH,
        )
    parts = _split(uri)
    host = "" if parts is None else parts.hostname or ""
    if parts is None or any(c.isspace() for c in uri) or not host or "@" in parts.netloc:
        raise InvalidJwksError(N_("jwks_uri is not an absolute URL."))
    if _is_internal_address(host):
        # The platform fetches this URL: it must not be pointed at the operator's own network.
        raise InvalidJwksError(N_("jwks_uri must not name a private network address."))
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host)):
        return uri
    raise InvalidJwksError(
        N_("jwks_uri must use https (http only on 127.0.0.1 or localhost, for testing).")
    )


def _check_key(raw: Any, number: int) -> dict[str, Any]:
    """One JWK: a public key of an allowed type and use, normalised to its public members."""
    if not isinstance(raw, dict):
        raise InvalidJwksError(N_("Key {number} of the JWKS is not a JSON object."), number=number)
    if rfc7518.PRIVATE_MEMBERS & set(raw):
        raise InvalidJwksError(
            N_(
                "Key {number} of the JWKS contains a private or secret part; send public keys only."
            ),
            number=number,
        )
    kid = raw.get("kid")
    if not isinstance(kid, str) or not 0 < len(kid) <= MAX_KID_LENGTH:
        raise InvalidJwksError(
            N_("Key {number} of the JWKS needs a kid of at most {limit} characters."),
            number=number,
            limit=MAX_KID_LENGTH,
        )
    use = raw.get("use")
    if use not in KEY_OPS_FOR_USE:
        raise InvalidJwksError(
            N_(
                'Key {number} of the JWKS needs "use": "sig" (a signing key) '
                'or "enc" (the encryption key).'
            ),
            number=number,
        )
    kty = raw.get("kty")
    if kty not in ALGORITHM_FOR_KTY:
        raise InvalidJwksError(
            N_("Key {number} of the JWKS must be an EC P-256 or an RSA key."), number=number
        )
    alg = raw.get("alg")
    if use == SIGNING:
        if alg is not None and alg != ALGORITHM_FOR_KTY[kty]:
            raise InvalidJwksError(
                N_(
                    "Key {number} of the JWKS: alg must be ES256 for EC keys "
                    "and PS256 for RSA keys."
                ),
                number=number,
            )
    elif alg is not None and alg not in ENCRYPTION_ALGORITHMS_FOR_KTY[kty]:
        raise InvalidJwksError(
            N_(
                "Key {number} of the JWKS: an encryption key's alg must be ECDH-ES+A256KW "
                "or ECDH-ES for EC keys and RSA-OAEP-256 for RSA keys."
            ),
            number=number,
        )
    _check_key_ops(raw.get("key_ops"), use, number)
    public = _import_public(raw, number)
    return {**public, "kid": kid, "use": use, **({"alg": alg} if alg else {})}


def _check_key_ops(key_ops: Any, use: str, number: int) -> None:
    """key_ops, when given, may only name what the key's use allows (RFC 7517 §4.3)."""
    if key_ops is None:
        return
    allowed = KEY_OPS_FOR_USE[use]
    if (
        isinstance(key_ops, list)
        and key_ops
        and all(isinstance(op, str) and op in allowed for op in key_ops)
    ):
        return
    if use == SIGNING:
        raise InvalidJwksError(
            N_('Key {number} of the JWKS: key_ops may only be ["verify"].'), number=number
        )
    raise InvalidJwksError(
        N_(
            'Key {number} of the JWKS: key_ops of an encryption key may only name "encrypt", '
            '"wrapKey" or "deriveKey".'
        ),
        number=number,
    )


def _import_public(raw: dict[str, Any], number: int) -> dict[str, Any]:
    """The key's public members, once the platform's key rule and the library have
    checked them (curve, size, the point on the curve)."""
    try:
        return rfc7518.public_key(raw).as_dict(private=False)
    except rfc7518.CurveError as exc:
        raise InvalidJwksError(
            N_("Key {number} of the JWKS: EC keys must be on the curve P-256."), number=number
        ) from exc
    except rfc7518.KeySizeError as exc:
        raise InvalidJwksError(
            N_("Key {number} of the JWKS: RSA keys must have 2048 to 8192 bits."), number=number
        ) from exc
    except rfc7518.UnacceptableKeyError as exc:
        raise InvalidJwksError(
            N_("Key {number} of the JWKS is not a valid public key."), number=number
        ) from exc


def check_jwks(jwks: Any) -> dict[str, Any]:
    """A JWK Set (RFC 7517 §5) of signing keys and at most one encryption key; kids unique."""
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(keys, list) or not 0 < len(keys) <= MAX_KEYS:
        raise InvalidJwksError(
            N_('The JWKS must be an object with "keys": a list of 1 to {limit} keys.'),
            limit=MAX_KEYS,
        )
    checked = [_check_key(raw, number) for number, raw in enumerate(keys, start=1)]
    kids = [key["kid"] for key in checked]
    if len(set(kids)) != len(kids):
        raise InvalidJwksError(N_("Two keys of the JWKS have the same kid."))
    uses = [key["use"] for key in checked]
    if SIGNING not in uses:
        raise InvalidJwksError(
            N_('The JWKS needs at least one signing key ("use": "sig") for client assertions.')
        )
    if uses.count(ENCRYPTION) > 1:
        # Which key would the answers be encrypted to? One, so there is no guessing.
        raise InvalidJwksError(N_('The JWKS may hold at most one encryption key ("use": "enc").'))
    return {"keys": checked}


def check_requested_scopes(requested: Sequence[RequestedScope]) -> list[dict[str, str]]:
    """Known scopes, each once and with a reason; openid among them."""
    seen: dict[str, str] = {}
    for item in requested:
        scope = check_scope(item.scope)
        if scope in seen:
            raise InvalidScopeRequestError(
                N_("The scope “{scope}” is requested twice."), scope=scope
            )
        reason = item.reason.strip() if isinstance(item.reason, str) else ""
        if not reason or len(reason) > MAX_REASON_LENGTH:
            raise InvalidScopeRequestError(
                N_("Say why you need the scope “{scope}” (at most {limit} characters)."),
                scope=scope,
                limit=MAX_REASON_LENGTH,
            )
        seen[scope] = reason
    if OPENID not in seen:
        raise InvalidScopeRequestError(
            N_("Request the scope “openid”: every link with Myna is an OpenID Connect login.")
        )
    return [{"scope": scope, "reason": reason} for scope, reason in seen.items()]


# --- use cases -----------------------------------------------------------------------


def register_organization(
    *,
    session: Session,
    name: str,
    purpose: str,
    contact: str,
    retention: str,
    redirect_uris: Sequence[str],
    jwks: dict[str, Any] | None = None,
    jwks_uri: str | None = None,
    requested_scopes: Sequence[RequestedScope],
) -> RegisteredClient:
    """Register an organisation as a client awaiting review (審査待ち)."""
    fields = {
        "name": _text(name, field="name", limit=MAX_NAME_LENGTH),
        "purpose": _text(purpose, field="purpose", limit=MAX_PURPOSE_LENGTH),
        "contact": _text(contact, field="contact", limit=MAX_CONTACT_LENGTH),
        "retention": _text(retention, field="retention", limit=MAX_RETENTION_LENGTH),
    }
    uris = check_redirect_uris(redirect_uris)
    if (jwks is None) == (jwks_uri is None):
        raise InvalidJwksError(N_("Give either jwks (the keys) or jwks_uri, not both."))
    keys = None if jwks is None else check_jwks(jwks)
    uri = None if jwks_uri is None else check_jwks_uri(jwks_uri)
    scopes = check_requested_scopes(requested_scopes)
    row = Organization(
        client_id=f"org-{secrets.token_hex(12)}",
        **fields,
        status=OrganizationStatus.PENDING.value,
        redirect_uris=uris,
        jwks=keys,
        jwks_uri=uri,
        requested_scopes=scopes,
        approved_scopes=[],
        created_at=utcnow(),
        reviewed_at=None,
        review_note="",
    )
    session.add(row)
    session.flush()
    log.info("partner_registered", client_id=row.client_id)
    return client_view(row)


def _note(note: str, *, required: bool) -> str:
    text = note.strip() if isinstance(note, str) else ""
    if len(text) > MAX_NOTE_LENGTH or (required and not text):
        raise InvalidReviewError(
            N_("Write a note for the organisation (at most {limit} characters)."),
            limit=MAX_NOTE_LENGTH,
        )
    return text


def _refuse_change(row: Organization, action: str) -> OrganizationStateError:
    # Both parts are message ids: the sentence is put together in the reader's language.
    return OrganizationStateError(
        status=_(STATUS_LABELS[OrganizationStatus(row.status)]), action=_(action)
    )


def _changeable(
    session: Session, client_id: str, *, status: OrganizationStatus, action: str
) -> Organization:
    """The organisation, when it is in ``status``; otherwise ``action`` is refused."""
    row = _row(session, client_id)
    if row.status != status:
        raise _refuse_change(row, action)
    return row


def review(
    *, session: Session, client_id: str, approve: bool, scopes: Sequence[str], note: str
) -> RegisteredClient:
    """Approve a pending organisation for some of the scopes it asked for, or reject it."""
    row = _changeable(session, client_id, status=OrganizationStatus.PENDING, action=N_("reviewed"))
    # The organisation is owed a reason when it is turned down.
    text = _note(note, required=not approve)
    if approve:
        requested = [s["scope"] for s in row.requested_scopes]
        chosen = list(dict.fromkeys(scopes))
        extra = [scope for scope in chosen if scope not in requested]
        if extra:
            raise InvalidReviewError(
                N_("Only requested scopes can be approved; not requested: {scopes}."),
                scopes=" ".join(extra)[:200],
            )
        if OPENID not in chosen:
            raise InvalidReviewError(N_("An approval must include the scope “openid”."))
        # Kept in the order the organisation asked, so every page lists them alike.
        row.approved_scopes = [scope for scope in requested if scope in chosen]
        row.status = OrganizationStatus.APPROVED.value
    else:
        row.approved_scopes = []
        row.status = OrganizationStatus.REJECTED.value
    row.review_note = text
    row.reviewed_at = utcnow()
    session.flush()
    log.info("partner_reviewed", client_id=row.client_id, status=row.status)
    return client_view(row)


def suspend(*, session: Session, client_id: str, note: str) -> RegisteredClient:
    """Stop an approved organisation: no new authorizations, its access tokens die now."""
    row = _changeable(
        session, client_id, status=OrganizationStatus.APPROVED, action=N_("suspended")
    )
    text = _note(note, required=True)
    row.status = OrganizationStatus.SUSPENDED.value
    row.review_note = text
    now = utcnow()
    revoked = session.execute(
        update(AccessToken)
        .where(AccessToken.client_id == row.client_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.flush()
    log.info(
        "partner_suspended",
        client_id=row.client_id,
        tokens_revoked=getattr(revoked, "rowcount", 0),
    )
    return client_view(row)


def resume(*, session: Session, client_id: str, note: str) -> RegisteredClient:
    """Let a suspended organisation work again with the scopes it was approved for."""
    row = _changeable(session, client_id, status=OrganizationStatus.SUSPENDED, action=N_("resumed"))
    text = _note(note, required=False)
    row.status = OrganizationStatus.APPROVED.value
    row.review_note = text
    session.flush()
    log.info("partner_resumed", client_id=row.client_id)
    return client_view(row)


def rotate_keys(
    *, session: Session, cache: JwksCache, client_id: str, jwks: dict[str, Any]
) -> RegisteredClient:
    """Replace the organisation's keys with a new inline JWKS (a jwks_uri is dropped)."""
    row = _row(session, client_id)
    if row.status == OrganizationStatus.REJECTED:
        raise _refuse_change(row, N_("given new keys"))
    row.jwks = check_jwks(jwks)
    if row.jwks_uri is not None:
        cache.forget(row.jwks_uri)
    row.jwks_uri = None
    session.flush()
    log.info("partner_keys_rotated", client_id=row.client_id, keys=len(row.jwks["keys"]))
    return client_view(row)


# --- keys ----------------------------------------------------------------------------


# Why a jwks_uri gave no keys: the integrator reads these in the client authentication
# error, the operator in the log.
NOT_APPROVED = N_("Keys are fetched from a jwks_uri only for an approved organisation.")
UNRESOLVED = N_("The host name of the organisation's jwks_uri does not resolve.")
NOT_PUBLIC = N_(
    "The organisation's jwks_uri leads to a private, loopback or link-local address; "
    "keys are fetched only from public addresses."
)
UNREACHABLE = N_("The organisation's jwks_uri could not be reached.")
TOO_SLOW = N_("The organisation's jwks_uri did not answer within {seconds} seconds.")
NOT_OK = N_(
    "The organisation's jwks_uri answered HTTP {status}; it must answer 200 with the keys "
    "(redirects are not followed)."
)
TOO_LARGE = N_("The organisation's jwks_uri answered more than {limit} KiB.")
NOT_A_KEY_SET = N_("The organisation's jwks_uri did not answer a valid JWK Set.")


def loopback_allowed(settings: Settings) -> bool:
    """Whether a jwks_uri may be fetched from the loopback: in the sandbox, or when set."""
    return settings.environment == "development" or settings.partner_jwks_allow_loopback


def client_keys(
    *,
    session: Session,
    settings: Settings,
    cache: JwksCache,
    client_id: str,
    kid: str | None = None,
) -> KeySet:
    """The organisation's public signing keys, to check its client assertions.

    From the registered JWKS, or fetched from its jwks_uri (kept a minute; an unknown
    ``kid`` refetches at most every ten seconds, so a rotation there is seen at once).
    The encryption key is left out: it never verifies anything.
    """
    keys = _registered_keys(settings, cache, get_client(session=session, client_id=client_id), kid)
    signing = [key for key in keys["keys"] if key.get("use") == SIGNING]
    return _key_set({"keys": signing}) if signing else KeySet([])


def encryption_key(
    *, session: Session, settings: Settings, cache: JwksCache, client_id: str
) -> dict[str, Any] | None:
    """The organisation's public encryption key (``use: enc``), or None if it has none."""
    client = get_client(session=session, client_id=client_id)
    return encryption_key_of(settings=settings, cache=cache, client=client)


def encryption_key_of(
    *, settings: Settings, cache: JwksCache, client: RegisteredClient
) -> dict[str, Any] | None:
    """:func:`encryption_key` of an organisation already read."""
    keys = _registered_keys(settings, cache, client, None)
    return next((key for key in keys["keys"] if key.get("use") == ENCRYPTION), None)


def _registered_keys(
    settings: Settings, cache: JwksCache, client: RegisteredClient, kid: str | None
) -> dict[str, Any]:
    if client.jwks is not None:
        return client.jwks
    if client.jwks_uri is None:  # registration requires one of the two
        raise JwksUnavailableError
    if client.status is not OrganizationStatus.APPROVED:
        # Anyone may register: an organisation nobody has approved must not be able to
        # make the platform call a URL of its choosing.
        raise JwksUnavailableError(NOT_APPROVED)
    return cache.keys(client.jwks_uri, kid, allow_loopback=loopback_allowed(settings))


def _key_set(jwks: dict[str, Any]) -> KeySet:
    # Checked by check_jwks when it was stored or fetched: {"keys": [public JWKs]}.
    return KeySet.import_key_set(cast("KeySetSerialization", jwks))


class JwksCache:
    """Key sets fetched from jwks_uris, shared by the worker threads of one process.

    A set is kept for JWKS_CACHE_SECONDS; an unknown ``kid`` refetches once the set is
    older than JWKS_REFETCH_SECONDS, so a rotation at the organisation's end is seen at
    once. A jwks_uri that failed is not asked again for JWKS_REFETCH_SECONDS:
    unauthenticated callers naming the organisation must not be able to hold a worker
    per request on it. The composition root owns one; ``clock`` is a monotonic clock.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # jwks_uri → (time fetched, the checked set).
        self._fetched: dict[str, tuple[float, dict[str, Any]]] = {}
        # (jwks_uri, loopback policy) → (time it failed, why): a refusal depends on it.
        self._failed: dict[tuple[str, bool], tuple[float, JwksUnavailableError]] = {}
        self._lock = threading.Lock()

    def keys(self, uri: str, kid: str | None, *, allow_loopback: bool) -> dict[str, Any]:
        """The checked key set at ``uri``: kept, or fetched now (:func:`fetch_jwks`)."""
        now = self._clock()
        with self._lock:
            cached = self._fetched.get(uri)
            failed = self._failed.get((uri, allow_loopback))
        if cached is not None:
            fetched_at, keys = cached
            fresh = now - fetched_at < JWKS_CACHE_SECONDS
            known = kid is None or any(key["kid"] == kid for key in keys["keys"])
            if fresh and (known or now - fetched_at < JWKS_REFETCH_SECONDS):
                return keys
        if failed is not None and now - failed[0] < JWKS_REFETCH_SECONDS:
            raise JwksUnavailableError(failed[1].message, **failed[1].params)
        try:
            keys = fetch_jwks(uri, allow_loopback=allow_loopback)
        except JwksUnavailableError as error:
            with self._lock:
                self._failed[uri, allow_loopback] = (now, error)
            raise
        with self._lock:
            self._fetched[uri] = (now, keys)
            self._failed.pop((uri, allow_loopback), None)
        return keys

    def forget(self, uri: str) -> None:
        """Drop what is kept about ``uri`` (its organisation changed its keys)."""
        with self._lock:
            self._fetched.pop(uri, None)
            for policy in (False, True):
                self._failed.pop((uri, policy), None)


def fetch_jwks(uri: str, *, allow_loopback: bool = False) -> dict[str, Any]:
    """GET a jwks_uri from a checked public address: no redirects, 64 KiB, a deadline.

    The host name is resolved here and every address it has must be public (the loopback
    is refused too unless ``allow_loopback``). The request then goes to an address that
    was checked, with the name in ``Host`` and, for https, in SNI, so TLS still checks
    the certificate against the name and a DNS answer that changes between the check and
    the connection (DNS rebinding) cannot send it elsewhere. Proxies from the environment
    are not used: they would do their own resolution.
    """
    try:
        check_jwks_uri(uri)
    except InvalidJwksError as exc:  # stored before a rule was tightened
        raise JwksUnavailableError(exc.message, **exc.params) from exc
    parts = urlsplit(uri)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = _public_addresses(host, port, allow_loopback=allow_loopback)
    headers = {"Host": parts.netloc, "Accept": "application/json", "Accept-Encoding": "identity"}
    extensions = {"sni_hostname": host} if parts.scheme == "https" and not _is_ip(host) else {}
    deadline = time.monotonic() + JWKS_FETCH_DEADLINE_SECONDS
    try:
        for address in addresses[:-1]:  # as a resolver would: the next one if one is down
            try:
                return _parsed(uri, _read(_pinned(parts, address), headers, extensions, deadline))
            except httpx.ConnectError:
                continue
        return _parsed(uri, _read(_pinned(parts, addresses[-1]), headers, extensions, deadline))
    except httpx.TimeoutException as exc:
        log.warning("partner_jwks_too_slow", uri=uri)
        raise JwksUnavailableError(TOO_SLOW, seconds=JWKS_FETCH_DEADLINE_SECONDS) from exc
    except httpx.HTTPError as exc:
        log.warning("partner_jwks_unreachable", uri=uri, error=type(exc).__name__)
        raise JwksUnavailableError(UNREACHABLE) from exc


def _read(url: str, headers: dict[str, str], extensions: dict[str, Any], deadline: float) -> bytes:
    """The body of a 200 answer, at most MAX_JWKS_BYTES, before the deadline."""
    body = bytearray()
    with (
        httpx.Client(
            timeout=JWKS_FETCH_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False
        ) as client,
        client.stream("GET", url, headers=headers, extensions=extensions) as response,
    ):
        if response.status_code != httpx.codes.OK:
            raise JwksUnavailableError(NOT_OK, status=response.status_code)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_JWKS_BYTES:
            raise JwksUnavailableError(TOO_LARGE, limit=MAX_JWKS_BYTES // 1024)
        # Raw bytes: nothing is decompressed (a small compressed answer may be huge).
        for chunk in response.iter_raw():
            body.extend(chunk)
            if len(body) > MAX_JWKS_BYTES:
                raise JwksUnavailableError(TOO_LARGE, limit=MAX_JWKS_BYTES // 1024)
            if time.monotonic() > deadline:
                raise JwksUnavailableError(TOO_SLOW, seconds=JWKS_FETCH_DEADLINE_SECONDS)
    return bytes(body)


def _parsed(uri: str, body: bytes) -> dict[str, Any]:
    try:
        return check_jwks(json.loads(body))
    except (ValueError, InvalidJwksError) as exc:
        log.warning("partner_jwks_invalid", uri=uri)
        raise JwksUnavailableError(NOT_A_KEY_SET) from exc


def _public_addresses(
    host: str, port: int, *, allow_loopback: bool
) -> list[IPv4Address | IPv6Address]:
    """Every address ``host`` resolves to, in order; refused if any of them is not public."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(ip_address(info[4][0]) for info in found))
    except (OSError, UnicodeError, ValueError) as exc:
        raise JwksUnavailableError(UNRESOLVED) from exc
    if not addresses:
        raise JwksUnavailableError(UNRESOLVED)
    refused = [str(a) for a in addresses if not _may_fetch_from(a, allow_loopback=allow_loopback)]
    if refused:
        log.warning("partner_jwks_address_refused", host=host, addresses=refused)
        raise JwksUnavailableError(NOT_PUBLIC)
    return addresses


def _may_fetch_from(address: IPv4Address | IPv6Address, *, allow_loopback: bool) -> bool:
    """A public unicast address, or the loopback when allowed; never the operator's network."""
    address = _embedded_ipv4(address) or address
    if address.is_loopback:
        return allow_loopback
    return address.is_global and not (
        address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _embedded_ipv4(address: IPv4Address | IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), which is the one reached."""
    if isinstance(address, IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_ip(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


def _pinned(parts: SplitResult, address: IPv4Address | IPv6Address) -> str:
    """The URL with the checked address in place of the host name."""
    literal = f"[{address}]" if isinstance(address, IPv6Address) else str(address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))
