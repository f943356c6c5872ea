"""The resource APIs' use cases: 自己情報取得API (also in FHIR) and お知らせ情報取得API.

Every use goes through the consent it was given under:

* the items are the consent's, narrowed to the token's scopes; nothing else is asked;
* agencies' items are fetched through the hub for the consenting resident only, under
  the self-only procedure 本人同意に基づく民間事業者への提供 (``partner-disclosure``),
  with the organisation's name as the purpose — so each use is in the resident's
  やりとり履歴 and the exchange log; the basic 4 info too, from J-LIS's 本人確認情報
  (the ``basic-info`` item, as the signing certificate would carry them);
* each use is written as a ConsentUse row where it happens.

The answer is a JWT signed by the platform (ES256, the key at ``/oauth/jwks``) with a
``jti`` of its own; each item (or notice) inside is itself a signed JWT, so an
organisation can keep or forward one item and anyone can verify it alone (its source
agency and last update date travel with it). When the organisation registered an
encryption key (``use: enc``), the signed answer is encrypted to it as a compact JWE
(RFC 7516): ECDH-ES+A256KW (or the key's ``alg``, ECDH-ES) for an EC key, RSA-OAEP-256
for an RSA key, the content A256GCM (RFC 7518 §4.6, §4.3, §5.3). The key is looked up
before anything is fetched, so an answer is never sent in the clear to an organisation
whose key could not be read.

The health items the insurers hold also come as one FHIR R4 Bundle (JP Core), built by
``medical.fhir`` from the consented items only and signed whole (``fhir-bundle+jwt``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jwe
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy.orm import Session

from myna import agencies, network, notices
from myna.medical import fhir
from myna.medical.records import COVERAGE_ITEM, HEALTH_ITEMS, HealthRecords
from myna.partners import consents, discovery
from myna.partners.authorization import TokenContext, subject
from myna.partners.domain import (
    BASIC_INFO_ITEM,
    BASIC_INFO_SCOPES,
    MYINFO_PREFIX,
    NOTICES_SCOPE,
    PartnerError,
)
from myna.partners.models import Consent
from myna.partners.organizations import (
    CONTENT_ENCRYPTION,
    ENCRYPTION_ALGORITHMS_FOR_KTY,
    JwksCache,
    encryption_key_of,
    get_client,
)
from myna.platform.clock import JST
from myna.platform.db import utcnow
from myna.platform.errors import N_
from myna.platform.settings import Settings

PARTNER_DISCLOSURE = "partner-disclosure"
MYINFO_API = "myinfo"
HEALTH_FHIR_API = "myinfo-health-fhir"
NOTICES_API = "notices"
HEALTH_SCOPE = MYINFO_PREFIX + "health"
RESULT_TYPE = "myinfo+jwt"
HEALTH_FHIR_TYPE = "fhir-bundle+jwt"
ITEM_TYPE = "myinfo-item+jwt"
NOTICES_TYPE = "notices+jwt"
NOTICE_ITEM_TYPE = "notice-item+jwt"
RESULT_LIFETIME_SECONDS = 300
MAX_NOTICES = 50


class InsufficientScopeError(PartnerError):
    """The token or its consent does not cover what the request needs (RFC 6750 §3.1)."""

    code = "insufficient_scope"
    message = N_(
        "The resident has not consented to this information for your organisation. "
        "Ask for the scope in a new authorization request."
    )
    status_code = 403


class CoverageNotConsentedError(InsufficientScopeError):
    """The FHIR answer is built on the coverage, and the consent leaves it out."""

    message = N_(
        "A FHIR answer is built on the health insurance qualification: its Patient and "
        "Coverage come from that item. The resident has not consented to it for your "
        "organisation; ask for it in a new authorization request."
    )


@dataclass(frozen=True, slots=True)
class SignedAnswer:
    """A resource answer: the compact JWS, or the JWE around it, and its media type."""

    body: str
    media_type: str
    items: tuple[str, ...]


def _consented(session: Session, context: TokenContext) -> tuple[Consent, set[str]]:
    consent = session.get(Consent, context.consent_id)
    if consent is None or consent.revoked_at is not None:  # pragma: no cover - the token check
        raise InsufficientScopeError
    return consent, set(context.scopes) & set(consent.scopes)


def _refused(
    session: Session, consent: Consent, api: str, error: InsufficientScopeError | None = None
) -> InsufficientScopeError:
    """Record the refused use on its consent; the error to raise."""
    consents.record_use(session=session, consent_id=consent.id, api=api, items=[], succeeded=False)
    return error or InsufficientScopeError()


@dataclass(frozen=True, slots=True)
class _Reply:
    """How one use of a consent answers: the claims every JWT of it carries, the key it is
    sealed to, and the organisation's name (the purpose the hub logs)."""

    session: Session
    settings: Settings
    common: dict[str, Any]  # iss, aud, sub, iat, consent_id
    enc_key: dict[str, Any] | None
    organisation: str
    # The platform's signing key, read once for the answer and each item in it.
    key: ECKey

    @property
    def issued(self) -> int:
        return int(self.common["iat"])

    def sign(self, claims: dict[str, Any], *, typ: str) -> str:
        """A JWT signed by the platform with the common claims and ``claims``."""
        return discovery.sign_jwt_with(self.key, {**self.common, **claims}, typ=typ)

    def seal(self, claims: dict[str, Any], *, typ: str) -> tuple[str, str]:
        """The answer: signed with a lifetime and a ``jti`` of its own, encrypted if asked."""
        signed = self.sign(
            {
                "exp": self.issued + RESULT_LIFETIME_SECONDS,
                "jti": secrets.token_urlsafe(16),
                **claims,
            },
            typ=typ,
        )
        return _encrypt_if_asked(self.enc_key, signed)

    def answer(
        self,
        claims: dict[str, Any],
        *,
        typ: str,
        api: str,
        delivered: tuple[str, ...],
        succeeded: bool,
    ) -> SignedAnswer:
        """Seal the answer and write the use on its consent, where it happens."""
        body, media_type = self.seal(claims, typ=typ)
        consents.record_use(
            session=self.session,
            consent_id=str(self.common["consent_id"]),
            api=api,
            items=list(delivered),
            succeeded=succeeded,
        )
        return SignedAnswer(body=body, media_type=media_type, items=delivered)

    def disclose(
        self, hub: network.Hub, context: TokenContext, items: Iterable[str]
    ) -> network.ExchangeOutcome:
        """Ask the hub for the consenting resident's ``items`` under ``partner-disclosure``."""
        return network.request_self_information(
            session=self.session,
            hub=hub,
            resident_id=context.resident_id,
            items=sorted(items),
            procedure=PARTNER_DISCLOSURE,
            purpose=f"{self.organisation}への提供（本人の同意）"[:200],
        )


