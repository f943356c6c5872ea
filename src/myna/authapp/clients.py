"""Businesses registered with the authentication app, their keys and their pseudonyms.

A client registers a name, its redirect URIs, a JWK Set with at least one signing key
(its ``private_key_jwt`` assertions, RFC 7523) and one EC P-256 encryption key (what a
signed document comes back encrypted to), and the scopes it may ask for. The checks of
the URIs and the key set are the partner API's (:mod:`myna.partners`): one rule for
every client of the platform. Registering the same name again updates it (idempotent).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from joserfc.jwk import ECKey, KeySet, KeySetSerialization, RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import partners
from myna.authapp.domain import (
    ALL_SCOPES,
    OPENID,
    ClientNotFoundError,
    InvalidClientRegistrationError,
    InvalidReturnUrlError,
)
from myna.authapp.models import AuthAppClient
from myna.platform.db import utcnow
from myna.platform.errors import N_
from myna.platform.settings import Settings

MAX_NAME_LENGTH = 200
ENCRYPTION_ALGORITHM = "ECDH-ES+A256KW"
CONTENT_ENCRYPTION = "A256GCM"
CLIENT_ID_PREFIX = "aa-"


@dataclass(frozen=True, slots=True)
class ClientRead:
    """A registered business as the authentication app sees it."""

    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    jwks: dict[str, Any]

    @property
    def encryption_key(self) -> dict[str, Any]:
        """The public EC key signed documents are encrypted to (``use: enc``)."""
        return next(key for key in self.jwks["keys"] if key.get("use") == "enc")

    def signing_keys(self, kid: str | None) -> list[ECKey | RSAKey]:
        """The public signing keys (``use: sig``), of ``kid`` when the assertion names one."""
        signing = [
            key
            for key in self.jwks["keys"]
            if key.get("use") == "sig" and (kid is None or key.get("kid") == kid)
        ]
        if not signing:
            return []
        found = KeySet.import_key_set(cast("KeySetSerialization", {"keys": signing}))
        return [key for key in found.keys if isinstance(key, ECKey | RSAKey)]

    def allows_return_to(self, url: str) -> bool:
        """Whether ``url`` is on the site of one of the registered redirect URIs."""
        try:
            target = urlsplit(url)
        except ValueError:
            return False
        sites = {(urlsplit(u).scheme, urlsplit(u).netloc) for u in self.redirect_uris}
        return (target.scheme, target.netloc) in sites and not target.fragment


def _read(row: AuthAppClient) -> ClientRead:
    return ClientRead(
        client_id=row.client_id,
        name=row.name,
        redirect_uris=tuple(row.redirect_uris),
        scopes=tuple(row.scopes),
        jwks=row.jwks,
    )


def _fail(reason: str, **params: Any) -> InvalidClientRegistrationError:
    return InvalidClientRegistrationError(reason=reason, **params)


def _checked_name(name: str) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not text or len(text) > MAX_NAME_LENGTH or any(ord(c) < 0x20 for c in text):
        raise _fail(N_("the name is required, on one line, at most {limit} characters"), limit=200)
    return text


def _checked_scopes(scopes: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys([OPENID, *scopes]))
    if any(scope not in ALL_SCOPES for scope in chosen):
        raise _fail(N_("a scope is not one of openid name address birthdate gender sign"))
    return chosen


def _checked_jwks(jwks: Any) -> dict[str, Any]:
    try:
        checked = partners.check_jwks(jwks)
    except partners.InvalidRegistrationError as exc:
        raise InvalidClientRegistrationError(
            reason=N_("the key set is not valid: {detail}"), detail=exc.localized()
        ) from exc
    encryption = [key for key in checked["keys"] if key.get("use") == "enc"]
    if not encryption or encryption[0]["kty"] != "EC":
        raise _fail(N_("the key set needs one EC P-256 encryption key (use: enc)"))
    if encryption[0].get("alg", ENCRYPTION_ALGORITHM) != ENCRYPTION_ALGORITHM:
        raise _fail(N_("the encryption key's alg must be ECDH-ES+A256KW"))
    return checked


def register_client(
    *,
    session: Session,
    name: str,
    redirect_uris: Sequence[str],
    jwks: Any,
    scopes: Sequence[str] = ALL_SCOPES,
) -> ClientRead:
    """Register a business, or update the one of the same name (the same call twice
    changes nothing); its client id is kept."""
    clean = _checked_name(name)
    try:
        uris = partners.check_redirect_uris(list(redirect_uris))
    except partners.InvalidRegistrationError as exc:
        raise InvalidClientRegistrationError(
            reason=N_("a redirect URI is not valid: {detail}"), detail=exc.localized()
        ) from exc
    keys = _checked_jwks(jwks)
    allowed = _checked_scopes(scopes)
    now = utcnow()
    row = session.scalars(select(AuthAppClient).where(AuthAppClient.name == clean)).one_or_none()
    if row is None:
        row = AuthAppClient(
            client_id=CLIENT_ID_PREFIX + secrets.token_urlsafe(16),
            name=clean,
            redirect_uris=uris,
            jwks=keys,
            scopes=allowed,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    elif (row.redirect_uris, row.jwks, row.scopes) != (uris, keys, allowed):
        row.redirect_uris, row.jwks, row.scopes, row.updated_at = uris, keys, allowed, now
    session.flush()
    return _read(row)


def get_client(*, session: Session, client_id: str) -> ClientRead:
    """The registered business with ``client_id``; else :class:`ClientNotFoundError`."""
    row = session.get(AuthAppClient, client_id[:64]) if client_id else None
    if row is None:
        raise ClientNotFoundError
    return _read(row)


def find_client(*, session: Session, client_id: str | None) -> ClientRead | None:
    """The registered business with ``client_id``, or None."""
    if not client_id or len(client_id) > 64:
        return None
    row = session.get(AuthAppClient, client_id)
    return None if row is None else _read(row)


def list_clients(*, session: Session) -> list[ClientRead]:
    """Every registered business, by name."""
    return [_read(r) for r in session.scalars(select(AuthAppClient).order_by(AuthAppClient.name))]


def check_return_url(client: ClientRead, url: str) -> str:
    """Where the resident goes back after signing: on the client's registered site."""
    if not isinstance(url, str) or not 0 < len(url) <= 500 or any(c.isspace() for c in url):
        raise InvalidReturnUrlError
    try:
        partners.check_redirect_uri(url)
    except partners.InvalidRegistrationError as exc:
        raise InvalidReturnUrlError from exc
    if not client.allows_return_to(url):
        raise InvalidReturnUrlError
    return url


def subject(*, settings: Settings, client_id: str, resident_id: int) -> str:
    """The resident's pairwise ``sub`` for one business (OIDC Core §8.1), as partners
    derive theirs, in a sector of the authentication app's own."""
    secret = settings.secret_key.get_secret_value().encode()
    return partners.pairwise_subject(secret, f"authapp\x00{client_id}", resident_id)
