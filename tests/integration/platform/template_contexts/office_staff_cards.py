"""What the back office's staff card pages (職員証) and the card login need to render."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

CONTEXT = {
    # The card login: a challenge on the page (None shows the way to start again).
    "challenge_id": "abc",
    "audience": "staff",
    "office_cards": SimpleNamespace(
        staff=SimpleNamespace(
            id=2, display_name="山本", login_id="yamamoto", role="clerk", disabled=True
        ),
        cards=(
            SimpleNamespace(
                id=1,
                certificate_serial="123456789012345678901234567890",
                certificate_subject="0F1E2D3C4B5A69788796A5B4C3D2E1F0",
                certificate_not_after=datetime(2030, 4, 12, tzinfo=UTC),
                registered_at=datetime(2026, 12, 4, 1, 0, tzinfo=UTC),
                registered_by="管理 花子",
                last_used_at=None,
            ),
        ),
    ),
    "office_card_done": "registered",
    "office_card_state": "verified",
    "office_card_challenge": "abc",
    "office_card_proven": SimpleNamespace(
        challenge_id="abc",
        serial="123456789012345678901234567890",
        subject="0F1E2D3C4B5A69788796A5B4C3D2E1F0",
        not_after=datetime(2030, 4, 12, tzinfo=UTC),
    ),
    "office_card_reader_link": "http://127.0.0.1:8001/authorize?request_uri=x",
}
