"""What the consent pages (同意, 同意の一覧, 同意の詳細) need to render."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from myna.partners import consents
from myna.partners.domain import OrganizationStatus, RegisteredClient, RequestedScope

_CLIENT = RegisteredClient(
    client_id="bank-client",
    name="さくら銀行",
    purpose="住宅ローンの審査に所得を確認するため",
    status=OrganizationStatus.APPROVED,
    redirect_uris=("https://bank.example/callback",),
    jwks=None,
    jwks_uri=None,
    requested_scopes=(RequestedScope("myinfo.local-tax", "年収の確認"),),
    approved_scopes=("openid", "name", "myinfo.local-tax"),
    retention="審査終了から7年",
)
_OFFERS = consents.offers(_CLIENT, ("openid", "name", "myinfo.local-tax"))
_WHEN = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
_CONSENT = consents.ConsentView(
    id="c0nsent-id",
    client_id="bank-client",
    organization_name="さくら銀行",
    purpose=_CLIENT.purpose,
    retention=_CLIENT.retention,
    scopes=("openid", "myinfo.local-tax"),
    items=tuple(item for offer in _OFFERS for item in offer.items),
    granted_at=_WHEN,
    revoked_at=None,
    receipt="eyJ.eyJ.sig",
    uses=(consents.UseView(api="myinfo", items=("resident-tax",), succeeded=True, used_at=_WHEN),),
)
_REVOKED = replace(_CONSENT, id="revoked-id", revoked_at=_WHEN, uses=())

CONTEXT = {
    "consent_client": _CLIENT,
    "consent_offers": _OFFERS,
    "consent_pending_id": "pending-1",
    "consent_expires_at": _WHEN,
    "consent_list": [_CONSENT, _REVOKED],
    "consent": _CONSENT,
    "consent_jwks_url": "http://127.0.0.1:8000/oauth/jwks",
    "consent_done": "revoked",
    "consent_error": "提供する項目を1つ以上選ぶか、「同意しない」を押してください。",
}
