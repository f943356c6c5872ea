"""Consents (同意): what a resident agreed to share with one organisation, and its receipt.

Each time an organisation asks, the resident sees every item with its source agency and
consents item by item; the consent is kept with a signed **consent receipt** (a JWS,
ES256 under the portal's key, ``typ: consent-receipt+jwt``) that the resident can
download and anyone can verify with the published JWKS (``/oauth/jwks``). The claims
follow the spirit of the Kantara Consent Receipt (ISO/IEC TS 27560): who, to whom, what,
from where, why, for how long, under which jurisdiction and policy.

Every use of a consent is written where it happens (:func:`record_use`); revoking a
consent revokes its access tokens in the same transaction (:func:`revoke_consent`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import agencies
from myna.partners import authorization, discovery
from myna.partners.domain import (
    BASIC_INFO_ITEM,
    BASIC_INFO_SCOPES,
    MYINFO_PREFIX,
    NOTICES_SCOPE,
    OPENID,
    PartnerError,
    RegisteredClient,
)
from myna.partners.models import Consent, ConsentUse, Organization
from myna.platform import i18n
from myna.platform.db import insert_row, utcnow
from myna.platform.errors import N_, NotFoundError
from myna.platform.settings import Settings

RECEIPT_TYPE = "consent-receipt+jwt"
RECEIPT_ALGORITHM = "ES256"
RECEIPT_VERSION = "myna-consent-receipt/1"
JURISDICTION = "JP"
MAX_ITEMS = 100


class ConsentNotFoundError(NotFoundError):
    code = "consent_not_found"
    message = N_("No such consent was found among yours.")


class ItemNotOfferedError(PartnerError):
    code = "item_not_offered"
    message = N_("You can only consent to the items this organisation asked for.")
    status_code = 400


class NothingChosenError(PartnerError):
    code = "nothing_chosen"
    message = N_("Tick at least one item to share, or press “Do not consent”.")
    status_code = 422


class OrganizationNotActiveError(PartnerError):
    code = "organization_not_active"
    message = N_("This organisation may not receive information now (not approved or suspended).")
    status_code = 403


class InvalidReceiptError(PartnerError):
    code = "invalid_receipt"
    message = N_("This consent receipt is not valid: {reason}")
    status_code = 400


@dataclass(frozen=True, slots=True)
class ConsentItem:
    """One item a scope covers, and the agency it comes from."""

    scope: str
    item: str
    name_ja: str
    name_en: str
    source: str  # "jlis" (the basic 4), "portal", "kind:<agency kind>" or "agency:<code>"
    source_ja: str
    source_en: str

    @property
    def key(self) -> str:
        """The checkbox value on the consent page."""
        return f"{self.scope}:{self.item}"

    @property
    def label(self) -> str:
        return _name(self.name_ja, self.name_en)

    @property
    def source_label(self) -> str:
        return _name(self.source_ja, self.source_en)

    def as_json(self) -> dict[str, str]:
        return {
            "scope": self.scope,
            "item": self.item,
            "name_ja": self.name_ja,
            "name_en": self.name_en,
            "source": self.source,
            "source_ja": self.source_ja,
            "source_en": self.source_en,
        }


@dataclass(frozen=True, slots=True)
class ScopeOffer:
    """A requested scope on the consent page: the organisation's reason and its items."""

    scope: str
    reason: str
    items: tuple[ConsentItem, ...]

    @property
    def required(self) -> bool:
        """``openid`` identifies the resident to the organisation; it cannot be unticked."""
        return self.scope == OPENID

    @property
    def label(self) -> str:
        return _name(*_scope_names(self.scope))


@dataclass(frozen=True, slots=True)
class UseView:
    """One use of a consent by its organisation."""

    api: str
    items: tuple[str, ...]
    succeeded: bool
    used_at: datetime

    @property
    def api_label(self) -> str:
        """The API used, in the resident's words (自己情報取得API, お知らせ情報取得API)."""
        return _name(*_API_NAMES.get(self.api, (self.api, self.api)))

    @property
    def item_labels(self) -> tuple[str, ...]:
        """The items provided, by their names in the agencies catalog."""
        return tuple(_name(*item_names(item)) for item in self.items)


