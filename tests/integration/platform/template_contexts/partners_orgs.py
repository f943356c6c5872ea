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
