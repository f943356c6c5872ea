"""The back office's notice pages (お知らせ配信): compose, preview, send, scope, checks."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import notices, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.notices.domain import MAX_ATTACHMENT_BYTES
from myna.notices.models import Notice
from myna.office import notices as office_notices
from myna.office import service as office
from myna.platform.db import utcnow
from myna.platform.logging import configure_logging
from myna.platform.settings import Settings

PASSWORD = "correct-horse-2026"
CHIYODA = "131016"
OSAKA = "271004"
PDF = b"%PDF-1.4\n% test\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
NO_FILE = ("attachments", ("", b"", "application/octet-stream"))  # an empty file input

Personas = dict[str, registry.ResidentRead]


@pytest.fixture
def personas(session: Session) -> Personas:
    return registry.ensure_personas(session=session)


def _create(
    session: Session, settings: Settings, login_id: str, role: office.StaffRole, code: str
) -> office.StaffRead:
    return office.create_staff(
        session=session,
        settings=settings,
        municipality_code=code,
        login_id=login_id,
        display_name=login_id,
        role=role,
        password=PASSWORD,
    ).staff


@pytest.fixture
def staff(session: Session, settings: Settings, personas: Personas) -> dict[str, office.StaffRead]:
    made = {
        "sato": _create(session, settings, "sato", office.StaffRole.SUPERVISOR, CHIYODA),
        "yamamoto": _create(session, settings, "yamamoto", office.StaffRole.CLERK, CHIYODA),
        "tanaka": _create(session, settings, "tanaka", office.StaffRole.ADMIN, OSAKA),
    }
    session.commit()
    return made


@pytest.fixture
def app_client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://testserver") as client:
        yield client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _login(client: TestClient, session: Session, settings: Settings, login_id: str) -> None:
    page = client.get("/office/login")
    client.post(
        "/office/login",
        data={"csrf_token": _csrf(page.text), "login_id": login_id, "password": PASSWORD},
    )
    code = office.current_code(session=session, settings=settings, login_id=login_id)
    page = client.get("/office/login/code")
    done = client.post(
        "/office/login/code",
        data={"csrf_token": _csrf(page.text), "code": code},
        follow_redirects=False,
    )
    assert done.headers["location"] == "/office"


def _form(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": "子育て支援のご案内",
        "body": "千代田区からのお知らせです。\n\n詳しくは添付をご覧ください。",
        "category": "child-rearing",
        "deadline": "",
        "action_url": "/services",
        "publish_at": "",
        "expires_at": "",
        "sex": "2",
    }
    values.update(changes)
    return values


def _compose(client: TestClient, form: dict[str, Any], files: list[Any] | None = None) -> Any:
    page = client.get("/office/notices/new")
    assert page.status_code == 200
    return client.post(
        "/office/notices/preview",
        data={"csrf_token": _csrf(page.text), **form},
        files=files or [NO_FILE],
    )


def _hidden_fields(page: str) -> list[tuple[str, str]]:
    """The confirm form's hidden fields, as a browser would send them back."""
    confirm = page.split('action="/office/notices"', 1)[1]
    return [
        (html.unescape(name), html.unescape(value))
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm
        )
    ]


def _confirm(client: TestClient, preview_page: str) -> Any:
    fields: dict[str, list[str]] = {}
    for name, value in _hidden_fields(preview_page):
        fields.setdefault(name, []).append(value)
    return client.post("/office/notices", data=fields, files=[NO_FILE], follow_redirects=False)


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Notice)) or 0


def _inbox(session: Session, resident: registry.ResidentRead) -> list[str]:
    return [i.title for i in notices.inbox(session=session, resident_id=resident.id).items]


def _jst_minutes(delta: timedelta) -> str:
    return office_notices.jst(utcnow() + delta).strftime("%Y-%m-%dT%H:%M")


# --- the journey -----------------------------------------------------------------------