@dataclass(frozen=True, slots=True)
class ConsentView:
    """A consent as the resident sees it."""

    id: str
    client_id: str
    organization_name: str
    purpose: str
    retention: str
    scopes: tuple[str, ...]
    items: tuple[ConsentItem, ...]
    granted_at: datetime
    revoked_at: datetime | None
    receipt: str
    uses: tuple[UseView, ...]
    # The later consent to the same organisation that ended this one, if one did.
    replaced_by: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def scope_labels(self) -> tuple[str, ...]:
        """The scopes consented to, in the resident's words."""
        return tuple(scope_label(scope) for scope in self.scopes)


# -- items and their sources -------------------------------------------------------------

_BASIC_NAMES = {
    "name": ("氏名", "Name"),
    "address": ("住所", "Address"),
    "birthdate": ("生年月日", "Date of birth"),
    "gender": ("性別", "Gender"),
}
_KIND_SOURCES = {
    agencies.AgencyKind.MUNICIPALITY: ("お住まいの市区町村", "Your municipality"),
    agencies.AgencyKind.INSURER: ("加入している医療保険者", "Your health insurer"),
    agencies.AgencyKind.POLICE: ("警察庁", "National Police Agency"),
    agencies.AgencyKind.NATIONAL: ("国の行政機関", "A national agency"),
}
_JLIS_SOURCE = (
    "地方公共団体情報システム機構（本人確認情報）",
    "J-LIS (identity information from the resident register)",
)
_PORTAL_SOURCE = ("マイナポータル", "Mynaportal")
# The resource APIs a use is recorded under (``record_use``'s ``api``).
_API_NAMES = {
    "myinfo": ("自己情報取得API", "My information API"),
    "myinfo-health-fhir": ("自己情報取得API（FHIR）", "My information API (FHIR)"),
    "notices": ("お知らせ情報取得API", "Notices API"),
}
_OTHER_ITEM_NAMES = {
    "sub": ("利用者識別子（仮名）", "Pseudonymous ID"),
    "notices": ("行政機関等からのお知らせ", "Notices from public bodies"),
}


def _name(ja: str, en: str) -> str:
    return ja if i18n.get_locale() == "ja" else en


def scope_label(scope: str) -> str:
    """A scope in the resident's words (``myinfo.local-tax`` is わたしの情報：地方税)."""
    return _name(*_scope_names(scope))


def item_names(item: str) -> tuple[str, str]:
    """An item's Japanese and English names: the basic four, the catalog's, or the code."""
    if item in _BASIC_NAMES:
        return _BASIC_NAMES[item]
    if item in _OTHER_ITEM_NAMES:
        return _OTHER_ITEM_NAMES[item]
    schema = agencies.load_catalog().items.get(item)
    if schema is None:
        return (item, item)
    return (schema.name_ja, schema.name_en)


def _scope_names(scope: str) -> tuple[str, str]:
    if scope == OPENID:
        return (
            "本人確認（この事業者専用の利用者識別子）",
            "Identification (an ID for this organisation only)",
        )
    if scope in _BASIC_NAMES:
        return ("基本4情報", "Basic four facts")
    if scope == NOTICES_SCOPE:
        return ("お知らせ", "Notices")
    category = agencies.load_catalog().categories.get(scope.removeprefix(MYINFO_PREFIX))
    if category is None:
        return (scope, scope)
    return (f"わたしの情報：{category.name_ja}", f"My information: {category.name_en}")


