"""Finding applications in the back office, and who filed them: search, dates, CSV, identity."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import network, registry
from myna.app import create_app
from myna.applications.service import ApplicationRead
from myna.bootstrap import Container
from myna.network.transparency.models import LogEntryRow
from myna.office import applicants
from myna.office import service as office
from myna.platform.settings import Settings
from tests.integration.applications.filing import file_application, signer_for
from tests.integration.applications.test_office_applications import CHIYODA, _log_in

YOKOHAMA = "141003"


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def seeded(session: Session) -> None:
    """The personas' records in the agencies' stores, J-LIS's 本人確認情報 among them."""
    registry.ensure_municipalities(session=session)
    registry.ensure_personas(session=session)
    network.seed_agency_data(session=session, seed=1)
    session.commit()


@pytest.fixture
def taro_filed(session: Session, settings: Settings, seeded: None) -> ApplicationRead:
    application = file_application(session, settings, signer_for(session, settings, "taro"))
    session.commit()
    return application


@pytest.fixture
def misaki_filed(session: Session, settings: Settings, seeded: None) -> ApplicationRead:
    """An application filed with another municipality (横浜市)."""
    application = file_application(session, settings, signer_for(session, settings, "misaki"))
    session.commit()
    return application


@pytest.fixture
def clerk(client: TestClient, session: Session, settings: Settings, seeded: None) -> TestClient:
    _log_in(client, session, settings, login="yamamoto", role=office.StaffRole.CLERK)
    return client


def _listed(client: TestClient, **params: str) -> str:
    response = client.get("/office/applications", params=params)
    assert response.status_code == 200, response.text
    text: str = response.text
    return text


def _exchanges(session: Session, resident_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(LogEntryRow)
            .where(LogEntryRow.subject == str(resident_id))
        )
        or 0
    )


def test_the_application_page_shows_the_applicant_from_jlis_through_the_hub(
    clerk: TestClient, session: Session, taro_filed: ApplicationRead
) -> None:
    before = _exchanges(session, taro_filed.resident_id)
    page = clerk.get(f"/office/applications/{taro_filed.receipt_number}").text
    taro = registry.get_resident(session=session, resident_id=taro_filed.resident_id)
    assert taro.full_name in page
    assert taro.full_name_kana in page
    assert taro.birth_date.isoformat() not in page
    assert "昭和" in page or "平成" in page  # the date of birth in 和暦
    assert "千代田区" in page
    assert "地方公共団体情報システム機構" in page or "J-LIS" in page
    # Asked once through the hub, so it is in the applicant's やりとり履歴; kept after that.
    session.expire_all()
    assert _exchanges(session, taro_filed.resident_id) == before + 1
    clerk.get(f"/office/applications/{taro_filed.receipt_number}")
    session.expire_all()
    assert _exchanges(session, taro_filed.resident_id) == before + 1


def test_staff_find_applications_by_name_in_kanji_or_kana_partly(
    clerk: TestClient, session: Session, taro_filed: ApplicationRead
) -> None:
    link = f"/office/applications/{taro_filed.receipt_number}"
    # The certificate's name is searchable from the start.
    assert link in _listed(clerk, q="山田")
    assert link in _listed(clerk, q="太郎")
    assert link not in _listed(clerk, q="佐藤")
    # The kana once the identity came from J-LIS: katakana, hiragana, half-width alike.
    clerk.get(link)
    assert link in _listed(clerk, q="ヤマダ")
    assert link in _listed(clerk, q="たろう")
    assert link in _listed(clerk, q="ﾀﾛｳ")
    assert link not in _listed(clerk, q="スズキ")
    # SQL wildcards are searched for as characters.
    assert link not in _listed(clerk, q="%")