def test_a_supervisor_previews_the_audience_size_and_sends_to_the_segment(
    app_client: TestClient,
    session: Session,
    settings: Settings,
    personas: Personas,
    staff: dict[str, office.StaffRead],
) -> None:
    _login(app_client, session, settings, "sato")
    # Women of 千代田区: 花子 only; the municipality in the form is ignored.
    preview = _compose(
        app_client,
        _form(municipality_codes="141003"),
        files=[("attachments", ("案内.pdf", PDF, "application/pdf"))],
    )
    assert preview.status_code == 200
    assert "現在この条件に当てはまる住民は1人です。" in preview.text
    assert "東京都千代田区 ・ 女性" in preview.text
    assert "子育て支援のご案内" in preview.text
    assert "案内.pdf" in preview.text
    assert "配信する</button>" in preview.text
    assert _count(session) == 0  # a preview writes nothing

    sent = _confirm(app_client, preview.text)
    assert sent.status_code == 303
    assert sent.headers["location"] == "/office/notices?sent=now"
    listing = app_client.get(sent.headers["location"])
    assert "お知らせを配信しました。" in listing.text
    assert "子育て支援のご案内" in listing.text
    assert "公開中" in listing.text

    assert _inbox(session, personas["hanako"]) == ["子育て支援のご案内"]
    assert _inbox(session, personas["taro"]) == []
    assert _inbox(session, personas["misaki"]) == []
    stored = session.scalars(select(Notice)).one()
    assert stored.sender == "muni-131016"
    assert stored.segment == {"municipality_codes": [CHIYODA], "sex": 2}
    opened = notices.get_notice(
        session=session, resident_id=personas["hanako"].id, notice_id=stored.id
    )
    assert [a.name for a in opened.notice.attachments] == ["案内.pdf"]


def test_a_segment_matching_nobody_is_previewed_with_a_warning_of_zero(
    app_client: TestClient,
    session: Session,
    settings: Settings,
    staff: dict[str, office.StaffRead],
) -> None:
    _login(app_client, session, settings, "sato")
    preview = _compose(app_client, _form(sex="", age_from="120"))
    assert preview.status_code == 200
    assert "対象者0人" in preview.text
    assert "120歳以上" in preview.text


def test_a_scheduled_notice_is_listed_as_scheduled_and_not_shown_yet(
    app_client: TestClient,
    session: Session,
    settings: Settings,
    personas: Personas,
    staff: dict[str, office.StaffRead],
) -> None:
    _login(app_client, session, settings, "sato")
    preview = _compose(
        app_client,
        _form(
            sex="",
            child_under="15",
            publish_at=_jst_minutes(timedelta(days=2)),
            expires_at=_jst_minutes(timedelta(days=30)),
        ),
    )
    assert "現在この条件に当てはまる住民は3人です。" in preview.text
    assert "予約配信する" in preview.text
    sent = _confirm(app_client, preview.text)
    assert sent.headers["location"] == "/office/notices?sent=scheduled"
    listing = app_client.get(sent.headers["location"])
    assert "予約済み" in listing.text
    assert "15歳未満の子がいる世帯" in listing.text
    assert _inbox(session, personas["taro"]) == []


def test_changing_the_notice_keeps_its_values_and_attachments(
    app_client: TestClient,
    session: Session,
    settings: Settings,
    staff: dict[str, office.StaffRead],
) -> None:
    _login(app_client, session, settings, "sato")
    preview = _compose(app_client, _form(), files=[("attachments", ("地図.png", PNG, "image/png"))])
    fields: dict[str, list[str]] = {"edit": ["1"]}
    for name, value in _hidden_fields(preview.text):
        fields.setdefault(name, []).append(value)
    edit = app_client.post("/office/notices/preview", data=fields, files=[NO_FILE])
    assert edit.status_code == 200
    assert 'value="子育て支援のご案内"' in edit.text
    assert "地図.pngを削除する" in edit.text


# --- who may do what -------------------------------------------------------------------