@cache
def items_of_scope(scope: str) -> tuple[ConsentItem, ...]:
    """The items a scope covers, each with its source (the agencies catalog for myinfo)."""
    if scope == OPENID:
        return (
            ConsentItem(
                scope, "sub", "利用者識別子（仮名）", "Pseudonymous ID", "portal", *_PORTAL_SOURCE
            ),
        )
    if scope in BASIC_INFO_SCOPES:
        ja, en = _BASIC_NAMES[scope]
        return (ConsentItem(scope, scope, ja, en, "jlis", *_JLIS_SOURCE),)
    if scope == NOTICES_SCOPE:
        return (
            ConsentItem(
                scope,
                "notices",
                "行政機関等からのお知らせ",
                "Notices from public bodies",
                "portal",
                *_PORTAL_SOURCE,
            ),
        )
    if not scope.startswith(MYINFO_PREFIX):
        return ()
    catalog = agencies.load_catalog()
    found: list[ConsentItem] = []
    for schema in catalog.items_in(scope.removeprefix(MYINFO_PREFIX)):
        if schema.code == BASIC_INFO_ITEM:
            continue  # the basic 4 info are consented to scope by scope (name, address...)
        provider = schema.provider
        if provider.agency is not None:
            agency = catalog.agencies.get(provider.agency)
            source = f"agency:{provider.agency}"
            names = (agency.name_ja, agency.name_en) if agency else (provider.agency,) * 2
        else:
            kind = provider.kind or agencies.AgencyKind.NATIONAL
            source = f"kind:{kind.value}"
            names = _KIND_SOURCES[kind]
        found.append(
            ConsentItem(scope, schema.code, schema.name_ja, schema.name_en, source, *names)
        )
    return tuple(found)


def offers(client: RegisteredClient, scopes: Iterable[str]) -> list[ScopeOffer]:
    """What the consent page shows: each requested scope (openid first) with its items."""
    reasons = {r.scope: r.reason for r in client.requested_scopes}
    requested = list(dict.fromkeys(scopes))
    # openid first: it is the login itself, shown ticked and never optional.
    ordered = sorted(requested, key=lambda s: s != OPENID)
    return [
        ScopeOffer(scope=s, reason=reasons.get(s, ""), items=items_of_scope(s))
        for s in ordered
        if items_of_scope(s)
    ]


def chosen_items(offered: Sequence[ScopeOffer], keys: Iterable[str]) -> list[ConsentItem]:
    """The ticked items, openid always; a key the page did not offer is refused.

    Consenting to nothing at all is refusing: the resident is asked to choose.
    """
    by_key = {item.key: item for offer in offered for item in offer.items}
    wanted = set(list(keys)[:MAX_ITEMS])
    unknown = wanted - by_key.keys()
    if unknown:
        raise ItemNotOfferedError
    chosen = [
        item for offer in offered for item in offer.items if offer.required or item.key in wanted
    ]
    if not chosen:
        raise NothingChosenError
    return chosen


# -- the receipt -------------------------------------------------------------------------


def receipt_claims(
    *,
    issuer: str,
    consent_id: str,
    subject: str,
    client: RegisteredClient,
    items: Sequence[ConsentItem],
    granted_at: datetime,
) -> dict[str, Any]:
    """The consent receipt's claims: who consented, to whom, to what, from where, how long."""
    base = issuer.rstrip("/")
    return {
        "iss": base,
        "sub": subject,
        "aud": client.client_id,
        "iat": int(granted_at.timestamp()),
        "jti": consent_id,
        "version": RECEIPT_VERSION,
        "consent_id": consent_id,
        "organization": {"client_id": client.client_id, "name": client.name},
        "purpose": client.purpose,
        "items": [
            {
                "scope": i.scope,
                "item": i.item,
                "name": i.name_ja,
                "source": i.source,
                "source_name": i.source_ja,
            }
            for i in items
        ],
        "scopes": sorted({i.scope for i in items}),
        "retention": client.retention,
        "granted_at": granted_at.isoformat(),
        "jurisdiction": JURISDICTION,
        "policy_url": f"{base}/partners",
        "consent_url": f"{base}/consents/{consent_id}",
    }


