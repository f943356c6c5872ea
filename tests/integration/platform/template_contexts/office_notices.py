"""What the back office's notice pages (お知らせ配信) need to render."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

CONTEXT = {
    "office_notice_staff": SimpleNamespace(display_name="佐藤", login_id="sato", role="supervisor"),
    "office_notice_municipality": "東京都千代田区",
    "office_notice_can_send": False,
    "office_notice_values": {
        "title": "児童手当の現況確認",
        "body": "本文です。",
        "category": "child-rearing",
        "deadline": "2027-06-30",
        "action_url": "/services",
        "publish_at": "2027-01-05T09:00",
        "expires_at": "",
        "age_from": "20",
        "age_to": "",
        "sex": "2",
        "child_under": "15",
        "member_aged_at_least": "",
        "head_only": True,
    },
    "office_notice_kept": [
        {"name": "案内.pdf", "media_type": "application/pdf", "size": 2048, "data": "JVBERi0="}
    ],
    "office_notice_errors": {"title": "タイトルを入力してください。"},
    "office_notice_error_list": [("title", "タイトルを入力してください。")],
    "office_notice_categories": [("child-rearing", "子育て"), ("tax", "税")],
    "office_notice_limits": {
        "title": 200,
        "body": 10_000,
        "attachments": 5,
        "attachment_mib": 2,
        "age": 150,
    },
    "office_notice_preview": {
        "title": "児童手当の現況確認",
        "category": "子育て",
        "sender": "東京都千代田区",
        "publish_at": datetime(2027, 1, 5, 0, 0, tzinfo=UTC),
        "expires_at": datetime(2027, 3, 31, 15, 0, tzinfo=UTC),
        "deadline": date(2027, 6, 30),
        "action_url": "/services",
        "body_paragraphs": [["一行目", "二行目"], ["次の段落"]],
        "attachments": [{"name": "案内.pdf", "media_type": "application/pdf", "size": 2048}],
        "audience": "東京都千代田区 ・ 15歳未満の子がいる世帯",
        "audience_size": 0,
    },
    "office_notice_rows": [
        {
            "id": 1,
            "title": "児童手当の現況確認",
            "category": "子育て",
            "audience": "東京都千代田区 ・ 15歳未満の子がいる世帯",
            "state": "scheduled",
            "state_label": "予約済み",
            "published_at": datetime(2027, 1, 5, tzinfo=UTC),
            "expires_at": datetime(2027, 3, 31, tzinfo=UTC),
        }
    ],
    "office_notice_page": SimpleNamespace(page=1, pages=2, total=21),
    "office_notice_sent": "scheduled",
}
