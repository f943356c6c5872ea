"""The 転出届's destination: chosen by postal code or by prefecture and name, never typed as a code.

The form works without scripts: each lookup is a submit button that shows the form again
with everything typed kept. The code is stored and signed; people read the name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna.app import create_app
from myna.applications import forms, submission
from myna.bootstrap import Container
from myna.moves import service as moves
from myna.office.application_views import _data_groups
from myna.platform.clock import today_in_japan
from myna.platform.settings import Settings
from myna.reader import client as login_client
from myna.reader.app import SigningRequest
from tests.integration.applications.filing import PIN, PROCEDURES, Signer, signer_for

CHIYODA = "131016"
OSAKA = "271004"
PORTAL = "http://testserver"
FORM = f"/apply/{CHIYODA}/moving-out"


@pytest.fixture
def signer(session: Session, settings: Settings) -> Signer:
    return signer_for(session, settings)


@pytest.fixture
def client(container: Container, session: Session, signer: Signer) -> Iterator[TestClient]:
    session.commit()
    with TestClient(create_app(container), base_url=PORTAL) as client:
        login_client.login(client, PORTAL, signer.reader.open_session(signer.card_id, "auth", PIN))
        yield client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _typed(today: date, **values: str) -> dict[str, str]:
    """What a resident has typed so far (no destination yet)."""
    return {
        "move_out_date": today.isoformat(),
        "move_in_date": (today + timedelta(days=3)).isoformat(),
        "movers": "self",
        "phone": "03-1234-5678",
        "declaration": "on",
        **values,
    }


def _post(client: TestClient, path: str, values: dict[str, str]) -> Any:
    page = client.get(FORM)
    return client.post(FORM + path, data={"csrf_token": _csrf(page.text), **values})


def _selected(page: str, name: str) -> str:
    select = re.search(rf'<select id="[^"]*" name="{name}".*?</select>', page, re.S)
    assert select, name
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return chosen.group(1) if chosen else ""


def _value(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="[a-z]+" value="([^"]*)"', page)
    assert found, name
    return found.group(1)


def test_the_form_asks_for_a_postal_code_and_a_municipality_by_name(client: TestClient) -> None:
    page = client.get(FORM)
    assert page.status_code == 200
    assert "引越し先の郵便番号" in page.text
    assert "郵便番号から住所を表示" in page.text
    assert '<label for="field-new_municipality_code-prefecture">都道府県</label>' in page.text
    assert '<label for="field-new_municipality_code">市区町村</label>' in page.text
    assert '<optgroup label="大阪府"><option value="271004">大阪市</option>' in page.text
    assert "市区町村コード" not in page.text  # nobody types a code any more
    assert "<script>" not in page.text  # no inline script: the CSP allows none


def test_a_postal_code_chooses_the_municipality_and_fills_the_town(client: TestClient) -> None:
    today = today_in_japan()
    found = _post(
        client,
        "/lookup",
        {
            **_typed(today),
            "new_postal_code": "５３０－０００１",
            "lookup": "postal:new_postal_code",
        },
    )
    assert found.status_code == 200, found.text
    assert "郵便番号 530-0001 は大阪府大阪市の番号です" in found.text
    assert _selected(found.text, "new_municipality_code") == OSAKA
    assert _selected(found.text, "new_municipality_code__prefecture") == "27"
    assert _value(found.text, "new_address") == "北区梅田"
    assert _value(found.text, "new_postal_code") == "530-0001"
    # Everything typed before the lookup is still there.
    assert _value(found.text, "phone") == "03-1234-5678"
    assert _value(found.text, "move_out_date") == today.isoformat()
    assert 'value="self" checked' in found.text
    assert 'name="declaration" value="on" checked' in found.text


def test_an_address_already_typed_is_never_overwritten(client: TestClient) -> None:
    found = _post(
        client,
        "/lookup",
        {
            **_typed(today_in_japan()),
            "new_postal_code": "530-0001",
            "new_address": "中央区本町1-1",
            "lookup": "postal:new_postal_code",
        },
    )
    assert found.status_code == 200
    assert _value(found.text, "new_address") == "中央区本町1-1"
    assert "入力された住所はそのままです" in found.text
    assert _selected(found.text, "new_municipality_code") == OSAKA


@pytest.mark.parametrize(
    ("postal_code", "expected"),
    [
        ("000-0000", "郵便番号 000-0000 は見つかりませんでした"),
        ("068-0400", "北海道夕張市"),  # real, but not a municipality this registry holds
        ("abc", "7桁の数字"),
        ("9" * 5000, "7桁の数字"),
        ("<script>alert(1)</script>", "7桁の数字"),
        ("", "引越し先の郵便番号を入力してください"),
    ],
)
def test_a_postal_code_that_leads_nowhere_is_a_clear_field_error(
    client: TestClient, postal_code: str, expected: str
) -> None:
    found = _post(
        client,
        "/lookup",
        {
            **_typed(today_in_japan()),
            "new_postal_code": postal_code,
            "lookup": "postal:new_postal_code",
        },
    )
    assert found.status_code == 422
    assert expected in found.text
    assert '<p class="field-error" id="field-new_postal_code-error">' in found.text
    assert 'aria-describedby="field-new_postal_code-help field-new_postal_code-error"' in found.text
    assert "<script>alert" not in found.text
    assert _value(found.text, "phone") == "03-1234-5678"


def test_a_municipality_of_a_postal_code_not_served_says_where_to_go(client: TestClient) -> None:
    found = _post(
        client,
        "/lookup",
        {
            **_typed(today_in_japan()),
            "new_postal_code": "0680400",
            "lookup": "postal:new_postal_code",
        },
    )
    assert "北海道夕張市の窓口で" in found.text


def test_choosing_a_prefecture_lists_its_municipalities(client: TestClient) -> None:
    listed = _post(
        client,
        "/lookup",
        {
            **_typed(today_in_japan()),
            "new_municipality_code__prefecture": "27",
            "lookup": "prefecture:new_municipality_code",
        },
    )
    assert listed.status_code == 200
    assert "大阪府の市区町村を表示しました" in listed.text
    assert '<option value="271004">大阪市</option>' in listed.text
    assert '<option value="131016">' not in listed.text  # another prefecture's
    assert "<optgroup" not in listed.text
    assert _value(listed.text, "phone") == "03-1234-5678"


def test_a_municipality_of_another_prefecture_is_dropped_when_the_prefecture_changes(
    client: TestClient,
) -> None:
    listed = _post(
        client,
        "/lookup",
        {
            **_typed(today_in_japan()),
            "new_municipality_code": OSAKA,
            "new_municipality_code__prefecture": "01",
            "lookup": "prefecture:new_municipality_code",
        },
    )
    assert listed.status_code == 200
    assert _selected(listed.text, "new_municipality_code") == ""
    assert _selected(listed.text, "new_municipality_code__prefecture") == "01"


@pytest.mark.parametrize("prefecture", ["", "99", "x" * 3000])
def test_showing_municipalities_without_a_prefecture_asks_for_one(
    client: TestClient, prefecture: str
) -> None:
    listed = _post(
        client,
        "/lookup",
        {
            **_typed(today_in_japan()),
            "new_municipality_code__prefecture": prefecture,
            "lookup": "prefecture:new_municipality_code",
        },
    )
    assert listed.status_code == 422
    assert "先に都道府県を選んで" in listed.text


@pytest.mark.parametrize("action", ["", "postal:phone", "nothing", "prefecture:new_postal_code"])
def test_a_lookup_the_form_does_not_have_is_refused(client: TestClient, action: str) -> None:
    refused = _post(client, "/lookup", {**_typed(today_in_japan()), "lookup": action})
    assert refused.status_code == 400


@pytest.mark.parametrize(
    ("values", "field", "expected"),
    [
        ({"new_municipality_code": "<script>"}, "new_municipality_code", "から選んでください"),
        ({"new_municipality_code": "9" * 3000}, "new_municipality_code", "から選んでください"),
        ({"new_municipality_code": "479993"}, "new_municipality_code", "から選んでください"),
        (
            {"new_municipality_code": "011002", "new_postal_code": "530-0001"},
            "new_municipality_code",
            "郵便番号 530-0001 は大阪府大阪市の番号ですが、北海道札幌市が選ばれています",
        ),
        (
            {"new_municipality_code": OSAKA, "new_postal_code": "000-0000"},
            "new_postal_code",
            "見つかりませんでした",
        ),
    ],
)
def test_checking_refuses_a_destination_not_from_the_lists(
    client: TestClient, values: dict[str, str], field: str, expected: str
) -> None:
    checked = _post(
        client, "/check", {**_typed(today_in_japan()), "new_address": "北区梅田1-1", **values}
    )
    assert checked.status_code == 422
    error = re.search(rf'<p class="field-error" id="field-{field}-error">([^<]*)</p>', checked.text)
    assert error, checked.text
    assert expected in error.group(1)


def test_the_name_is_shown_and_signed_beside_the_code(
    client: TestClient, session: Session, settings: Settings, signer: Signer
) -> None:
    checked = _post(
        client,
        "/check",
        {
            **_typed(today_in_japan()),
            "new_postal_code": "530-0001",
            "new_municipality_code": OSAKA,
            "new_address": "北区梅田1-1-1",
        },
    )
    assert checked.status_code == 200, checked.text
    key = re.search(r'name="submission_key" value="([^"]+)"', checked.text)
    assert key
    signing = client.post(
        FORM + "/sign",
        data={"csrf_token": _csrf(checked.text), "submission_key": key.group(1)},
        follow_redirects=False,
    )
    assert signing.status_code == 303
    page = client.get(signing.headers["location"])
    assert "<dd>大阪府大阪市</dd>" in page.text
    request_id = signing.headers["location"].rsplit("/", 1)[1]
    view = submission.request_for_resident(
        session=session, request_id=request_id, resident_id=signer.resident_id
    )
    document = json.loads(view.content)
    # The code is what is stored and signed; its name is signed with it.
    assert document["data"]["new_municipality_code"] == OSAKA
    assert document["labels"] == {"new_municipality_code": "大阪府大阪市"}
    # The card reader shows the name from the signed document.
    fetched = SigningRequest(
        origin=PORTAL, request_id=request_id, content=view.content, document=document
    )
    answers = dict(pair for group in fetched.answers for pair in group.answers)
    assert answers["引越し先の市区町村"] == "大阪府大阪市"
    filed = submission.complete(
        session=session,
        procedures=PROCEDURES,
        settings=settings,
        request_id=request_id,
        signature=signer.sign(view.content),
    )
    session.commit()
    receipt = client.get(f"/applications/{filed.receipt_number}")
    assert receipt.status_code == 200
    assert "<dd>大阪府大阪市</dd>" in receipt.text
    # Staff read the name with the code beside it.
    rows = dict(row for _title, group in _data_groups(session, filed) for row in group)
    assert rows["引越し先の市区町村"] == "大阪府大阪市（271004）"
    assert rows["引越し先の郵便番号"] == "530-0001"


def test_documents_of_other_procedures_carry_no_labels(session: Session) -> None:
    form = forms.checked_forms()["disaster-certificate"]
    assert forms.labels(session=session, form=form, data={"phone": "03-1234-5678"}) == {}
    assert moves.MOVE_OUT in forms.checked_forms()