def sign_receipt(*, session: Session, settings: Settings, claims: dict[str, Any]) -> str:
    """The receipt as a compact JWS under the platform's key (the ID tokens' key)."""
    return discovery.sign_jwt(session=session, settings=settings, claims=claims, typ=RECEIPT_TYPE)


def verify_receipt(receipt: str, jwks: KeySet | dict[str, Any]) -> dict[str, Any]:
    """The claims of a receipt whose type, algorithm (ES256 only) and signature check out.

    ``jwks`` is the platform's JWK Set (``/oauth/jwks``) as a dict or a joserfc KeySet.
    Per RFC 8725 §3.1 the algorithm is fixed by the verifier, never taken from the token.
    """
    keys = jwks if isinstance(jwks, KeySet) else _key_set(jwks)
    try:
        token = jwt.decode(receipt.strip(), keys, algorithms=[RECEIPT_ALGORITHM])
    except (JoseError, ValueError, TypeError) as error:
        raise InvalidReceiptError(reason=type(error).__name__) from error
    if token.header.get("typ") != RECEIPT_TYPE:
        raise InvalidReceiptError(reason="typ")
    if token.claims.get("jurisdiction") != JURISDICTION or "consent_id" not in token.claims:
        raise InvalidReceiptError(reason="claims")
    return dict(token.claims)


def _key_set(jwks: dict[str, Any]) -> KeySet:
    try:
        return KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise InvalidReceiptError(reason="jwks") from error


# -- use cases ---------------------------------------------------------------------------


def create_consent(
    *,
    session: Session,
    settings: Settings,
    resident_id: int,
    client: RegisteredClient,
    scopes: Sequence[str],
    chosen: Iterable[str],
) -> ConsentView:
    """Keep the resident's consent to the ticked items, with its signed receipt."""
    if not client.is_active:
        raise OrganizationNotActiveError
    offered = offers(client, (s for s in scopes if s in client.approved_scopes or s == OPENID))
    items = chosen_items(offered, chosen)
    consent_id = secrets.token_urlsafe(24)
    granted_at = utcnow()
    subject = authorization.subject(
        settings=settings, client_id=client.client_id, resident_id=resident_id
    )
    claims = receipt_claims(
        issuer=discovery.issuer(settings),
        consent_id=consent_id,
        subject=subject,
        client=client,
        items=items,
        granted_at=granted_at,
    )
    row = Consent(
        id=consent_id,
        resident_id=resident_id,
        client_id=client.client_id,
        scopes=list(dict.fromkeys(i.scope for i in items)),
        items=[i.as_json() for i in items],
        purpose=client.purpose,
        retention=client.retention,
        receipt=sign_receipt(session=session, settings=settings, claims=claims),
        granted_at=granted_at,
        revoked_at=None,
    )
    _replace_earlier(session, resident_id, client.client_id, granted_at)
    session.add(row)
    session.flush()
    return _view(row, client.name, ())


def _replace_earlier(session: Session, resident_id: int, client_id: str, moment: datetime) -> None:
    """End the resident's consents in force to this organisation: the new answer replaces them.

    A resident has at most one consent in force per organisation, so what it may receive
    is always the last answer given. An earlier consent ends at the moment of the new one
    (that is how the pages tell "replaced" from "withdrawn") and its tokens die with it.
    """
    earlier = session.scalars(
        select(Consent).where(
            Consent.resident_id == resident_id,
            Consent.client_id == client_id,
            Consent.revoked_at.is_(None),
        )
    ).all()
    for consent in earlier:
        consent.revoked_at = moment
        authorization.revoke_consent_tokens(session=session, consent_id=consent.id)


def list_consents(*, session: Session, resident_id: int) -> list[ConsentView]:
    """The resident's consents, newest first, each with its uses."""
    rows = session.scalars(
        select(Consent)
        .where(Consent.resident_id == resident_id)
        .order_by(Consent.granted_at.desc(), Consent.id)
    ).all()
    names = _organization_names(session, {r.client_id for r in rows})
    uses = _uses(session, [r.id for r in rows])
    return [
        _view(r, names.get(r.client_id, r.client_id), uses.get(r.id, ()), _replacement(r, rows))
        for r in rows
    ]


