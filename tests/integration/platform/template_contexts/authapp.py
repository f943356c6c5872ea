"""What the authentication app's pages (consent, signing, a signing transaction) need."""

from __future__ import annotations

from datetime import UTC, date, datetime

from myna.applications import submission
from myna.authapp.clients import ClientRead
from myna.authapp.domain import IdentityClaims
from myna.authapp.oidc import ConsentView
from myna.authapp.signing import SignRequestPage

_WHEN = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
_DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
_CLIENT = ClientRead(
    client_id="aa-sample",
    name="さくら証券株式会社",
    redirect_uris=("https://broker.example/callback",),
    scopes=("openid", "name", "address", "birthdate", "gender", "sign"),
    jwks={"keys": []},
)
_SIGNING = submission.SigningRequestView(
    id="signing-request-id",
    municipality_code="",
    procedure_code="authapp-sign",
    procedure_name="口座開設申込書",
    municipality_name="さくら証券株式会社",
    content=b"{}",
    content_sha256=_DIGEST,
    expires_at=_WHEN,
    receipt_number=None,
    purpose="authapp-sign",
)

CONTEXT = {
    "authapp_consent": ConsentView(
        id="a" * 43,
        client=_CLIENT,
        scopes=("openid", "name", "address", "birthdate", "gender"),
        labels=("本人であること", "氏名", "住所", "生年月日", "性別"),
        needs_signature=True,
        identity=IdentityClaims("山田 太郎", "東京都千代田区千代田1-1", date(1985, 4, 12), 1),
        signing_request_id=None,
        redirect_uri="https://broker.example/callback",
        expires_at=_WHEN,
    ),
    "authapp_error": None,
    "authapp_sign": SignRequestPage(
        id="s" * 43,
        client_name="さくら証券株式会社",
        title="口座開設申込書",
        digests=(_DIGEST,),
        return_url="https://broker.example/signed",
        expires_at=_WHEN,
        signed=False,
        signing_request_id=None,
    ),
    "authapp_heading": "さくら証券株式会社",
    "authapp_signing": _SIGNING,
    "authapp_signing_state": {"state": "pending"},
    "authapp_signing_link": "http://127.0.0.1:8001/sign?request_uri=x",
    "authapp_signing_answers": [{"title": "署名する文書", "answers": [["文書1", _DIGEST]]}],
    "authapp_back_href": "/authapp/sign/" + "s" * 43,
    "authapp_again_href": "/authapp/sign/" + "s" * 43 + "/signing",
}
