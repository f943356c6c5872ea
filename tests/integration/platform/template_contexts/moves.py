"""What the move pages (residents' 引越し and the back office's 転入予約) need to render."""

from __future__ import annotations

from datetime import UTC, date, datetime

from myna.moves.service import MemberView, MoveStatus, MoveView

_MOVE = MoveView(
    id=1,
    resident_id=1,
    status=MoveStatus.CERTIFICATE_SENT,
    from_municipality_code="131016",
    from_municipality_name="東京都千代田区",
    to_municipality_code="271004",
    to_municipality_name="大阪府大阪市",
    new_address="北区梅田1-1-1",
    move_out_date=date(2027, 3, 20),
    move_in_date=date(2027, 3, 25),
    scope="household",
    new_head_name="",
    move_out_receipt="7K3M-Q9TD-2HXA-R4WB",
    move_in_receipt="8K3M-Q9TD-2HXA-R4WB",
    created_at=datetime(2027, 3, 1, 1, 0, tzinfo=UTC),
    certificate_sent_at=datetime(2027, 3, 2, 1, 0, tzinfo=UTC),
    completed_at=None,
    members=(
        MemberView(
            resident_id=1,
            name="山田 太郎",
            relation="世帯主",
            certificate={
                "name_kana": "ヤマダ タロウ",
                "birth_date": "1985-04-01",
                "sex": "男",
                "former_address": "東京都千代田区千代田1-1",
                "new_address": "大阪府大阪市北区梅田1-1-1",
            },
        ),
        MemberView(resident_id=2, name="山田 花子", relation="妻", certificate=None),
    ),
)

CONTEXT = {
    "move_list": [_MOVE],
    "move_apply_url": "/apply/131016/moving-out",
    "office_move_municipality": "大阪府大阪市",
    "office_moves": [_MOVE],
    "office_move": _MOVE,
    "office_move_error": "",
    "office_move_done": False,
    "office_move_refusal": "",
    "office_move_show": "open",
    "office_move_lists": [("open", "未完了"), ("completed", "転入完了")],
}