def test_staff_find_applications_by_receipt_number_procedure_and_filing_date(
    clerk: TestClient, taro_filed: ApplicationRead
) -> None:
    link = f"/office/applications/{taro_filed.receipt_number}"
    receipt = taro_filed.receipt_number
    assert link in _listed(clerk, receipt=receipt)
    assert link in _listed(clerk, receipt=receipt[:7].lower())
    assert link in _listed(clerk, receipt=receipt.replace("-", ""))
    assert link not in _listed(clerk, receipt="ZZZZ-ZZZZ")
    assert link in _listed(clerk, procedure=taro_filed.procedure_code)
    assert link not in _listed(clerk, procedure="childcare-application")
    filed = taro_filed.submitted_at.astimezone(applicants.JST).date()
    assert link in _listed(clerk, **{"from": filed.isoformat(), "to": filed.isoformat()})
    assert link not in _listed(clerk, **{"from": filed.replace(year=filed.year + 1).isoformat()})
    assert link not in _listed(clerk, to=filed.replace(year=filed.year - 1).isoformat())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-13-45"}, "2026-11-28"),
        ({"to": "yesterday"}, "2026-11-28"),
        ({"from": "1899-12-31"}, "1900-01-01"),
        ({"to": "9999-12-31"}, "2100-12-31"),
        ({"from": "2026-12-01", "to": "2026-11-01"}, "後"),
    ],
)
def test_a_bad_filing_date_is_explained_never_a_server_error(
    clerk: TestClient, params: dict[str, str], message: str
) -> None:
    response = clerk.get("/office/applications", params=params)
    assert response.status_code == 422
    assert message in response.text
    assert 'role="alert"' in response.text
    csv_response = clerk.get("/office/applications.csv", params=params)
    assert csv_response.status_code == 422


def test_the_list_downloads_as_csv_for_excel_with_the_same_filter(
    clerk: TestClient, session: Session, settings: Settings, taro_filed: ApplicationRead
) -> None:
    other = file_application(
        session, settings, signer_for(session, settings, "hanako"), submission_key="second"
    )
    session.commit()
    clerk.get(f"/office/applications/{taro_filed.receipt_number}")
    response = clerk.get("/office/applications.csv", params={"q": "太郎"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "受付番号"
    receipts = [row[0] for row in rows[1:]]
    assert receipts == [taro_filed.receipt_number]
    assert other.receipt_number not in receipts
    assert rows[1][3]  # the kana, received from J-LIS
    everything = clerk.get("/office/applications.csv").content.decode("utf-8-sig")
    assert other.receipt_number in everything


def test_a_clerk_never_sees_another_municipalitys_applications(
    clerk: TestClient, session: Session, taro_filed: ApplicationRead, misaki_filed: ApplicationRead
) -> None:
    assert misaki_filed.municipality_code == YOKOHAMA
    assert taro_filed.municipality_code == CHIYODA
    foreign = misaki_filed.receipt_number
    misaki = registry.get_resident(session=session, resident_id=misaki_filed.resident_id)
    for params in ({}, {"receipt": foreign}, {"q": misaki.family_name}, {"q": "田"}):
        page = _listed(clerk, **params)
        assert f"/office/applications/{foreign}" not in page
        assert misaki.full_name not in page
    exported = clerk.get("/office/applications.csv", params={"receipt": foreign})
    assert foreign not in exported.content.decode("utf-8-sig")
    everything = clerk.get("/office/applications.csv").content.decode("utf-8-sig")
    assert foreign not in everything
    assert taro_filed.receipt_number in everything
    assert clerk.get(f"/office/applications/{foreign}").status_code == 404
    # Not asked about at J-LIS either: the page is refused before any exchange.
    session.expire_all()
    assert _exchanges(session, misaki_filed.resident_id) == 0


def test_a_formula_in_a_cell_is_not_run_by_a_spreadsheet() -> None:
    assert applicants._cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert applicants._cell("山田") == "山田"


def test_the_search_needs_a_staff_login(client: TestClient) -> None:
    response = client.get("/office/applications.csv", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/office/login"
