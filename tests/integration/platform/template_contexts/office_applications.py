"""What the back office's application pages (申請管理) need to render."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

_AT = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
_APPLICATION = SimpleNamespace(
    id=1,
    receipt_number="7K3M-Q9TD-2HXA-R4WB",
    procedure_code="disaster-certificate",
    procedure_name="罹災証明書の交付申請",
    signer_name="山田 太郎",
    certificate_serial="1a2b3c",
    status="received",
    status_label="受付",
    submitted_at=_AT,
    updated_at=_AT,
)

CONTEXT = {
    "office_app_staff": SimpleNamespace(display_name="山本", login_id="yamamoto", role="clerk"),
    "office_app_municipality": "東京都千代田区",
    "office_app_page": SimpleNamespace(items=[_APPLICATION], total=21, page=1, pages=2),
    "office_app_status": "received",
    "office_app_kana": {1: "ヤマダ タロウ"},
    "office_app_procedures": [("disaster-certificate", "罹災証明書の交付申請")],
    "office_app_query": {
        "q": "やまだ",
        "receipt": "",
        "procedure": "",
        "from": "2026-11-01",
        "to": "",
        "status": "received",
    },
    "office_app_query_string": "q=%E3%82%84&from=2026-11-01",
    "office_app_search_error": "日付は年-月-日で入力してください。",
    "office_app_identity": SimpleNamespace(
        name="山田 太郎",
        name_kana="ヤマダ タロウ",
        birth_date=datetime(1985, 4, 1, tzinfo=UTC).date(),
        sex=1,
        sex_label="男",
        address="東京都千代田区千代田1-1",
        from_jlis=True,
        fetched_at=_AT,
    ),
    "office_app_statuses": [("received", "受付"), ("completed", "完了")],
    "office_app": _APPLICATION,
    "office_app_check": SimpleNamespace(
        valid=False,
        status="revoked",
        label="失効",
        message="証明書は失効しています。",
        signer_name="山田 太郎",
        certificate_serial="1a2b3c",
        not_before=_AT,
        not_after=_AT,
        revoked_at=_AT,
        signing_time=_AT,
        checked_at=_AT,
    ),
    "office_app_groups": [("災害について", [("災害の種類", "台風・暴風")])],
    "office_app_files": [
        SimpleNamespace(id=3, name="写真.pdf", media_type="application/pdf", size=2048)
    ],
    "office_app_history": [
        SimpleNamespace(
            kind="status",
            status="received",
            status_label="受付",
            comment="",
            actor="system",
            visible_to_resident=True,
            created_at=_AT,
        ),
        SimpleNamespace(
            kind="comment",
            status=None,
            status_label="",
            comment="本人確認済み",
            actor="staff:1",
            visible_to_resident=False,
            created_at=_AT,
        ),
    ],
    "office_app_actors": {"system": "システム", "staff:1": "山本"},
    "office_app_targets": [
        SimpleNamespace(
            value="under-review", label="審査中", needs_reason=False, needs_approval=False
        ),
        SimpleNamespace(value="rejected", label="却下", needs_reason=True, needs_approval=True),
    ],
    "office_app_can_approve": False,
    "office_app_done": "",
    "office_app_error": "理由を書いてください。",
    "office_app_error_field": "status",
    "office_app_values": {"status": "rejected", "comment": ""},
    "dashboard": SimpleNamespace(
        municipality_code="131016",
        municipality_name="東京都千代田区",
        applications=(_APPLICATION,),
        colleagues=[SimpleNamespace(display_name="山本", login_id="yamamoto", role="clerk")],
        status_counts=(("received", "Received", 1), ("completed", "Completed", 0)),
    ),
}