def get_consent(*, session: Session, resident_id: int, consent_id: str) -> ConsentView:
    """One of the resident's consents; another resident's is not found, never shown."""
    row = _own(session, resident_id, consent_id)
    names = _organization_names(session, {row.client_id})
    later: Sequence[Consent] = ()
    if row.revoked_at is not None:
        later = session.scalars(
            select(Consent).where(
                Consent.resident_id == resident_id,
                Consent.client_id == row.client_id,
                Consent.granted_at == row.revoked_at,
            )
        ).all()
    return _view(
        row,
        names.get(row.client_id, row.client_id),
        _uses(session, [row.id]).get(row.id, ()),
        _replacement(row, later),
    )


def revoke_consent(*, session: Session, resident_id: int, consent_id: str) -> ConsentView:
    """Withdraw a consent; its access tokens stop working in the same transaction."""
    row = _own(session, resident_id, consent_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    # Even when already revoked: a token issued in a race must not survive.
    authorization.revoke_consent_tokens(session=session, consent_id=row.id)
    session.flush()
    return get_consent(session=session, resident_id=resident_id, consent_id=consent_id)


def record_use(
    *, session: Session, consent_id: str, api: str, items: Sequence[str], succeeded: bool
) -> None:
    """Write one use of a consent, where the use happens (shown in the consent's history)."""
    insert_row(
        session,
        ConsentUse,
        {
            "consent_id": consent_id,
            "api": api[:64],
            "items": list(items),
            "succeeded": succeeded,
            "used_at": utcnow(),
        },
    )


def _own(session: Session, resident_id: int, consent_id: str) -> Consent:
    row = session.get(Consent, consent_id[:64])
    if row is None or row.resident_id != resident_id:
        raise ConsentNotFoundError
    return row


def _organization_names(session: Session, client_ids: set[str]) -> dict[str, str]:
    if not client_ids:
        return {}
    rows = session.execute(
        select(Organization.client_id, Organization.name).where(
            Organization.client_id.in_(client_ids)
        )
    ).all()
    return {row.client_id: row.name for row in rows}


def _uses(session: Session, consent_ids: list[str]) -> dict[str, tuple[UseView, ...]]:
    if not consent_ids:
        return {}
    found: dict[str, list[UseView]] = {}
    for use in session.scalars(
        select(ConsentUse)
        .where(ConsentUse.consent_id.in_(consent_ids))
        .order_by(ConsentUse.used_at.desc(), ConsentUse.id.desc())
    ):
        found.setdefault(use.consent_id, []).append(
            UseView(
                api=use.api, items=tuple(use.items), succeeded=use.succeeded, used_at=use.used_at
            )
        )
    return {k: tuple(v) for k, v in found.items()}


def _replacement(row: Consent, others: Sequence[Consent]) -> str | None:
    """The consent that replaced ``row``: the same organisation's, given as ``row`` ended."""
    if row.revoked_at is None:
        return None
    for other in others:
        same = other.client_id == row.client_id and other.resident_id == row.resident_id
        if same and other.id != row.id and other.granted_at == row.revoked_at:
            return other.id
    return None


def _view(
    row: Consent,
    organization_name: str,
    uses: tuple[UseView, ...],
    replaced_by: str | None = None,
) -> ConsentView:
    return ConsentView(
        id=row.id,
        client_id=row.client_id,
        organization_name=organization_name,
        purpose=row.purpose,
        retention=row.retention,
        scopes=tuple(row.scopes),
        items=tuple(ConsentItem(**item) for item in row.items),
        granted_at=row.granted_at,
        revoked_at=row.revoked_at,
        receipt=row.receipt,
        uses=uses,
        replaced_by=replaced_by,
    )
