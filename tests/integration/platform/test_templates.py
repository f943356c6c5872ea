"""Every template renders in both languages and has a title (no template left broken)."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from starlette.requests import Request

import myna
from myna.applications import forms
from myna.platform import i18n
from myna.platform.web import make_templates, template_context
from tests.integration.platform import template_contexts

SRC = Path(myna.__file__).parent
TEMPLATE_DIRS = sorted({p.parent.parent for p in SRC.glob("*/templates/*/*.html")})
PAGES = sorted(
    str(p.relative_to(p.parent.parent))
    for d in TEMPLATE_DIRS
    for p in d.glob("*/*.html")
    if p.name != "base.html"
)

resident = SimpleNamespace(
    full_name="山田 太郎",
    full_name_kana="ヤマダ タロウ",
    birth_date=date(1985, 4, 12),
    municipality_name="東京都千代田区",
)
card = SimpleNamespace(
    card_id="c1",
    holder_name="山田 太郎",
    municipality="東京都千代田区",
    expires_on=date(2030, 4, 12),
    auth_locked=False,
    auth_tries_left=3,
)
CONTEXT = {
    "resident": resident,
    "certificate_not_after": datetime(2030, 4, 12, tzinfo=UTC),
    "events": [SimpleNamespace(occurred_at=datetime(2026, 11, 28, tzinfo=UTC), event="login")],
    "csrf_token": "t",
    "challenge": SimpleNamespace(challenge_id="abc"),
    "reader_link": "http://127.0.0.1:8001/authorize?request_uri=x",
    "ttl_minutes": 2,
    "cards": [card],
    "request_uri": "http://127.0.0.1:8000/api/login/challenges/abc",
    "origin": "http://127.0.0.1:8000",
    "error": None,
    "message": "m",
    "title": "t",
    "categories": [SimpleNamespace(code="local-tax", label="地方税")],
    "selected": {"local-tax"},
    "result": SimpleNamespace(
        unavailable=["健康・医療"],
        sections=[
            SimpleNamespace(
                code="local-tax",
                label="地方税",
                records=[
                    SimpleNamespace(
                        item_label="住民税",
                        provider_label="千代田区",
                        updated_at=datetime(2026, 6, 1, tzinfo=UTC),
                        fields=[("課税年度", "2026")],
                        names=["assessment_year"],
                        provider="muni-131016",
                        item="resident-tax",
                    )
                ],
            )
        ],
    ),
    "head": SimpleNamespace(tree_size=3, time=datetime(2026, 11, 28, tzinfo=UTC)),
    "filters": SimpleNamespace(since=None, until=None, agency="", item=""),
    "agencies": [("muni-131016", "千代田区")],
    "items": [("resident-tax", "住民税")],
    # corrections: the resident's form and list, the office's request
    "target": SimpleNamespace(
        owner="muni-131016",
        owner_name="千代田区",
        item="resident-tax",
        item_name="住民税",
        fields=[SimpleNamespace(name="total_income", label="合計所得金額", current="1円")],
    ),
    "values": {"field": "total_income", "proposed": "2円", "reason": "r"},
    "problems": {
        "reason": "Say why the information is wrong (for example, since when it changed)."
    },
    "requests": [],
    "sent": True,
    "office_correction": SimpleNamespace(
        id=1,
        agency_code="muni-131016",
        agency_name="千代田区",
        item_name="住民税",
        field_name="total_income",
        field_label="合計所得金額",
        current="1円",
        proposed="2円",
        reason="r",
        evidence_name="a.png",
        evidence_type="image/png",
        status="open",
        answer_reason=None,
        received_at=datetime(2026, 11, 28, tzinfo=UTC),
        answered_at=None,
        records=[
            SimpleNamespace(
                id=1,
                key="",
                fields=[("total_income", "合計所得金額", "1")],
                updated_at=datetime(2026, 11, 28, tzinfo=UTC),
            )
        ],
        field_choices=[("total_income", "合計所得金額")],
    ),
    "office_correction_error": "",
    "office_correction_done": False,
    "office_corrections": [],
    "office_correction_status": "open",
    "rows": [
        SimpleNamespace(
            index=0,
            time=datetime(2026, 11, 28, tzinfo=UTC),
            requester="マイナポータル",
            provider="千代田区",
            procedure="自己情報開示",
            item="住民税",
            outcome="提供済み",
            proven=True,
        )
    ],
    "page": 1,
    "has_next": False,
    "query": "",
    "account": SimpleNamespace(
        bank_code="0001",
        bank_name="みずほ銀行",
        branch_code="123",
        branch_name="戸越",
        account_type=SimpleNamespace(value="普通"),
        number="0012345",
        holder_kana="ヤマダ　タロウ",
        updated_at=datetime(2026, 11, 28, tzinfo=UTC),
    ),
    "history": [SimpleNamespace(action="registered", at=datetime(2026, 11, 28, tzinfo=UTC))],
    "notice": "saved",
    "form": SimpleNamespace(
        bank_code="0001",
        branch_code="12",
        account_type="普通",
        number="12345",
        holder_kana="ヤマダ タロウ",
        symbol="",
        symbol_number="",
    ),
    "errors": {"branch_code": "支店コードは3桁の数字です。"},
    "bank_choices": [SimpleNamespace(code="0001", label="みずほ銀行（0001）")],
    "branch_choices": [],
    "chosen_bank": SimpleNamespace(code="0001", name="みずほ銀行"),
    "search_message": "",
    "queries": {"bank_query": "みずほ"},
    "account_types": ["普通", "当座", "貯蓄"],
    "changing": False,
    # notices: the inbox and one notice
    "inbox": SimpleNamespace(
        items=[
            SimpleNamespace(
                id=1,
                sender="muni-131016",
                title="児童手当の現況確認",
                category="child-rearing",
                deadline=date(2027, 6, 30),
                published_at=datetime(2026, 11, 28, tzinfo=UTC),
                read=False,
                archived=True,
            )
        ],
        page=1,
        pages=2,
        total=21,
        unread=1,
    ),
    "senders": {"muni-131016": "千代田区"},
    "category_label": lambda category: "子育て",
    "show_archived": True,
    "notice_view": SimpleNamespace(
        notice=SimpleNamespace(
            id=1,
            sender="muni-131016",
            title="児童手当の現況確認",
            category="child-rearing",
            deadline=date(2027, 6, 30),
            published_at=datetime(2026, 11, 28, tzinfo=UTC),
            action_url="/services/child-allowance",
            attachments=[
                SimpleNamespace(id=1, name="案内.pdf", media_type="application/pdf", size=2048)
            ],
        ),
        archived_at=None,
    ),
    "body_paragraphs": [["一行目", "二行目"], ["次の段落"]],
    "catalog_form": {"query": "じどう", "category": "", "life_event": "", "municipality": "131016"},
    "catalog_labels": {
        "categories": {"child-rearing": "子育て"},
        "life_events": {"birth": "出産"},
    },
    "catalog_municipalities": [("131016", "東京都千代田区")],
    "catalog_result": SimpleNamespace(
        items=[
            SimpleNamespace(
                code="pregnancy-notification",
                name_ja="妊娠の届出",
                name_en="Notification of pregnancy",
                category="child-rearing",
                summary="妊娠がわかったら届け出ます。",
                online=True,
                offered_by=[SimpleNamespace(code="131016", name="東京都千代田区")],
            )
        ],
        total=30,
        page=2,
        pages=3,
        has_next=True,
    ),
    "apply_procedure_name": "妊娠の届出",
    "apply_municipality_name": "東京都千代田区",
    "apply_action": "/apply/131016/pregnancy-notification",
    "apply_groups": forms.view(
        forms.shipped_forms()["pregnancy-notification"],
        {"weeks": "x", "interview": True, "multiple": "single"},
        [forms.FieldError("weeks", "妊娠週数を半角数字で入力してください。")],
    ),
    "apply_errors": [forms.FieldError("weeks", "妊娠週数を半角数字で入力してください。")],
    "apply_status": "",
    "procedure": SimpleNamespace(
        code="pregnancy-notification",
        name_ja="妊娠の届出",
        name_en="Notification of pregnancy",
        category="child-rearing",
        life_events=["birth"],
        summary="妊娠がわかったら届け出ます。",
        eligibility="妊婦の方。",
        documents=["分娩予定日の情報"],
        signature_required=True,
        online=True,
        department="母子保健課",
        municipality=SimpleNamespace(code="131016", name="東京都千代田区"),
    ),
    "staff": SimpleNamespace(display_name="山本", login_id="yamamoto", role="clerk"),
    "staff_role": "担当者",
    "role_labels": {"clerk": "担当者"},
    "dashboard": SimpleNamespace(
        municipality_code="131016",
        municipality_name="東京都千代田区",
        applications=(),
        colleagues=[SimpleNamespace(display_name="山本", login_id="yamamoto", role="clerk")],
    ),
}


for _module in sorted(pkgutil.iter_modules(template_contexts.__path__), key=lambda m: m.name):
    CONTEXT.update(importlib.import_module(f"{template_contexts.__name__}.{_module.name}").CONTEXT)


def _request() -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    )


@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_a_title(page: str, locale: str) -> None:
    i18n.set_locale(locale)
    env = make_templates(*TEMPLATE_DIRS).env
    html = env.get_template(page).render(template_context(_request(), **CONTEXT))
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.strip(" |")
    assert f'<html lang="{locale}">' in html


def test_the_pages_were_found() -> None:
    assert "portal/login.html" in PAGES
    assert "reader/authorize.html" in PAGES
