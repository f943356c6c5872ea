"""Pure rules of partner integrations: scopes, organisation states, pairwise subjects.

No I/O here. Scopes follow the categories of わたしの情報 (``myinfo.<category>``), the
basic 4 info as the Digital Agency's authentication app names them (``name address
birthdate gender``), ``openid`` and ``notices`` (お知らせ情報取得API).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from myna.platform.encoding import b64url
from myna.platform.errors import N_, MynaError, NotFoundError
from myna.platform.oauth import rfc7515

OPENID = "openid"
BASIC_INFO_SCOPES = ("name", "address", "birthdate", "gender")
# J-LIS's 本人確認情報 (agencies/data/items.toml): the item behind the basic-4 scopes.
BASIC_INFO_ITEM = "basic-info"
NOTICES_SCOPE = "notices"
MYINFO_PREFIX = "myinfo."
# わたしの情報 categories (agencies/data/items.toml), one scope each.
MYINFO_CATEGORIES = (
    "household",
    "local-tax",
    "health",
    "child",
    "welfare",
    "employment",
    "national-tax",
)
ALL_SCOPES = (
    OPENID,
    *BASIC_INFO_SCOPES,
    NOTICES_SCOPE,
    *(MYINFO_PREFIX + category for category in MYINFO_CATEGORIES),
)
# FAPI 2.0 Security Profile §5.4: the platform's (PS256 and ES256) for assertions and DPoP.
SIGNING_ALGORITHMS = rfc7515.SIGNING_ALGORITHMS
CODE_LIFETIME_SECONDS = 60
ACCESS_TOKEN_LIFETIME_SECONDS = 300
PAR_LIFETIME_SECONDS = 60


class OrganizationStatus(StrEnum):
    """Where an organisation's registration stands."""

    PENDING = "pending"  # 審査待ち
    APPROVED = "approved"  # 承認済み
    REJECTED = "rejected"  # 不承認
    SUSPENDED = "suspended"  # 利用停止


class PartnerError(MynaError):
    """Base of partner-integration errors."""

    code = "partner_error"


class UnknownScopeError(PartnerError):
    code = "unknown_scope"
    message = N_("“{scope}” is not a scope of this platform. See the list in docs/api/.")
    status_code = 400


class OrganizationNotFoundError(NotFoundError):
    code = "organization_not_found"
    message = N_("No organisation with this client ID is registered.")


@dataclass(frozen=True, slots=True)
class RequestedScope:
    """A scope an organisation asks for, and why (shown to the reviewer and the resident)."""

    scope: str
    reason: str


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    """An organisation as the authorization server and the consent page see it."""

    client_id: str
    name: str
    purpose: str
    status: OrganizationStatus
    redirect_uris: tuple[str, ...]
    jwks: dict[str, Any] | None
    jwks_uri: str | None
    requested_scopes: tuple[RequestedScope, ...]
    approved_scopes: tuple[str, ...]
    retention: str
    contact: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_active(self) -> bool:
        return self.status is OrganizationStatus.APPROVED


def check_scope(scope: str) -> str:
    """A known scope, or UnknownScopeError."""
    if scope not in ALL_SCOPES:
        raise UnknownScopeError(scope=scope[:60])
    return scope


def parse_scopes(text: str) -> tuple[str, ...]:
    """The space-separated scope parameter (RFC 6749 §3.3), known scopes only, in order."""
    return tuple(dict.fromkeys(check_scope(s) for s in text.split()))


def pairwise_subject(secret: bytes, client_id: str, resident_id: int) -> str:
    """The pairwise pseudonym of a resident for one organisation (OIDC Core §8.1).

    HMAC-SHA-256 under the deployment's key over the client id and the resident's
    internal id: stable per (organisation, resident), unlinkable across organisations,
    never the MyNumber.
    """
    digest = hmac.new(secret, f"{client_id}\x00{resident_id}".encode(), hashlib.sha256).digest()
    return b64url(digest)