def _reply(
    session: Session, settings: Settings, cache: JwksCache, context: TokenContext, consent: Consent
) -> _Reply:
    """Prepare the answer to an allowed use; the encryption key is read before any fetch."""
    client = get_client(session=session, client_id=context.client_id)
    enc_key = encryption_key_of(settings=settings, cache=cache, client=client)
    common = {
        "iss": discovery.issuer(settings),
        "aud": context.client_id,
        "sub": subject(
            settings=settings, client_id=context.client_id, resident_id=context.resident_id
        ),
        "iat": int(utcnow().timestamp()),
        "consent_id": consent.id,
    }
    key = discovery.signing_key(session=session, settings=settings)
    return _Reply(session, settings, common, enc_key, client.name, key)


def _basic_info(record: network.ItemRecord, scopes: set[str]) -> dict[str, dict[str, Any]]:
    """The consented basic-4 scopes from J-LIS's 本人確認情報 record, as partners get them."""
    info = record.payload
    values: dict[str, dict[str, Any]] = {
        "name": {"name": info["name"], "name_kana": info["name_kana"]},
        "address": {"address": info["address"]},
        "birthdate": {"birthdate": info["birth_date"]},
        "gender": {"gender": info["sex"]},
    }
    return {scope: values[scope] for scope in BASIC_INFO_SCOPES if scope in scopes}


