"""What the municipal counters' pages (市民カード化) and the resident's page need to render."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

from myna.counters.domain import ACTION_LABELS, METHOD_LABELS, Action, Method

_LOAN = SimpleNamespace(
    id=1,
    code="B00001",
    title="はじめての家庭菜園",
    author="青木 みどり",
    library="千代田区立図書館",
    lent_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
    due_on=date(2026, 12, 15),
    returned_at=None,
    overdue=True,
)
_SHELTER = SimpleNamespace(
    id=2, municipality_code="131016", kind="shelter", name="千代田区立第一小学校 避難所"
)
_RESIDENT = SimpleNamespace(full_name="山田 太郎", full_name_kana="ヤマダ タロウ")

CONTEXT = {
    "counters_town": "千代田区",
    "counters_library": SimpleNamespace(
        id=1, municipality_code="131016", kind="library", name="千代田区立図書館"
    ),
    "counters_shelters": [_SHELTER],
    "counters_shelter": _SHELTER,
    "counters_books": [
        SimpleNamespace(
            code="B00001", title="はじめての家庭菜園", author="青木 みどり", on_loan=True
        )
    ],
    "counters_cards": [
        SimpleNamespace(card_id="c1", holder_name="山田 太郎", municipality="東京都千代田区")
    ],
    "counters_card": SimpleNamespace(
        card_id="c1",
        holder_name="山田 太郎",
        municipality="東京都千代田区",
        expires_on=date(2031, 4, 1),
    ),
    "counters_face_error": True,
    "counters_done": "lent",
    "counters_patron": SimpleNamespace(number="13101-0000001", name="山田 太郎", loans=[_LOAN]),
    "counters_values": {"card_id": "c1", "book_code": "B00001"},
    "counters_loan_limit": 5,
    "counters_loan_days": 14,
    "counters_entries": [
        SimpleNamespace(
            id=1,
            name="山田 太郎",
            name_kana="ヤマダ タロウ",
            home_municipality="東京都千代田区",
            method=Method.FACE,
            confirmed_by="職員 一郎",
            checked_in_at=datetime(2026, 12, 4, 1, 0, tzinfo=UTC),
            checked_out_at=None,
        )
    ],
    "counters_inside": 1,
    "counters_presentation": SimpleNamespace(
        method=Method.PIN, presenter=_RESIDENT, members=[_RESIDENT], token="sealed"
    ),
    "counters_loans": [_LOAN],
    "counters_uses": [
        SimpleNamespace(
            at=datetime(2026, 12, 4, 1, 0, tzinfo=UTC),
            facility_name="千代田区立図書館",
            action=Action.BOOK_LENT,
            method=Method.PIN,
            detail="はじめての家庭菜園",
        )
    ],
    "counters_action_labels": ACTION_LABELS,
    "counters_method_labels": METHOD_LABELS,
}
