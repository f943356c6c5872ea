"""「この情報は違います」: a resident's request, through the hub to the holder and back."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import network, notices, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.corrections.models import CorrectionRequestRow
from myna.network import transparency
from myna.network.corrections import CorrectionAnswer, CorrectionRequest
from myna.network.domain import new_request_id
from myna.network.messages import sign
from myna.network.models import DeliveredCorrection
from myna.office import service as office
from myna.platform.db import utcnow
from myna.platform.settings import Settings
from myna.reader import client as login_client
from tests.integration.portal.conftest import PIN, IssuedCard, issue

PORTAL = "http://testserver"
CHIYODA, OSAKA = "131016", "271004"
HOLDER = f"muni-{CHIYODA}"
PASSWORD = "correct-horse-2026"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def taro(portal: TestClient, taro_card: IssuedCard, session: Session) -> TestClient:
    network.seed_agency_data(session=session, seed=1)
    session.commit()
    login_client.login(
        portal, PORTAL, taro_card.reader.open_session(taro_card.card_id, "auth", PIN)
    )
    return portal


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _correction_form(client: TestClient, item: str = "resident-tax") -> dict[str, str]:
    """What 「この情報は違います」 on わたしの情報 posts for ``item``'s first record."""
    page = client.get("/my-info").text
    result = client.post(
        "/my-info", data={"csrf_token": _csrf(page), "category": ["local-tax"], "format": "html"}
    ).text
    forms = re.findall(
        r'<form method="post" action="/my-info/corrections/new".*?</form>', result, re.S
    )
    for form in forms:
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
        if fields.get("item") == item:
            return {name: html.unescape(value) for name, value in fields.items()}
    raise AssertionError(result)


def _open_form(client: TestClient) -> tuple[dict[str, str], str]:
    posted = _correction_form(client)
    page = client.post("/my-info/corrections/new", data=posted)
    assert page.status_code == 200, page.text
    return posted, page.text


def _send(
    client: TestClient,
    posted: dict[str, str],
    *,
    field: str = "total_income",
    proposed: str = "4,120,000",
    reason: str = "令和7年の源泉徴収票の金額と違います。",
    file: tuple[str, bytes, str] | None = ("gensen.png", PNG, "image/png"),
) -> object:
    data = {
        **{k: v for k, v in posted.items() if k.startswith("current.")},
        "csrf_token": posted["csrf_token"],
        "provider": posted["provider"],
        "item": posted["item"],
        "field": field,
        "proposed": proposed,
        "reason": reason,
    }
    files = {"file": file} if file else None
    return client.post("/my-info/corrections", data=data, files=files, follow_redirects=False)