def _agency_name(session: Session, code: str) -> str:
    try:
        return agencies.resolve_agency(session=session, code=code).name_ja
    except agencies.UnknownAgencyError:
        return code


def _encrypt_if_asked(enc_key: dict[str, Any] | None, signed: str) -> tuple[str, str]:
    """The JWE around ``signed`` when the organisation registered an encryption key."""
    if enc_key is None:
        return signed, "application/jwt"
    kty = enc_key["kty"]
    alg = enc_key.get("alg") or ENCRYPTION_ALGORITHMS_FOR_KTY[kty][0]
    key = ECKey.import_key(enc_key) if kty == "EC" else RSAKey.import_key(enc_key)
    header = {"alg": alg, "enc": CONTENT_ENCRYPTION, "cty": "JWT", "kid": enc_key.get("kid", "")}
    # joserfc holds back RSA-OAEP-256 unless asked: name exactly the two algorithms used.
    body = jwe.encrypt_compact(header, signed, key, algorithms=[alg, CONTENT_ENCRYPTION])
    return body, "application/jose"


def _not_answered(outcome: network.ExchangeOutcome) -> list[str]:
    """The items some provider did not answer (failed, timed out or refused): ask again."""
    return sorted({r.item for r in outcome.results if not r.outcome.answered})


def self_information(
    *,
    session: Session,
    settings: Settings,
    hub: network.Hub,
    cache: JwksCache,
    context: TokenContext,
) -> SignedAnswer:
    """自己情報取得API: the consented items, fetched through the hub, signed item by item."""
    consent, scopes = _consented(session, context)
    wanted = [
        item
        for item in consent.items
        if item["scope"] in scopes and str(item["source"]).startswith(("kind:", "agency:"))
    ]
    basic = [scope for scope in BASIC_INFO_SCOPES if scope in scopes]
    if not wanted and not basic:
        raise _refused(session, consent, MYINFO_API)
    reply = _reply(session, settings, cache, context, consent)
    items = {str(item["item"]) for item in wanted} | ({BASIC_INFO_ITEM} if basic else set())
    outcome = reply.disclose(hub, context, items)
    names = {str(item["item"]): str(item["name_ja"]) for item in wanted}
    entries: list[dict[str, Any]] = []
    unavailable: list[str] = []
    results = outcome.results
    agency_names = {code: _agency_name(session, code) for code in {r.provider for r in results}}
    for result in results:
        if not result.outcome.answered:
            unavailable.extend(basic if result.item == BASIC_INFO_ITEM else [result.item])
            continue
        for record in result.records:
            source = {"agency": record.provider, "name": agency_names[record.provider]}
            if record.item == BASIC_INFO_ITEM:
                for scope, data in _basic_info(record, scopes).items():
                    claims = {"item": scope, "data": data, "source": source}
                    entries.append({**claims, "jwt": reply.sign(claims, typ=ITEM_TYPE)})
                continue
            claims = {
                "item": record.item,
                "name": names.get(record.item, record.item),
                "data": record.payload,
                "source": source,
                "updated_at": record.updated_at,
            }
            entries.append({**claims, "jwt": reply.sign(claims, typ=ITEM_TYPE)})
    return reply.answer(
        {"items": entries, "unavailable": sorted(set(unavailable))},
        typ=RESULT_TYPE,
        api=MYINFO_API,
        delivered=tuple(dict.fromkeys(str(e["item"]) for e in entries)),
        succeeded=not unavailable,
    )


