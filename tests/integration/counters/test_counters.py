"""The card at municipal counters: the library desk, shelter check-in, the export, the
resident's page — driven through the pages with virtual cards."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import card, counters, jpki, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.counters import service
from myna.counters.models import CardUse, Checkin, Patron
from myna.office import service as office
from myna.platform.settings import Settings
from myna.reader import client as login_client

PORTAL = "http://testserver"
PIN = "4321"
PASSWORD = "COUNTER2026"
STAFF_PASSWORD = "correct horse battery staple 42"
CHIYODA, YOKOHAMA = "131016", "141003"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


@dataclass
class Town:
    session: Session
    settings: Settings
    container: Container
    people: dict[str, registry.ResidentRead]
    cards: dict[str, str]

    def staff(self, login: str, municipality: str) -> TestClient:
        office.create_staff(
            session=self.session,
            settings=self.settings,
            municipality_code=municipality,
            login_id=login,
            display_name=f"職員{login}",
            role=office.StaffRole.CLERK,
            password=STAFF_PASSWORD,
        )
        self.session.commit()
        client = TestClient(create_app(self.container), base_url=PORTAL)
        page = client.get("/office/login")
        client.post(
            "/office/login",
            data={"csrf_token": _csrf(page.text), "login_id": login, "password": STAFF_PASSWORD},
        )
        page = client.get("/office/login/code")
        code = office.current_code(session=self.session, settings=self.settings, login_id=login)
        client.post("/office/login/code", data={"csrf_token": _csrf(page.text), "code": code})
        return client

    def resident(self, name: str) -> TestClient:
        client = TestClient(create_app(self.container), base_url=PORTAL)
        reader = card.VirtualCardReader.from_settings(self.settings)
        login_client.login(client, PORTAL, reader.open_session(self.cards[name], "auth", PIN))
        return client

    def shelter_id(self, municipality: str = CHIYODA) -> int:
        return counters.shelters_of(session=self.session, municipality_code=municipality)[0].id


@pytest.fixture
def town(session: Session, settings: Settings, container: Container) -> Town:
    registry.ensure_municipalities(session=session)
    jpki.ensure_authorities(session=session, settings=settings)
    people = registry.ensure_personas(session=session)
    cards = {
        name: card.issue_card(
            session=session,
            settings=settings,
            resident_id=people[name].id,
            pin=PIN,
            password=PASSWORD,
        ).card_id
        for name in ("taro", "hanako", "misaki")
    }
    for code in (CHIYODA, YOKOHAMA):
        counters.ensure_facilities(session=session, municipality_code=code)
    session.commit()
    return Town(session, settings, container, people, cards)


@pytest.fixture
def clerk(town: Town) -> Iterator[TestClient]:
    with town.staff("chiyoda1", CHIYODA) as client:
        yield client


def _post(client: TestClient, page_path: str, path: str, **data: str) -> object:
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(path, data={"csrf_token": _csrf(page.text), **data})


def _register(client: TestClient, card_id: str, pin: str = PIN) -> object:
    return _post(
        client,
        "/office/counters/library",
        "/office/counters/library/register",
        card_id=card_id,
        pin=pin,
    )


def _lend(client: TestClient, card_id: str, book: str, pin: str = PIN) -> object:
    return _post(
        client,
        "/office/counters/library",
        "/office/counters/library/lend",
        card_id=card_id,
        pin=pin,
        book_code=book,
    )


def _patrons(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Patron)) or 0)


# --- the library -------------------------------------------------------------------------


def test_a_resident_registers_borrows_returns_and_sees_it_in_the_portal(
    town: Town, clerk: TestClient
) -> None:
    registered = _register(clerk, town.cards["taro"])
    assert registered.status_code == 200  # type: ignore[attr-defined]
    assert "利用者番号" in registered.text  # type: ignore[attr-defined]
    lent = _lend(clerk, town.cards["taro"], "B00001")
    assert lent.status_code == 200, lent.text  # type: ignore[attr-defined]
    assert "はじめての家庭菜園" in lent.text  # type: ignore[attr-defined]
    assert "令和" in lent.text  # type: ignore[attr-defined]
    with town.resident("taro") as taro:
        assert "/card-uses" in taro.get("/home").text
        page = taro.get("/card-uses")
        assert page.status_code == 200
        assert "はじめての家庭菜園" in page.text
        assert "令和" in page.text
        assert "図書館の利用登録" in page.text
    returned = _post(
        clerk, "/office/counters/library", "/office/counters/library/return", book_code="b00001"
    )
    assert returned.status_code == 200  # type: ignore[attr-defined]
    with town.resident("taro") as taro:
        page = taro.get("/card-uses").text
        assert "貸出中の本はありません" in page
        assert "本の返却" in page


def test_the_library_number_survives_a_card_reissue(town: Town, clerk: TestClient) -> None:
    _register(clerk, town.cards["taro"])
    card.report_lost(session=town.session, settings=town.settings, card_id=town.cards["taro"])
    new_card = card.issue_card(
        session=town.session,
        settings=town.settings,
        resident_id=town.people["taro"].id,
        pin=PIN,
        password=PASSWORD,
    ).card_id
    town.session.commit()
    again = _register(clerk, new_card)
    # The new card finds the same patron: already registered, with the same number.
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert "既に" in again.text  # type: ignore[attr-defined]
    assert _patrons(town.session) == 1


def test_a_revoked_card_is_refused(town: Town, clerk: TestClient) -> None:
    card.report_lost(session=town.session, settings=town.settings, card_id=town.cards["taro"])
    town.session.commit()
    refused = _register(clerk, town.cards["taro"])
    assert refused.status_code >= 400  # type: ignore[attr-defined]
    assert "失効" in refused.text  # type: ignore[attr-defined]
    assert _patrons(town.session) == 0


def test_a_wrong_pin_is_refused_and_nothing_is_registered(town: Town, clerk: TestClient) -> None:
    refused = _register(clerk, town.cards["taro"], pin="9999")
    assert refused.status_code == 401  # type: ignore[attr-defined]
    assert "暗証番号" in refused.text  # type: ignore[attr-defined]
    assert _patrons(town.session) == 0


def test_a_resident_of_another_municipality_is_refused_where_outsiders_are_not_admitted(
    town: Town, clerk: TestClient
) -> None:
    refused = _register(clerk, town.cards["misaki"])
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "他の市区町村" in refused.text  # type: ignore[attr-defined]
    assert _patrons(town.session) == 0


def test_a_library_that_admits_outsiders_registers_them(town: Town) -> None:
    town.container.settings = town.settings.model_copy(update={"library_outside_users": [CHIYODA]})
    with town.staff("chiyoda2", CHIYODA) as clerk:
        registered = _register(clerk, town.cards["misaki"])
    assert registered.status_code == 200  # type: ignore[attr-defined]
    assert _patrons(town.session) == 1


def test_an_overdue_patron_borrows_nothing(town: Town, clerk: TestClient) -> None:
    _register(clerk, town.cards["taro"])
    library = service.library_of(session=town.session, municipality_code=CHIYODA)
    holder = service.Identified(town.people["taro"], counters.Method.PIN)
    service.lend(
        session=town.session,
        settings=town.settings,
        library=library,
        holder=holder,
        book_code="B00002",
        at=datetime.now(UTC) - timedelta(days=30),
    )
    town.session.commit()
    refused = _lend(clerk, town.cards["taro"], "B00003")
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert "延滞" in refused.text  # type: ignore[attr-defined]
    with town.resident("taro") as taro:
        assert "（延滞）" in taro.get("/card-uses").text


@pytest.mark.parametrize(
    ("book", "status"), [("Z99999", 404), ("", 422), ("B" * 17, 422), ("B00001", 200)]
)
def test_book_codes_are_checked(town: Town, clerk: TestClient, book: str, status: int) -> None:
    _register(clerk, town.cards["taro"])
    assert _lend(clerk, town.cards["taro"], book).status_code == status  # type: ignore[attr-defined]


def test_a_book_on_loan_is_not_lent_twice(town: Town, clerk: TestClient) -> None:
    _register(clerk, town.cards["taro"])
    _register(clerk, town.cards["hanako"])
    assert _lend(clerk, town.cards["taro"], "B00004").status_code == 200  # type: ignore[attr-defined]
    assert _lend(clerk, town.cards["hanako"], "B00004").status_code == 409  # type: ignore[attr-defined]


def test_a_card_that_is_not_on_the_reader_is_refused(town: Town, clerk: TestClient) -> None:
    assert _register(clerk, "no-such-card").status_code == 400  # type: ignore[attr-defined]


def test_the_counter_needs_the_csrf_token_and_a_login(town: Town, clerk: TestClient) -> None:
    forged = clerk.post(
        "/office/counters/library/register",
        data={"csrf_token": "forged", "card_id": town.cards["taro"], "pin": PIN},
    )
    assert forged.status_code == 403
    assert _patrons(town.session) == 0
    with TestClient(create_app(town.container), base_url=PORTAL) as anonymous:
        assert anonymous.get("/office/counters/library", follow_redirects=False).status_code in (
            302,
            303,
        )


# --- shelters ------------------------------------------------------------------------------


def _identify(clerk: TestClient, shelter: int, card_id: str) -> str:
    page = clerk.get(f"/office/counters/shelters/{shelter}/card", params={"card_id": card_id})
    assert page.status_code == 200, page.text
    return page.text


def test_a_face_match_without_staff_confirmation_is_refused(town: Town, clerk: TestClient) -> None:
    shelter = town.shelter_id()
    page = _identify(clerk, shelter, town.cards["taro"])
    refused = clerk.post(
        f"/office/counters/shelters/{shelter}/face",
        data={"csrf_token": _csrf(page), "card_id": town.cards["taro"]},
    )
    assert refused.status_code == 400
    assert "顔" in refused.text
    assert 'name="token"' not in refused.text


def _checked_in(town: Town) -> list[Checkin]:
    return list(town.session.scalars(select(Checkin).order_by(Checkin.id)))


def test_staff_confirm_the_face_and_check_a_household_in_together(
    town: Town, clerk: TestClient
) -> None:
    shelter = town.shelter_id()
    page = _identify(clerk, shelter, town.cards["taro"])
    assert "山田" in page
    chosen = clerk.post(
        f"/office/counters/shelters/{shelter}/face",
        data={"csrf_token": _csrf(page), "card_id": town.cards["taro"], "face_matches": "yes"},
    )
    assert chosen.status_code == 200, chosen.text
    assert town.people["hanako"].given_name in chosen.text
    token = re.search(r'name="token" value="([^"]+)"', chosen.text)
    assert token
    done = clerk.post(
        f"/office/counters/shelters/{shelter}/checkins",
        data={
            "csrf_token": _csrf(chosen.text),
            "token": token.group(1),
            "presenter": "yes",
            "members": ["0"],
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    rows = _checked_in(town)
    assert [r.method for r in rows] == ["face", "household"]
    assert rows[0].confirmed_by == "職員chiyoda1"
    assert rows[0].party == rows[1].party
    # The same token again: both are inside already; nothing more is written.
    again = clerk.post(
        f"/office/counters/shelters/{shelter}/checkins",
        data={"csrf_token": _csrf(chosen.text), "token": token.group(1), "presenter": "yes"},
    )
    assert again.status_code == 409
    assert len(_checked_in(town)) == 2
    with town.resident("hanako") as hanako:
        history = hanako.get("/card-uses").text
    assert "避難所の受付" in history
    assert "世帯員のカードと一緒に" in history


def test_check_in_with_the_pin_and_check_out(town: Town, clerk: TestClient) -> None:
    shelter = town.shelter_id()
    page = _identify(clerk, shelter, town.cards["taro"])
    wrong = clerk.post(
        f"/office/counters/shelters/{shelter}/pin",
        data={"csrf_token": _csrf(page), "card_id": town.cards["taro"], "pin": "0000"},
    )
    assert wrong.status_code == 401
    chosen = clerk.post(
        f"/office/counters/shelters/{shelter}/pin",
        data={"csrf_token": _csrf(page), "card_id": town.cards["taro"], "pin": PIN},
    )
    assert chosen.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', chosen.text)
    assert token
    nobody = clerk.post(
        f"/office/counters/shelters/{shelter}/checkins",
        data={"csrf_token": _csrf(chosen.text), "token": token.group(1)},
    )
    assert nobody.status_code == 400
    clerk.post(
        f"/office/counters/shelters/{shelter}/checkins",
        data={"csrf_token": _csrf(chosen.text), "token": token.group(1), "presenter": "yes"},
    )
    (row,) = _checked_in(town)
    assert row.method == "pin"
    out = clerk.post(
        f"/office/counters/shelters/{shelter}/checkins/{row.id}/checkout",
        data={"csrf_token": _csrf(chosen.text)},
        follow_redirects=False,
    )
    assert out.status_code == 303
    town.session.refresh(row)
    assert row.checked_out_at is not None
    twice = clerk.post(
        f"/office/counters/shelters/{shelter}/checkins/{row.id}/checkout",
        data={"csrf_token": _csrf(chosen.text)},
    )
    assert twice.status_code == 404


def test_a_tampered_presentation_is_refused(town: Town, clerk: TestClient) -> None:
    shelter = town.shelter_id()
    page = clerk.get("/office/counters/library")
    refused = clerk.post(
        f"/office/counters/shelters/{shelter}/checkins",
        data={"csrf_token": _csrf(page.text), "token": "AAAA" * 20, "presenter": "yes"},
    )
    assert refused.status_code == 410
    assert _checked_in(town) == []


def test_the_roster_exports_as_csv_for_excel_and_as_json(town: Town, clerk: TestClient) -> None:
    shelter = town.shelter_id()
    page = _identify(clerk, shelter, town.cards["taro"])
    chosen = clerk.post(
        f"/office/counters/shelters/{shelter}/pin",
        data={"csrf_token": _csrf(page), "card_id": town.cards["taro"], "pin": PIN},
    )
    token = re.search(r'name="token" value="([^"]+)"', chosen.text)
    assert token
    clerk.post(
        f"/office/counters/shelters/{shelter}/checkins",
        data={"csrf_token": _csrf(chosen.text), "token": token.group(1), "presenter": "yes"},
    )
    exported = clerk.get(f"/office/counters/shelters/{shelter}/roster.csv")
    assert exported.status_code == 200
    assert exported.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][2] == "氏名"
    assert rows[1][2] == town.people["taro"].full_name
    as_json = clerk.get(f"/office/counters/shelters/{shelter}/roster.json")
    assert as_json.status_code == 200
    body = json.loads(as_json.content)
    assert body["inside"] == 1
    assert body["entries"][0]["name_kana"] == town.people["taro"].full_name_kana


def test_another_municipality_s_staff_cannot_open_or_export_the_shelter(town: Town) -> None:
    shelter = town.shelter_id(CHIYODA)
    with town.staff("yokohama1", YOKOHAMA) as other:
        for path in ("", "/roster.csv", "/roster.json"):
            response = other.get(f"/office/counters/shelters/{shelter}{path}")
            # Refused as a shelter that does not exist: the id leaks nothing.
            assert response.status_code == 404, path
            assert "氏名" not in response.text


@pytest.mark.parametrize("bad", ["0", "-1", "99999999999", "abc"])
def test_a_bad_shelter_id_is_a_clear_error(clerk: TestClient, bad: str) -> None:
    assert clerk.get(f"/office/counters/shelters/{bad}").status_code in (404, 422)


def test_one_resident_never_sees_another_s_loans_or_check_ins(
    town: Town, clerk: TestClient
) -> None:
    _register(clerk, town.cards["taro"])
    _lend(clerk, town.cards["taro"], "B00005")
    shelter = town.shelter_id()
    page = _identify(clerk, shelter, town.cards["taro"])
    chosen = clerk.post(
        f"/office/counters/shelters/{shelter}/pin",
        data={"csrf_token": _csrf(page), "card_id": town.cards["taro"], "pin": PIN},
    )
    token = re.search(r'name="token" value="([^"]+)"', chosen.text)
    assert token
    clerk.post(
        f"/office/counters/shelters/{shelter}/checkins",
        data={"csrf_token": _csrf(chosen.text), "token": token.group(1), "presenter": "yes"},
    )
    assert town.session.scalar(select(func.count()).select_from(CardUse)) == 3
    with town.resident("misaki") as misaki:
        page_text = misaki.get("/card-uses").text
    assert "路面電車のある風景" not in page_text
    assert "第一小学校" not in page_text
    assert "カードはまだ" in page_text
    with town.resident("hanako") as hanako:
        page_text = hanako.get("/card-uses").text
    assert "路面電車のある風景" not in page_text
    assert "第一小学校" not in page_text


def test_the_roster_export_is_described_in_the_openapi_document(town: Town) -> None:
    with TestClient(create_app(town.container), base_url=PORTAL) as client:
        document = client.get("/api/openapi.json").json()
    operation = document["paths"]["/office/counters/shelters/{shelter_id}/roster.json"]["get"]
    assert "Roster" in json.dumps(operation["responses"]["200"])
