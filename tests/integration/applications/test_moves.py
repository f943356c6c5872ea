"""Moves (転出届・転入予約): one signed submission, the certificate information through the
hub, the move-in on the reserved day — registry, certificates, police node and notices."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import agencies, jpki, network, notices, registry
from myna.app import create_app
from myna.applications import service as applications
from myna.applications import submission
from myna.applications.domain import ApplicationStatus
from myna.applications.models import Application
from myna.bootstrap import Container
from myna.moves import service as moves
from myna.network import transparency
from myna.office import service as office
from myna.platform.clock import today_in_japan
from myna.platform.sessions import STAFF
from myna.platform.settings import Settings
from myna.reader import client as login_client
from tests.integration.applications.filing import (
    PIN,
    Signer,
    file_application,
    filing_api_headers,
    signer_for,
)

CHIYODA = "131016"
OSAKA = "271004"
PORTAL = "http://testserver"
STAFF_PASSWORD = "correct-horse-2026"


def _data(
    today: date,
    *,
    to: str = OSAKA,
    movers: str = "household",
    move_out_in: int = 0,
    move_in_after: int = 0,
) -> dict[str, Any]:
    move_out = today + timedelta(days=move_out_in)
    return {
        "move_out_date": move_out.isoformat(),
        "new_municipality_code": to,
        "new_address": "北区梅田1-1-1",
        "move_in_date": (move_out + timedelta(days=move_in_after)).isoformat(),
        "movers": movers,
        "phone": "03-1234-5678",
        "declaration": True,
    }


@dataclass
class FailingTransport:
    """The in-process transport, except that some providers cannot be reached."""

    inner: network.AgencyTransport
    failing: set[str] = field(default_factory=set)

    def query(self, provider: str, signed_query: str) -> str:
        if provider in self.failing:
            raise ConnectionError(provider)
        return self.inner.query(provider, signed_query)

    def publish(self, owner: str, signed_update: str) -> str:
        if owner in self.failing:
            raise ConnectionError(owner)
        return self.inner.publish(owner, signed_update)


@pytest.fixture
def today() -> date:
    return today_in_japan()


@pytest.fixture
def signer(session: Session, settings: Settings) -> Signer:
    return signer_for(session, settings)


@pytest.fixture
def hub(session: Session, settings: Settings) -> network.Hub:
    return network.build_hub(session=session, settings=settings, remote=None)


def _file(
    session: Session, settings: Settings, signer: Signer, data: dict[str, Any]
) -> applications.ApplicationRead:
    return file_application(session, settings, signer, code=moves.MOVE_OUT, data=data)


def _certificates(session: Session, resident_id: int) -> dict[jpki.CertificateKind, Any]:
    return {c.kind: c for c in jpki.list_certificates(session=session, holder_id=resident_id)}


def _log(session: Session, resident_id: int, item: str) -> list[Any]:
    page = transparency.entries_for_subject(session=session, subject=str(resident_id), item=item)
    return list(page.items)


def _personas(session: Session) -> dict[str, registry.ResidentRead]:
    return {
        key: registry.get_resident(session=session, resident_id=person.id)
        for key, person in registry.ensure_personas(session=session).items()
    }


def _moved_out(
    session: Session, settings: Settings, signer: Signer, hub: network.Hub, data: dict[str, Any]
) -> moves.MoveView:
    filed = _file(session, settings, signer, data)
    return moves.complete_move_out(
        session=session,
        hub=hub,
        receipt_number=filed.receipt_number,
        municipality_code=CHIYODA,
        actor="staff:1",
    )


# --- the whole move, in service calls ------------------------------------------------------


def _assert_the_police_node_has_the_new_address(
    session: Session, taro: registry.ResidentRead, child_id: int
) -> None:
    police_records = agencies.answer_query(
        session=session,
        agency_code=moves.POLICE,
        link_code=network.link_code_for_resident(
            session=session, resident_id=taro.id, agency_code=moves.POLICE
        ),
        items=[moves.LICENSE_ITEM],
    )
    assert police_records[0].payload["address"] == taro.full_address
    # J-LIS's 本人確認情報 (what partners read as the basic 4 info) has it too.
    identity = agencies.answer_query(
        session=session,
        agency_code=moves.JLIS,
        link_code=network.link_code_for_resident(
            session=session, resident_id=taro.id, agency_code=moves.JLIS
        ),
        items=[moves.IDENTITY_ITEM],
    )
    assert [r.payload["address"] for r in identity] == [taro.full_address]
    # The arriving municipality's household record lists who moved in, as a 住民票 does.
    (household,) = agencies.answer_query(
        session=session,
        agency_code=f"muni-{OSAKA}",
        link_code=network.link_code_for_resident(
            session=session, resident_id=taro.id, agency_code=f"muni-{OSAKA}"
        ),
        items=[moves.HOUSEHOLD_ITEM],
    )
    assert household.payload["member_relations"] == ["世帯主", "妻", "子"]
    assert household.payload["member_birth_dates"] == ["1985-04-12", "1987-09-03", "2016-06-20"]
    # The hub asks every municipality holding the person; the arriving one answers.
    (license_exchange,) = [
        e
        for e in _log(session, taro.id, moves.HOUSEHOLD_ITEM)
        if e.provider == f"muni-{OSAKA}" and e.requester == moves.POLICE
    ]
    assert license_exchange.procedure == moves.LICENSE_PROCEDURE
    # The license system then writes the address into its own store, through the hub.
    (written,) = _log(session, taro.id, moves.LICENSE_ITEM)
    assert (written.requester, written.provider, written.procedure, written.outcome) == (
        moves.POLICE,
        moves.POLICE,
        moves.LICENSE_PROCEDURE,
        "success",
    )
    # A child of ten holds no license: the police node is not asked about him; only the
    # arriving municipality's household record of him is written (and logged).
    assert [(e.requester, e.provider) for e in _log(session, child_id, moves.HOUSEHOLD_ITEM)] == [
        (f"muni-{OSAKA}", f"muni-{OSAKA}")
    ]
    assert _log(session, child_id, moves.LICENSE_ITEM) == []


def test_a_household_moves_from_filing_to_the_completed_move_in(
    session: Session, settings: Settings, signer: Signer, hub: network.Hub, today: date
) -> None:
    filed = _file(session, settings, signer, _data(today))
    (move,) = moves.moves_of_resident(session=session, resident_id=signer.resident_id)
    people = _personas(session)
    assert move.status is moves.MoveStatus.FILED
    assert [m.resident_id for m in move.members] == [
        people["taro"].id,
        people["hanako"].id,
        people["haruto"].id,
    ]
    assert move.move_out_receipt == filed.receipt_number
    # The reservation: a second application at the arriving municipality, same signature.
    reservation = applications.get_application(
        session=session, receipt_number=move.move_in_receipt, municipality_code=OSAKA
    )
    assert reservation.procedure_code == moves.MOVE_IN
    assert reservation.status is ApplicationStatus.RECEIVED
    assert reservation.receipt_number != filed.receipt_number
    assert applications.signed_parts(
        session=session, application_id=reservation.id
    ) == applications.signed_parts(session=session, application_id=filed.id)
    inbox_titles = [
        n.title for n in notices.inbox(session=session, resident_id=signer.resident_id).items
    ]
    assert sum("受け付けました" in t for t in inbox_titles) == 2  # both receipts

    # The departing municipality completes the move-out; the certificate info arrives.
    sent = moves.complete_move_out(
        session=session,
        hub=hub,
        receipt_number=filed.receipt_number,
        municipality_code=CHIYODA,
        actor="staff:1",
    )
    assert sent.status is moves.MoveStatus.CERTIFICATE_SENT
    taro_certificate = sent.members[0].certificate
    assert taro_certificate is not None
    assert taro_certificate["name"] == "山田 太郎"
    assert taro_certificate["birth_date"] == "1985-04-12"
    assert taro_certificate["former_address"] == people["taro"].full_address
    assert taro_certificate["new_address"].endswith("北区梅田1-1-1")
    assert applications.get_application(
        session=session, receipt_number=filed.receipt_number
    ).status is (ApplicationStatus.COMPLETED)
    # Two logged exchanges: the departing municipality writes the certificate into its
    # own store through the hub, then the arriving one receives it.
    logged = _log(session, signer.resident_id, moves.CERTIFICATE_ITEM)
    assert sorted((e.requester, e.provider, e.procedure, e.outcome) for e in logged) == [
        (f"muni-{CHIYODA}", f"muni-{CHIYODA}", moves.MOVE_OUT_PROCEDURE, "success"),
        (f"muni-{OSAKA}", f"muni-{CHIYODA}", moves.MOVE_IN_PROCEDURE, "success"),
    ]

    # The arriving municipality completes the move-in on the reserved day.
    done = moves.complete_move_in(
        session=session, hub=hub, move_id=move.id, municipality_code=OSAKA, actor="staff:2"
    )
    assert done.status is moves.MoveStatus.COMPLETED
    taro = registry.get_resident(session=session, resident_id=people["taro"].id)
    hanako = registry.get_resident(session=session, resident_id=people["hanako"].id)
    assert (taro.municipality_code, taro.address) == (OSAKA, "北区梅田1-1-1")
    assert hanako.household_id == taro.household_id
    assert taro.relation is registry.Relation.HEAD
    assert hanako.relation is registry.Relation.WIFE
    *_, before, after = registry.address_history(session=session, resident_id=taro.id)
    assert before.municipality_code == CHIYODA
    assert before.valid_to == today
    assert (after.municipality_code, after.valid_from, after.valid_to) == (OSAKA, today, None)
    assert after.reason == registry.AddressChangeReason.MOVE_IN.value

    certificates = _certificates(session, taro.id)
    assert certificates[jpki.CertificateKind.SIGN].status is jpki.CertificateStatus.REVOKED
    assert (
        certificates[jpki.CertificateKind.SIGN].revocation_reason
        is jpki.RevocationReason.BASIC_INFO_CHANGE
    )
    assert certificates[jpki.CertificateKind.AUTH].status is jpki.CertificateStatus.VALID

    _assert_the_police_node_has_the_new_address(session, taro, people["haruto"].id)

    for person in (taro, hanako):
        titles = [n.title for n in notices.inbox(session=session, resident_id=person.id).items]
        assert any("転入の手続が完了しました" in t for t in titles)
    assert (
        applications.get_application(
            session=session, receipt_number=move.move_in_receipt, municipality_code=OSAKA
        ).status
        is ApplicationStatus.COMPLETED
    )


def test_a_resident_moving_alone_leaves_the_household_behind(
    session: Session, settings: Settings, signer: Signer, hub: network.Hub, today: date
) -> None:
    move = _moved_out(session, settings, signer, hub, _data(today, movers="self"))
    assert len(move.members) == 1
    moves.complete_move_in(
        session=session, hub=hub, move_id=move.id, municipality_code=OSAKA, actor="staff:2"
    )
    people = _personas(session)
    assert people["taro"].municipality_code == OSAKA
    assert people["hanako"].municipality_code == CHIYODA
    assert people["hanako"].household_id != people["taro"].household_id


# --- refusals ------------------------------------------------------------------------------


def _unknown_code(session: Session) -> str:
    """A code with a valid check digit that no municipality in the registry has."""
    codes = {m.code for m in registry.list_municipalities(session=session)}
    for first_five in range(47999, 1000, -1):
        stem = f"{first_five:05d}"
        code = f"{stem}{registry.municipality_check_digit(stem)}"
        if code not in codes:
            return code
    raise AssertionError


def _field_messages(errors: list[Any]) -> dict[str, str]:
    return {e.field: e.message for e in errors}


def test_it_refuses_an_unknown_or_same_municipality_before_signing(
    session: Session, signer: Signer, today: date
) -> None:
    unknown = _unknown_code(session)
    for code, expected in [
        (unknown, "ありません"),
        ("271005", "検査数字"),
        (CHIYODA, "同じ市区町村"),
    ]:
        errors = moves.check_draft(
            session=session, resident_id=signer.resident_id, data=_data(today, to=code)
        )
        assert "new_municipality_code" in _field_messages(errors), code
        assert expected in _field_messages(errors)["new_municipality_code"]
    assert (
        moves.check_draft(session=session, resident_id=signer.resident_id, data=_data(today)) == []
    )


def test_it_refuses_dates_out_of_order_or_beyond_fourteen_days(
    session: Session, signer: Signer, today: date
) -> None:
    late = _data(today, move_in_after=15)
    early = {**_data(today, move_out_in=3), "move_in_date": today.isoformat()}
    for data in (late, early):
        errors = _field_messages(
            moves.check_draft(session=session, resident_id=signer.resident_id, data=data)
        )
        assert set(errors) == {"move_in_date"}
    assert (
        moves.check_draft(
            session=session, resident_id=signer.resident_id, data=_data(today, move_in_after=14)
        )
        == []
    )


@pytest.mark.parametrize("day", [date.max, date.min])
def test_dates_at_the_ends_of_the_calendar_are_field_errors_not_overflows(
    session: Session, signer: Signer, today: date, day: date
) -> None:
    data = {**_data(today), "move_out_date": day.isoformat(), "move_in_date": day.isoformat()}
    errors = _field_messages(
        moves.check_draft(session=session, resident_id=signer.resident_id, data=data)
    )
    assert "move_out_date" in errors


def test_a_move_to_an_unknown_municipality_is_never_filed(
    session: Session, settings: Settings, signer: Signer, today: date
) -> None:
    before = session.scalar(select(func.count()).select_from(Application))
    # The signing request is refused before anything is signed (moves.check_draft).
    with pytest.raises(submission.ApplicationIncompleteError), session.begin_nested():
        _file(session, settings, signer, _data(today, to=CHIYODA))
    assert session.scalar(select(func.count()).select_from(Application)) == before
    assert moves.moves_of_resident(session=session, resident_id=signer.resident_id) == []


def test_it_refuses_the_move_in_before_the_certificate_information_arrived(
    session: Session, settings: Settings, signer: Signer, hub: network.Hub, today: date
) -> None:
    _file(session, settings, signer, _data(today))
    (move,) = moves.moves_of_resident(session=session, resident_id=signer.resident_id)
    with pytest.raises(moves.CertificateNotArrivedError):
        moves.complete_move_in(
            session=session, hub=hub, move_id=move.id, municipality_code=OSAKA, actor="staff:2"
        )


def test_it_refuses_the_move_in_before_the_reserved_day(
    session: Session, settings: Settings, signer: Signer, hub: network.Hub, today: date
) -> None:
    move = _moved_out(session, settings, signer, hub, _data(today, move_in_after=3))
    with pytest.raises(moves.BeforeReservedDayError):
        moves.complete_move_in(
            session=session, hub=hub, move_id=move.id, municipality_code=OSAKA, actor="staff:2"
        )
    done = moves.complete_move_in(
        session=session,
        hub=hub,
        move_id=move.id,
        municipality_code=OSAKA,
        actor="staff:2",
        today=today + timedelta(days=3),
    )
    assert done.status is moves.MoveStatus.COMPLETED


def test_another_municipality_cannot_see_or_complete_the_move_in(
    session: Session, settings: Settings, signer: Signer, hub: network.Hub, today: date
) -> None:
    move = _moved_out(session, settings, signer, hub, _data(today))
    with pytest.raises(moves.MoveNotFoundError):
        moves.complete_move_in(
            session=session, hub=hub, move_id=move.id, municipality_code=CHIYODA, actor="x"
        )
    with pytest.raises(moves.MoveNotFoundError):
        moves.get_move_in(session=session, move_id=move.id, municipality_code=CHIYODA)
    assert moves.move_ins_for(session=session, municipality_code=CHIYODA) == []


@pytest.mark.parametrize(
    ("unreachable", "error"),
    [
        ("police", moves.LicenseUpdateFailedError),
        (f"muni-{OSAKA}", moves.HouseholdUpdateFailedError),
        (moves.JLIS, moves.IdentityUpdateFailedError),
    ],
)
def test_nothing_changes_when_an_agency_the_move_in_writes_to_cannot_be_reached(
    session: Session,
    settings: Settings,
    signer: Signer,
    hub: network.Hub,
    today: date,
    unreachable: str,
    error: type[moves.MoveError],
) -> None:
    move = _moved_out(session, settings, signer, hub, _data(today))
    broken = network.Hub(
        settings=settings,
        directory=agencies.load_catalog(),
        transport=FailingTransport(
            network.InProcessTransport(session=session, settings=settings), {unreachable}
        ),
    )
    with pytest.raises(error), session.begin_nested():
        moves.complete_move_in(
            session=session, hub=broken, move_id=move.id, municipality_code=OSAKA, actor="x"
        )
    taro = registry.get_resident(session=session, resident_id=signer.resident_id)
    assert taro.municipality_code == CHIYODA
    assert registry.address_history(session=session, resident_id=taro.id)[-1].valid_to is None
    assert _certificates(session, taro.id)[jpki.CertificateKind.SIGN].status is (
        jpki.CertificateStatus.VALID
    )
    (again,) = moves.moves_of_resident(session=session, resident_id=taro.id)
    assert again.status is moves.MoveStatus.CERTIFICATE_SENT


def test_the_move_out_is_not_completed_when_the_certificate_cannot_be_delivered(
    session: Session, settings: Settings, signer: Signer, today: date
) -> None:
    filed = _file(session, settings, signer, _data(today))
    broken = network.Hub(
        settings=settings,
        directory=agencies.load_catalog(),
        transport=FailingTransport(
            network.InProcessTransport(session=session, settings=settings), {f"muni-{CHIYODA}"}
        ),
    )
    with pytest.raises(moves.CertificateExchangeFailedError), session.begin_nested():
        moves.complete_move_out(
            session=session,
            hub=broken,
            receipt_number=filed.receipt_number,
            municipality_code=CHIYODA,
            actor="staff:1",
        )
    assert (
        applications.get_application(session=session, receipt_number=filed.receipt_number).status
        is ApplicationStatus.RECEIVED
    )


# --- the pages -----------------------------------------------------------------------------


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url=PORTAL) as client:
        yield client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _staff_login(
    client: TestClient,
    session: Session,
    settings: Settings,
    municipality: str,
    role: office.StaffRole = office.StaffRole.CLERK,
) -> None:
    login_id = f"{role.value}-{municipality}"
    office.create_staff(
        session=session,
        settings=settings,
        municipality_code=municipality,
        login_id=login_id,
        display_name="担当",
        role=role,
        password=STAFF_PASSWORD,
    )
    session.commit()
    page = client.get("/office/login")
    client.post(
        "/office/login",
        data={"csrf_token": _csrf(page.text), "login_id": login_id, "password": STAFF_PASSWORD},
        follow_redirects=False,
    )
    page = client.get("/office/login/code")
    code = office.current_code(session=session, settings=settings, login_id=login_id)
    client.post(
        "/office/login/code",
        data={"csrf_token": _csrf(page.text), "code": code},
        follow_redirects=False,
    )
    assert STAFF.cookie in client.cookies


def test_arriving_staff_list_open_and_complete_a_move_in(
    client: TestClient,
    session: Session,
    settings: Settings,
    signer: Signer,
    hub: network.Hub,
    today: date,
) -> None:
    move = _moved_out(session, settings, signer, hub, _data(today))
    _staff_login(client, session, settings, OSAKA)
    listing = client.get("/office/moves")
    assert listing.status_code == 200
    assert "山田 太郎、山田 花子、山田 陽翔" in listing.text
    assert f"/office/moves/{move.id}" in listing.text
    detail = client.get(f"/office/moves/{move.id}")
    assert detail.status_code == 200
    assert "ヤマダ タロウ" in detail.text
    refused = client.post(f"/office/moves/{move.id}/complete", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    done = client.post(
        f"/office/moves/{move.id}/complete",
        data={"csrf_token": _csrf(detail.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert client.get(done.headers["location"]).status_code == 200
    session.expire_all()
    assert (
        registry.get_resident(session=session, resident_id=signer.resident_id).municipality_code
        == OSAKA
    )


def test_the_page_explains_a_refused_move_in_and_changes_nothing(
    client: TestClient,
    session: Session,
    settings: Settings,
    signer: Signer,
    hub: network.Hub,
    today: date,
) -> None:
    move = _moved_out(session, settings, signer, hub, _data(today, move_in_after=5))
    _staff_login(client, session, settings, OSAKA)
    # The page offers no button before the reserved day; a post anyway is refused.
    dashboard = client.get("/office")
    refused = client.post(
        f"/office/moves/{move.id}/complete", data={"csrf_token": _csrf(dashboard.text)}
    )
    assert refused.status_code == 409
    assert "予約" in refused.text
    session.expire_all()
    assert (
        registry.get_resident(session=session, resident_id=signer.resident_id).municipality_code
        == CHIYODA
    )


def test_the_move_pages_name_the_origin_and_give_dates_in_wareki(
    client: TestClient,
    session: Session,
    settings: Settings,
    signer: Signer,
    hub: network.Hub,
    today: date,
) -> None:
    move = _moved_out(session, settings, signer, hub, _data(today))
    _staff_login(client, session, settings, OSAKA)
    for page in (client.get("/office/moves"), client.get(f"/office/moves/{move.id}")):
        assert "転出元の市区町村" in page.text
        assert "開始日" not in page.text
        assert "東京都千代田区" in page.text
    detail = client.get(f"/office/moves/{move.id}").text
    taro = registry.get_resident(session=session, resident_id=signer.resident_id)
    assert taro.birth_date.isoformat() not in detail
    assert re.search(r"(昭和|平成|令和)(元|\d+)年\d+月\d+日", detail)


def test_complete_is_offered_only_when_the_service_would_complete(
    client: TestClient,
    session: Session,
    settings: Settings,
    signer: Signer,
    hub: network.Hub,
    today: date,
) -> None:
    move = _moved_out(session, settings, signer, hub, _data(today, move_in_after=5))
    _staff_login(client, session, settings, OSAKA)
    early = client.get(f"/office/moves/{move.id}").text
    assert "転入を完了する" not in early
    assert f"/office/moves/{move.id}/complete" not in early
    view = moves.get_move_in(session=session, move_id=move.id, municipality_code=OSAKA)
    assert isinstance(view.move_in_refusal(today), moves.BeforeReservedDayError)
    on_the_day = today + timedelta(days=5)
    assert view.move_in_refusal(on_the_day) is None
    with pytest.raises(moves.BeforeReservedDayError):
        moves.complete_move_in(
            session=session, hub=hub, move_id=move.id, municipality_code=OSAKA, actor="x"
        )


def test_completed_move_ins_are_listed_apart(
    client: TestClient,
    session: Session,
    settings: Settings,
    signer: Signer,
    hub: network.Hub,
    today: date,
) -> None:
    move = _moved_out(session, settings, signer, hub, _data(today))
    _staff_login(client, session, settings, OSAKA)
    detail = client.get(f"/office/moves/{move.id}").text
    assert "転入を完了する" in detail
    assert f"/office/moves/{move.id}" not in client.get("/office/moves?show=completed").text
    client.post(f"/office/moves/{move.id}/complete", data={"csrf_token": _csrf(detail)})
    assert f"/office/moves/{move.id}" not in client.get("/office/moves").text
    completed = client.get("/office/moves?show=completed")
    assert f"/office/moves/{move.id}" in completed.text
    assert 'aria-current="page"' in completed.text
    assert f"/office/moves/{move.id}" in client.get("/office/moves?show=all").text
    assert "転入を完了する" not in client.get(f"/office/moves/{move.id}").text
    # An unknown list falls back to the open ones, never an error.
    assert client.get("/office/moves?show=%3Cscript%3E").status_code == 200


def test_departing_staff_get_not_found_for_the_arriving_side(
    client: TestClient,
    session: Session,
    settings: Settings,
    signer: Signer,
    hub: network.Hub,
    today: date,
) -> None:
    move = _moved_out(session, settings, signer, hub, _data(today))
    _staff_login(client, session, settings, CHIYODA)
    assert client.get(f"/office/moves/{move.id}").status_code == 404
    listing = client.get("/office/moves")
    assert f"/office/moves/{move.id}" not in listing.text
    assert "山田 太郎" not in listing.text
    with pytest.raises(moves.MoveNotFoundError):
        moves.complete_move_in(
            session=session, hub=hub, move_id=move.id, municipality_code=CHIYODA, actor="x"
        )


def test_the_resident_sees_the_progress_of_their_move(
    client: TestClient,
    session: Session,
    settings: Settings,
    signer: Signer,
    hub: network.Hub,
    today: date,
) -> None:
    move = _moved_out(session, settings, signer, hub, _data(today))
    session.commit()
    login_client.login(client, PORTAL, signer.reader.open_session(signer.card_id, "auth", PIN))
    page = client.get("/moves")
    assert page.status_code == 200
    assert "東京都千代田区 → 大阪府大阪市" in page.text
    assert move.move_out_receipt in page.text
    assert f"/apply/{CHIYODA}/moving-out" in page.text
    # The move itself is filed through the ordinary application form.
    form = client.get(f"/apply/{CHIYODA}/moving-out")
    assert form.status_code == 200
    assert "引越し先の市区町村" in form.text
    assert "引越し先の郵便番号" in form.text


def test_the_back_office_move_pages_need_a_staff_login(client: TestClient) -> None:
    response = client.get("/office/moves", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/office/login"
    assert client.post("/office/moves/1/complete", data={"csrf_token": "x"}).status_code == 403


def test_completing_a_move_out_on_the_application_page_sends_the_certificate_information(
    client: TestClient, session: Session, settings: Settings, signer: Signer, today: date
) -> None:
    filed = _file(session, settings, signer, _data(today))
    session.commit()
    _staff_login(client, session, settings, CHIYODA, office.StaffRole.SUPERVISOR)
    url = f"/office/applications/{filed.receipt_number}"
    for status in ("under-review", "completed"):
        page = client.get(url)
        answer = client.post(
            f"{url}/status",
            data={"csrf_token": _csrf(page.text), "status": status},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
    session.expire_all()
    (move,) = moves.moves_of_resident(session=session, resident_id=signer.resident_id)
    assert move.status != "filed"
    assert _log(session, signer.resident_id, "move-out-certificate")


def test_rejecting_the_move_out_cancels_the_reservation_and_tells_both_sides(
    client: TestClient,
    session: Session,
    settings: Settings,
    signer: Signer,
    today: date,
    hub: network.Hub,
) -> None:
    filed = _file(session, settings, signer, _data(today))
    session.commit()
    _staff_login(client, session, settings, CHIYODA, office.StaffRole.SUPERVISOR)
    url = f"/office/applications/{filed.receipt_number}"
    page = client.get(url)
    answer = client.post(
        f"{url}/status",
        data={
            "csrf_token": _csrf(page.text),
            "status": "rejected",
            "comment": "転出日が不明です。",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    session.expire_all()
    (move,) = moves.moves_of_resident(session=session, resident_id=signer.resident_id)
    assert move.status == "cancelled"
    reservation = session.scalars(
        select(Application).where(Application.procedure_code == "moving-in-reservation")
    ).one()
    assert reservation.status == "rejected"
    with pytest.raises(moves.MoveCancelledError):
        moves.complete_move_in(
            session=session, hub=hub, move_id=move.id, municipality_code=OSAKA, actor="staff:2"
        )
    assert (
        registry.get_resident(session=session, resident_id=signer.resident_id).municipality_code
        == CHIYODA
    )


# --- the filing API is a second door: the same move logic -----------------------------------


def test_the_filing_api_completes_a_move_out_through_the_move_flow(
    client: TestClient, session: Session, settings: Settings, signer: Signer, today: date
) -> None:
    filed = _file(session, settings, signer, _data(today))
    session.commit()
    departing = filing_api_headers(client, session, CHIYODA)
    url = f"/api/municipality/applications/{filed.receipt_number}/status"
    assert client.post(url, headers=departing, json={"status": "under-review"}).status_code == 200
    completed = client.post(url, headers=departing, json={"status": "completed"})
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "completed"
    session.expire_all()
    (move,) = moves.moves_of_resident(session=session, resident_id=signer.resident_id)
    # The certificate information went to the arriving municipality, through the hub.
    assert move.status is moves.MoveStatus.CERTIFICATE_SENT
    assert all(m.certificate is not None for m in move.members)
    assert _log(session, signer.resident_id, moves.CERTIFICATE_ITEM)

    arriving = filing_api_headers(client, session, OSAKA)
    reservation = f"/api/municipality/applications/{move.move_in_receipt}/status"
    refused = client.post(
        reservation, headers=arriving, json={"status": "rejected", "comment": "不明"}
    )
    assert refused.status_code == 409
    assert refused.json()["error"] == "reservation_not_rejectable"
    done = client.post(reservation, headers=arriving, json={"status": "completed"})
    assert done.status_code == 200, done.text
    session.expire_all()
    (move,) = moves.moves_of_resident(session=session, resident_id=signer.resident_id)
    assert move.status is moves.MoveStatus.COMPLETED
    moved = registry.get_resident(session=session, resident_id=signer.resident_id)
    assert moved.municipality_code == OSAKA


def test_the_filing_api_rejects_a_move_out_with_its_reservation(
    client: TestClient, session: Session, settings: Settings, signer: Signer, today: date
) -> None:
    filed = _file(session, settings, signer, _data(today))
    session.commit()
    url = f"/api/municipality/applications/{filed.receipt_number}/status"
    response = client.post(
        url,
        headers=filing_api_headers(client, session, CHIYODA),
        json={"status": "rejected", "comment": "転出先の住所が確認できません。"},
    )
    assert response.status_code == 200, response.text
    session.expire_all()
    (move,) = moves.moves_of_resident(session=session, resident_id=signer.resident_id)
    assert move.status is moves.MoveStatus.CANCELLED
    reservation = applications.get_application(
        session=session, receipt_number=move.move_in_receipt, municipality_code=OSAKA
    )
    assert reservation.status is ApplicationStatus.REJECTED


def test_a_move_in_completed_early_through_the_api_changes_nothing(
    client: TestClient,
    session: Session,
    settings: Settings,
    signer: Signer,
    hub: network.Hub,
    today: date,
) -> None:
    move = _moved_out(session, settings, signer, hub, _data(today, move_in_after=3))
    session.commit()
    url = f"/api/municipality/applications/{move.move_in_receipt}/status"
    response = client.post(
        url, headers=filing_api_headers(client, session, OSAKA), json={"status": "completed"}
    )
    assert response.status_code == 409
    assert response.json()["error"] == "before_reserved_day"
    session.expire_all()
    reservation = applications.get_application(
        session=session, receipt_number=move.move_in_receipt, municipality_code=OSAKA
    )
    assert reservation.status is ApplicationStatus.RECEIVED
    assert (
        registry.get_resident(session=session, resident_id=signer.resident_id).municipality_code
        == CHIYODA
    )