def _staff_client(
    container: Container, session: Session, settings: Settings, municipality: str, login: str
) -> TestClient:
    registry.ensure_municipalities(session=session)
    office.create_staff(
        session=session,
        settings=settings,
        municipality_code=municipality,
        login_id=login,
        display_name="職員",
        role=office.StaffRole.CLERK,
        password=PASSWORD,
    )
    session.commit()
    client = TestClient(create_app(container), base_url=PORTAL)
    page = client.get("/office/login")
    client.post(
        "/office/login",
        data={"csrf_token": _csrf(page.text), "login_id": login, "password": PASSWORD},
    )
    page = client.get("/office/login/code")
    code = office.current_code(session=session, settings=settings, login_id=login)
    done = client.post(
        "/office/login/code",
        data={"csrf_token": _csrf(page.text), "code": code},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return client


@pytest.fixture
def chiyoda_staff(
    container: Container, session: Session, settings: Settings
) -> Iterator[TestClient]:
    with _staff_client(container, session, settings, CHIYODA, "yamamoto") as client:
        yield client


@pytest.fixture
def osaka_staff(container: Container, session: Session, settings: Settings) -> Iterator[TestClient]:
    with _staff_client(container, session, settings, OSAKA, "tanaka") as client:
        yield client


def _log(session: Session, resident_id: int, procedure: str) -> list[transparency.LogEntry]:
    page = transparency.entries_for_subject(
        session=session, subject=str(resident_id), page_size=500
    )
    return [e for e in page.items if e.procedure == procedure]


def _queued_id(staff: TestClient) -> int:
    listing = staff.get("/office/corrections").text
    found = re.search(r'href="/office/corrections/(\d+)"', listing)
    assert found, listing
    return int(found.group(1))


def test_a_request_reaches_the_holder_who_corrects_it_and_the_resident_is_told(
    taro: TestClient, taro_card: IssuedCard, chiyoda_staff: TestClient, session: Session
) -> None:
    posted, form = _open_form(taro)
    assert "合計所得金額" in form
    assert posted["current.total_income"] in html.unescape(form)  # what the resident saw
    sent = _send(taro, posted)
    assert sent.status_code == 303  # type: ignore[attr-defined]
    listing = taro.get("/my-info/corrections").text
    assert "回答待ち" in listing or "回答をお待ち" in listing
    assert "4,120,000" in listing
    delivered = _log(session, taro_card.resident_id, network.CORRECTION_REQUEST)
    assert [(e.requester, e.provider, e.item) for e in delivered] == [
        ("portal", HOLDER, "resident-tax")
    ]

    correction = _queued_id(chiyoda_staff)
    detail = chiyoda_staff.get(f"/office/corrections/{correction}").text
    assert "令和7年の源泉徴収票の金額と違います。" in detail
    evidence = chiyoda_staff.get(f"/office/corrections/{correction}/evidence")
    assert evidence.content == PNG
    assert evidence.headers["content-type"] == "image/png"
    record = re.search(r'name="record_id" value="(\d+)"', detail)
    assert record
    answered = chiyoda_staff.post(
        f"/office/corrections/{correction}/answer",
        data={
            "csrf_token": _csrf(detail),
            "decision": "corrected",
            "record_id": record.group(1),
            "field": "total_income",
            "value": "4,120,000",
            "reason": "源泉徴収票を確認し、合計所得金額を訂正しました。",
        },
        follow_redirects=False,
    )
    assert answered.status_code == 303, answered.text

    mine = taro.get("/my-info/corrections").text
    assert "訂正しました" in mine or "訂正済み" in mine
    assert "源泉徴収票を確認し、合計所得金額を訂正しました。" in mine
    inbox = notices.inbox(session=session, resident_id=taro_card.resident_id)
    assert any("訂正の申出への回答" in n.title for n in inbox.items)
    answers = _log(session, taro_card.resident_id, network.CORRECTION_ANSWER)
    assert [(e.requester, e.provider) for e in answers] == [(HOLDER, "portal")]
    # The corrected value is what the agency now answers.
    again = _correction_form(taro)
    assert again["current.total_income"] == "4,120,000円"


def test_the_form_keeps_what_was_typed_and_says_what_to_fix(taro: TestClient) -> None:
    posted, _ = _open_form(taro)
    missing = _send(taro, posted, reason="   ", proposed="5,000,000")
    assert missing.status_code == 422  # type: ignore[attr-defined]
    page = missing.text  # type: ignore[attr-defined]
    assert "理由" in page
    assert 'value="5,000,000"' in page  # kept
    assert 'aria-invalid="true"' in page
    not_a_scan = _send(taro, posted, file=("note.txt", b"hello", "image/png"))
    assert not_a_scan.status_code == 422  # type: ignore[attr-defined]
    assert "PDF" in not_a_scan.text  # type: ignore[attr-defined]
    huge = _send(taro, posted, file=("big.png", PNG + b"\x00" * (1 << 20), "image/png"))
    assert huge.status_code in {413, 422}  # type: ignore[attr-defined]
    assert taro.get("/my-info/corrections").text.count('class="card-panel correction"') == 0


@pytest.mark.parametrize(
    ("provider", "item"),
    [
        ("muni-271004", "resident-tax"),  # an agency that does not hold it for Taro
        ("nta", "resident-tax"),  # an agency that never holds the item
        (HOLDER, "no-such-item"),
        ("x" * 300, "resident-tax"),
    ],
)
def test_a_request_to_the_wrong_agency_or_item_is_refused_clearly(
    taro: TestClient, provider: str, item: str
) -> None:
    posted, _ = _open_form(taro)
    answer = _send(taro, {**posted, "provider": provider, "item": item})
    assert answer.status_code in {403, 404, 422}  # type: ignore[attr-defined]
    assert "Traceback" not in answer.text  # type: ignore[attr-defined]
    assert taro.get("/my-info/corrections").text.count('class="card-panel correction"') == 0


def test_another_municipality_never_sees_the_request(
    taro: TestClient, chiyoda_staff: TestClient, osaka_staff: TestClient
) -> None:
    posted, _ = _open_form(taro)
    _send(taro, posted)
    correction = _queued_id(chiyoda_staff)
    assert "/office/corrections/" not in osaka_staff.get("/office/corrections?status=all").text
    assert osaka_staff.get(f"/office/corrections/{correction}").status_code == 404
    assert osaka_staff.get(f"/office/corrections/{correction}/evidence").status_code == 404
    page = osaka_staff.get("/office").text
    refused = osaka_staff.post(
        f"/office/corrections/{correction}/answer",
        data={"csrf_token": _csrf(page), "decision": "not_corrected", "reason": "x"},
    )
    assert refused.status_code == 404


def test_another_resident_sees_none_of_it(
    taro: TestClient, session: Session, settings: Settings, reader: object, container: Container
) -> None:
    posted, _ = _open_form(taro)
    _send(taro, posted)
    hanako = issue(session, settings, reader, "hanako")  # type: ignore[arg-type]
    with TestClient(create_app(container), base_url=PORTAL) as other:
        login_client.login(other, PORTAL, hanako.reader.open_session(hanako.card_id, "auth", PIN))
        listing = other.get("/my-info/corrections").text
    assert "4,120,000" not in listing
    assert 'class="card-panel correction"' not in listing


def test_a_bad_answer_changes_nothing(taro: TestClient, chiyoda_staff: TestClient) -> None:
    posted, _ = _open_form(taro)
    _send(taro, posted)
    correction = _queued_id(chiyoda_staff)
    detail = chiyoda_staff.get(f"/office/corrections/{correction}").text
    record = re.search(r'name="record_id" value="(\d+)"', detail)
    assert record
    base = {"csrf_token": _csrf(detail), "record_id": record.group(1), "field": "total_income"}
    no_reason = chiyoda_staff.post(
        f"/office/corrections/{correction}/answer",
        data={**base, "decision": "corrected", "value": "1", "reason": " "},
    )
    assert no_reason.status_code == 422
    not_a_number = chiyoda_staff.post(
        f"/office/corrections/{correction}/answer",
        data={**base, "decision": "corrected", "value": "四百万", "reason": "確認しました"},
    )
    assert not_a_number.status_code == 422
    assert "合計所得金額" in not_a_number.text or "total_income" in not_a_number.text
    # Still open; the value the resident sees is unchanged.
    assert "回答" in chiyoda_staff.get("/office/corrections").text
    assert _correction_form(taro)["current.total_income"] == posted["current.total_income"]


def test_only_the_holder_answers_and_only_once(
    taro: TestClient, session: Session, settings: Settings, container: Container
) -> None:
    posted, _ = _open_form(taro)
    _send(taro, posted)
    (delivered,) = session.scalars(select(DeliveredCorrection)).all()
    assert delivered.owner == HOLDER
    hub = container.hub_for(session)

    def answer_as(agency: str) -> None:
        message = CorrectionAnswer(
            answer_id=new_request_id(),
            request_id=delivered.request_id,
            owner=agency,
            item="resident-tax",
            corrected=False,
            reason="確認しました",
            issued_at=utcnow(),
        )
        credential = network.credential_for(session=session, settings=settings, code=agency)
        hub.answer_correction(session=session, token=sign(message.to_json(), credential))

    with pytest.raises(network.CorrectionUnknownError):
        answer_as("muni-271004")  # not the agency the hub delivered it to
    answer_as(HOLDER)
    with pytest.raises(network.CorrectionUnknownError):
        answer_as(HOLDER)  # answered already
    (mine,) = session.scalars(select(CorrectionRequestRow)).all()
    assert mine.status == "not_corrected"


def test_only_the_portal_passes_on_a_residents_request(
    taro: TestClient,
    taro_card: IssuedCard,
    session: Session,
    settings: Settings,
    container: Container,
) -> None:
    agency = HOLDER
    request = CorrectionRequest(
        request_id=new_request_id(),
        requester=agency,
        owner=HOLDER,
        subject=network.link_code_for_resident(
            session=session, resident_id=taro_card.resident_id, agency_code=agency
        ),
        item="resident-tax",
        field="",
        current="",
        proposed="x",
        reason="y",
        evidence=None,
        issued_at=utcnow(),
    )
    credential = network.credential_for(session=session, settings=settings, code=agency)
    with pytest.raises(network.CorrectionNotAllowedError):
        container.hub_for(session).request_correction(
            session=session, token=sign(request.to_json(), credential)
        )