def health_bundle(
    *,
    session: Session,
    settings: Settings,
    hub: network.Hub,
    cache: JwksCache,
    context: TokenContext,
) -> SignedAnswer:
    """自己情報取得API in FHIR: the consented insurers' items as one signed FHIR R4 Bundle.

    The Bundle (JP Core) is built on the coverage: its Patient and Coverage come from the
    ``health-insurance`` item, and every other resource refers to them. Without that item
    in the consent there is nothing honest to build on, so the use is refused before
    anything is fetched (:class:`CoverageNotConsentedError`).
    """
    consent, scopes = _consented(session, context)
    chosen = {
        str(item["item"])
        for item in consent.items
        if item["scope"] == HEALTH_SCOPE and item["item"] in HEALTH_ITEMS
    }
    if HEALTH_SCOPE not in scopes or not chosen:
        raise _refused(session, consent, HEALTH_FHIR_API)
    if COVERAGE_ITEM not in chosen:
        raise _refused(session, consent, HEALTH_FHIR_API, CoverageNotConsentedError())
    reply = _reply(session, settings, cache, context, consent)
    outcome = reply.disclose(hub, context, chosen)
    unavailable = _not_answered(outcome)
    payloads: dict[str, list[dict[str, Any]]] = {}
    for result in outcome.results:
        for record in result.records:
            payloads.setdefault(result.item, []).append(record.payload)
    held = HealthRecords.from_payloads(payloads, unavailable)
    document = None
    delivered: tuple[str, ...] = ()
    if held.coverage is not None:
        # The limit category (限度額適用区分) is part of the coverage item consented to.
        document = fhir.health_bundle(
            coverage_record=held.coverage,
            seed=secrets.token_urlsafe(12),
            timestamp=datetime.fromtimestamp(reply.issued, JST),
            include_limit=True,
            medications=held.medications,
            clinical=held.clinical,
            checkups=held.checkups,
            expenses=held.expenses,
        )
        delivered = tuple(item for item in HEALTH_ITEMS if payloads.get(item))
    return reply.answer(
        {"bundle": document, "unavailable": unavailable},
        typ=HEALTH_FHIR_TYPE,
        api=HEALTH_FHIR_API,
        delivered=delivered,
        succeeded=not unavailable,
    )


def shared_notices(
    *, session: Session, settings: Settings, cache: JwksCache, context: TokenContext
) -> SignedAnswer:
    """お知らせ情報取得API: the resident's notices, when they agreed to share them."""
    consent, scopes = _consented(session, context)
    if NOTICES_SCOPE not in scopes:
        raise _refused(session, consent, NOTICES_API)
    reply = _reply(session, settings, cache, context, consent)
    page = notices.inbox(session=session, resident_id=context.resident_id, page_size=MAX_NOTICES)
    senders = {code: _agency_name(session, code) for code in {i.sender for i in page.items}}
    listed: list[dict[str, Any]] = []
    for item in page.items:
        notice = {
            "id": item.id,
            "title": item.title,
            "sender": {"agency": item.sender, "name": senders[item.sender]},
            "category": item.category.value,
            "deadline": None if item.deadline is None else item.deadline.isoformat(),
            "published_at": item.published_at.isoformat(),
        }
        # Each notice verifies on its own, as each item of 自己情報取得API does.
        listed.append({**notice, "jwt": reply.sign(notice, typ=NOTICE_ITEM_TYPE)})
    return reply.answer(
        {"notices": listed},
        typ=NOTICES_TYPE,
        api=NOTICES_API,
        delivered=(NOTICES_SCOPE,),
        succeeded=True,
    )


def consent_receipt(*, session: Session, context: TokenContext) -> SignedAnswer:
    """The signed consent receipt of the token's consent: what the organisation is bound by.

    The same JWS the resident downloads (``consent-receipt+jwt``), served as signed when the
    resident consented; it holds no personal data beyond the pairwise ``sub``.
    """
    consent, _scopes = _consented(session, context)
    return SignedAnswer(body=consent.receipt, media_type="application/jwt", items=())
