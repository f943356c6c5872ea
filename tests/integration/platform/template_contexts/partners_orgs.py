"""Values the organisation pages (連携サービス一覧) need to render."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

CONTEXT = {
    "partner_services": [
        SimpleNamespace(
            client_id="org-1",
            name="みらい銀行",
            purpose="口座開設の本人確認のため",
            retention="口座解約から7年",
            contact="api-support@mirai-bank.example",
            approved_at=datetime(2026, 11, 28, tzinfo=UTC),
            scopes=[
                SimpleNamespace(scope="openid", label="利用者の識別", reason="ログインのため"),
                SimpleNamespace(scope="name", label="氏名", reason="口座名義の確認のため"),
            ],
        )
    ],
}

_ORG = SimpleNamespace(
    client_id="org-1",
    name="みらい銀行",
    purpose="口座開設の本人確認のため",
    retention="口座解約から7年",
    contact="api-support@mirai-bank.example",
    status=SimpleNamespace(value="pending"),
    redirect_uris=("https://mirai-bank.example/cb",),
    jwks_uri=None,
    requested_scopes=(SimpleNamespace(scope="openid", reason="ログインのため"),),
    approved_scopes=(),
    extra={
        "created_at": datetime(2026, 11, 28, tzinfo=UTC),
        "reviewed_at": None,
        "review_note": "",
    },
)

CONTEXT.update(
    {
        "review_admin": "審査 担当",
        "review_clients": [_ORG],
        "review_status": "",
        "review_statuses": [("pending", "審査待ち"), ("approved", "承認済み")],
        "review_client": _ORG,
        "review_status_label": "審査待ち",
        "review_scope_label": lambda scope: scope,
        "review_done": "",
        "review_error": "確認のチェックを入れてください。",
        "review_error_form": "review",
    }
)
