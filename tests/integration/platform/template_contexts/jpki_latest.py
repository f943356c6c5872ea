"""What the pages of 最新4情報提供 need: the residents' consents and the counter's re-issue."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

_CONSENT = SimpleNamespace(
    id=1,
    verifier="mirai-bank",
    verifier_name="みらい銀行株式会社",
    consent_id="C-0001",
    purpose="お届けの住所・氏名の変更を確認するため（預金口座の管理）",
    certificate_serial="1a2b3c",
    consented_at=datetime(2026, 12, 4, 1, 0, tzinfo=UTC),
    registered_at=datetime(2026, 12, 4, 1, 5, tzinfo=UTC),
    withdrawn_at=None,
    live=True,
)

CONTEXT = {
    "latest_consents": (
        _CONSENT,
        SimpleNamespace(
            **{
                **vars(_CONSENT),
                "id": 2,
                "live": False,
                "withdrawn_at": datetime(2026, 12, 5, 2, 0, tzinfo=UTC),
            }
        ),
    ),
    "latest_withdrawn": True,
    "latest_consent": _CONSENT,
    "office_reissue_municipality": "東京都千代田区",
    "office_reissue_card_id": "b250176f1d27e1a67d2b",
    "office_reissued": SimpleNamespace(
        card_id="b250176f1d27e1a67d2b",
        holder_name="山田 太郎",
        sign_not_after=datetime(2031, 7, 14, 14, 59, tzinfo=UTC),
    ),
}