def test_a_clerk_may_preview_but_not_send(
    app_client: TestClient,
    session: Session,
    settings: Settings,
    staff: dict[str, office.StaffRead],
) -> None:
    _login(app_client, session, settings, "yamamoto")
    preview = _compose(app_client, _form())
    assert preview.status_code == 200
    assert "配信する</button>" not in preview.text
    assert "管理職に確認と配信を依頼してください" in preview.text
    refused = _confirm(app_client, preview.text)
    assert refused.status_code == 403
    assert "管理職に確認と配信を依頼してください" in refused.text
    assert _count(session) == 0


def test_staff_of_another_municipality_never_see_its_notices(
    app_client: TestClient,
    session: Session,
    settings: Settings,
    staff: dict[str, office.StaffRead],
) -> None:
    office_notices.send_municipal_notice(
        session=session, staff=staff["sato"], form=office_notices.NoticeForm(**_form())
    )
    session.commit()
    mine = office_notices.list_notices(session=session, staff=staff["yamamoto"])
    assert [n.title for n in mine.items] == ["子育て支援のご案内"]
    assert office_notices.list_notices(session=session, staff=staff["tanaka"]).items == []
    _login(app_client, session, settings, "tanaka")
    page = app_client.get("/office/notices")
    assert page.status_code == 200
    assert "大阪市" in page.text
    assert "子育て支援のご案内" not in page.text
    assert "配信したお知らせはまだありません" in page.text


def test_the_list_is_newest_first_and_paginated(
    session: Session, staff: dict[str, office.StaffRead]
) -> None:
    for number in range(3):
        office_notices.send_municipal_notice(
            session=session,
            staff=staff["sato"],
            form=office_notices.NoticeForm(
                **_form(
                    title=f"第{number}報",
                    # The first is published now; the others are scheduled days ahead.
                    publish_at=_jst_minutes(timedelta(days=number)) if number else "",
                )
            ),
        )
    first = office_notices.list_notices(session=session, staff=staff["sato"], page_size=2)
    assert [n.title for n in first.items] == ["第2報", "第1報"]
    assert (first.pages, first.total) == (2, 3)
    second = office_notices.list_notices(session=session, staff=staff["sato"], page=2, page_size=2)
    assert [n.title for n in second.items] == ["第0報"]
    assert second.items[0].state == office_notices.NoticeState.PUBLISHED
    assert first.items[0].state == office_notices.NoticeState.SCHEDULED


def test_a_missing_or_wrong_csrf_token_is_refused(
    app_client: TestClient,
    session: Session,
    settings: Settings,
    staff: dict[str, office.StaffRead],
) -> None:
    _login(app_client, session, settings, "sato")
    for token in ({}, {"csrf_token": "forged"}):
        for path in ("/office/notices/preview", "/office/notices"):
            response = app_client.post(path, data={**_form(), **token}, files=[NO_FILE])
            assert response.status_code == 403
    assert _count(session) == 0


def test_pages_send_a_visitor_who_is_not_logged_in_to_the_login(
    app_client: TestClient, staff: dict[str, office.StaffRead]
) -> None:
    for path in ("/office/notices", "/office/notices/new"):
        response = app_client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/office/login"
    response = app_client.post(
        "/office/notices", data=_form(), files=[NO_FILE], follow_redirects=False
    )
    assert response.headers["location"] == "/office/login"


def test_the_send_is_logged_without_its_text(
    session: Session,
    staff: dict[str, office.StaffRead],
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(level="INFO", json=True)
    try:
        office_notices.send_municipal_notice(
            session=session, staff=staff["sato"], form=office_notices.NoticeForm(**_form())
        )
    finally:
        configure_logging(level="INFO", json=False)
    logged = capsys.readouterr().err
    assert '"event": "office_notice_sent"' in logged
    assert '"sender": "muni-131016"' in logged
    assert "子育て支援のご案内" not in logged
    assert "千代田区からのお知らせ" not in logged


# --- checks at the boundary ------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "  "}, "title", "タイトルを入力してください。"),
        (
            {"title": "あ" * 201},
            "title",
            "タイトルは200文字以内で入力してください（現在201文字）。",
        ),
        ({"body": ""}, "body", "お知らせの本文を入力してください。"),
        ({"body": "あ" * 10_001}, "body", "本文は10000文字以内で入力してください"),
        ({"category": "lottery"}, "category", "分類を選んでください。"),
        ({"action_url": "javascript:alert(1)"}, "action_url", "https:// で始まるアドレス"),
        ({"action_url": "http://example.com/"}, "action_url", "https:// で始まるアドレス"),
        ({"action_url": "/\\evil.example"}, "action_url", "go.jp"),
        ({"action_url": "https://evil.example/"}, "action_url", "政府・自治体のサイト"),
        ({"publish_at": "2020-01-01T09:00"}, "publish_at", "公開日時が過去になっています。"),
        ({"publish_at": "明日"}, "publish_at", "公開日時を日付と時刻で入力してください。"),
        ({"publish_at": "9999-12-31T23:59"}, "publish_at", "2100-12-31までの日付"),
        ({"expires_at": "9999-12-31T23:59"}, "expires_at", "2100-12-31までの日付"),
        ({"deadline": "1500-01-01"}, "deadline", "1900-01-01から"),
        (
            {"expires_at": "2020-01-01T09:00"},
            "expires_at",
            "掲載終了日時は公開日時より後にしてください。",
        ),
        ({"age_from": "abc"}, "age_from", "0から150までの整数"),
        ({"age_from": "70", "age_to": "20"}, "age_to", "年齢の上限は下限以上にしてください。"),
        ({"child_under": "151"}, "child_under", "0から150までの整数"),
        ({"sex": "3"}, "sex", "男性・女性・すべての中から選んでください。"),
    ],
)
def test_each_mistake_is_shown_next_to_its_field_and_nothing_is_written(
    app_client: TestClient,
    session: Session,
    settings: Settings,
    staff: dict[str, office.StaffRead],
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    _login(app_client, session, settings, "sato")
    for path in ("/office/notices/preview", "/office/notices"):
        page = app_client.get("/office/notices/new")
        response = app_client.post(
            path, data={"csrf_token": _csrf(page.text), **_form(**changes)}, files=[NO_FILE]
        )
        assert response.status_code == 422
        error = re.search(rf'id="field-{field}-error">([^<]*)<', response.text)
        assert error is not None
        assert message in error.group(1)
        assert f'href="#field-{field}"' in response.text  # the error summary links to it
    assert _count(session) == 0


def test_an_expiry_before_a_future_publication_is_refused(
    app_client: TestClient,
    session: Session,
    settings: Settings,
    staff: dict[str, office.StaffRead],
) -> None:
    _login(app_client, session, settings, "sato")
    response = _compose(
        app_client,
        _form(
            publish_at=_jst_minutes(timedelta(days=5)),
            expires_at=_jst_minutes(timedelta(days=4)),
        ),
    )
    assert response.status_code == 422
    assert 'id="field-expires_at-error"' in response.text


def test_an_attachment_is_judged_by_its_first_bytes(
    app_client: TestClient,
    session: Session,
    settings: Settings,
    staff: dict[str, office.StaffRead],
) -> None:
    _login(app_client, session, settings, "sato")
    for name, data, media_type in (
        ("偽物.pdf", PNG, "application/pdf"),
        ("memo.txt", b"hello", "text/plain"),
        ("virus.exe", b"MZ\x90\x00", "application/octet-stream"),
    ):
        response = _compose(app_client, _form(), files=[("attachments", (name, data, media_type))])
        assert response.status_code == 422
        error = re.search(r'id="field-attachments-error">([^<]*)<', response.text)
        assert error is not None
        assert f"添付ファイル「{name}」はPDF、PNG、JPEGのいずれかにしてください。" in error.group(1)
    assert _count(session) == 0


def test_a_good_attachment_is_kept_when_another_field_has_a_mistake(
    app_client: TestClient,
    session: Session,
    settings: Settings,
    staff: dict[str, office.StaffRead],
) -> None:
    _login(app_client, session, settings, "sato")
    response = _compose(
        app_client, _form(title=""), files=[("attachments", ("案内.pdf", PDF, "application/pdf"))]
    )
    assert response.status_code == 422
    assert "案内.pdfを削除する" in response.text


def test_too_many_or_too_large_attachments_are_refused() -> None:
    now = utcnow()
    too_large = office_notices.UploadedFile(
        "大きい.pdf", "application/pdf", PDF + b"0" * MAX_ATTACHMENT_BYTES
    )
    with pytest.raises(office_notices.NoticeFormError) as raised:
        office_notices.check_form(
            office_notices.NoticeForm(**_form(), attachments=[too_large]),
            municipality_code=CHIYODA,
            now=now,
        )
    [error] = raised.value.errors
    assert (error.field, error.params["limit"]) == ("attachments", 2)
    many = [office_notices.UploadedFile(f"{i}.pdf", "application/pdf", PDF) for i in range(6)]
    with pytest.raises(office_notices.NoticeFormError) as raised:
        office_notices.check_form(
            office_notices.NoticeForm(**_form(), attachments=many),
            municipality_code=CHIYODA,
            now=now,
        )
    assert [e.field for e in raised.value.errors] == ["attachments"]


def test_the_municipality_rule_always_comes_from_the_account() -> None:
    checked = office_notices.check_form(
        office_notices.NoticeForm(**_form(sex="", head_only=True)),
        municipality_code=OSAKA,
        now=utcnow(),
    )
    assert checked.segment.to_dict() == {"municipality_codes": [OSAKA], "head_only": True}


def test_the_list_page_shows_older_notices_on_the_next_page(
    app_client: TestClient,
    session: Session,
    settings: Settings,
    staff: dict[str, office.StaffRead],
) -> None:
    for number in range(office_notices.PAGE_SIZE + 1):
        office_notices.send_municipal_notice(
            session=session,
            staff=staff["sato"],
            form=office_notices.NoticeForm(
                **_form(
                    title=f"お知らせ{number:02d}",
                    publish_at=_jst_minutes(timedelta(hours=number + 1)),
                )
            ),
        )
    session.commit()
    _login(app_client, session, settings, "yamamoto")
    first = app_client.get("/office/notices")
    assert "お知らせ20" in first.text
    assert "お知らせ00" not in first.text
    assert 'href="/office/notices?page=2"' in first.text
    second = app_client.get("/office/notices?page=2")
    assert "お知らせ00" in second.text
    assert "お知らせ20" not in second.text


def test_a_large_body_without_a_staff_session_is_refused_before_it_is_read(
    app_client: TestClient, session: Session, settings: Settings, staff: dict[str, Any]
) -> None:
    big = b"x" * (12 << 20)
    headers = {"content-type": "multipart/form-data; boundary=b"}
    for path in ("/office/notices", "/office/notices/preview"):
        response = app_client.post(path, content=big, headers=headers)
        assert response.status_code == 413, path
    # A half-logged-in session (password only, no code yet) is not enough either.
    page = app_client.get("/office/login")
    app_client.post(
        "/office/login",
        data={"csrf_token": _csrf(page.text), "login_id": "sato", "password": PASSWORD},
    )
    assert app_client.post("/office/notices", content=big, headers=headers).status_code == 413


def test_a_logged_in_staff_member_may_send_a_large_form(
    app_client: TestClient, session: Session, settings: Settings, staff: dict[str, Any]
) -> None:
    _login(app_client, session, settings, "sato")
    big = b"x" * (3 << 20)
    response = app_client.post(
        "/office/notices/preview",
        content=big,
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    # Past the size gate: the route answers about the (malformed) form itself.
    assert response.status_code != 413
    assert response.status_code < 500
