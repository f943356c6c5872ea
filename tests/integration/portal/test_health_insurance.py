"""マイナ保険証 in the portal: registering the card, the health data as FHIR, privacy."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy.orm import Session

from myna import network
from myna.medical import service as medical
from myna.platform.settings import Settings
from myna.reader import client as login_client
from tests.integration.portal.conftest import PIN, IssuedCard, issue

PORTAL = "http://testserver"


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


def test_a_resident_registers_the_card_as_insurance_card_through_the_hub(
    taro: TestClient, taro_card: IssuedCard, session: Session
) -> None:
    page = taro.get("/my-info/health-insurance")
    assert page.status_code == 200
    assert "資格確認書" in page.text
    done = taro.post(
        "/my-info/health-insurance", data={"csrf_token": _csrf(page.text)}, follow_redirects=True
    )
    assert done.status_code == 200
    assert "登録しました" in done.text
    assert "健康保険証として登録済み" in done.text
    found = medical.enrolment(session=session, resident_id=taro_card.resident_id)
    assert found is not None
    assert found.insured_branch == "00"
    logged = network.transparency.entries_for_subject(
        session=session, subject=str(taro_card.resident_id), page_size=100
    )
    assert any(e.requester == medical.OQS and "利用登録" in (e.purpose or "") for e in logged.items)
    history = taro.get("/exchanges")
    assert history.status_code == 200
    assert "マイナ保険証の利用登録" in history.text
    again = taro.post("/my-info/health-insurance", data={"csrf_token": _csrf(page.text)})
    assert again.status_code == 409
    assert "登録済み" in again.text


def test_registration_needs_the_csrf_token(
    taro: TestClient, session: Session, taro_card: IssuedCard
) -> None:
    response = taro.post("/my-info/health-insurance", data={"csrf_token": "wrong"})
    assert response.status_code in (400, 403)
    assert medical.enrolment(session=session, resident_id=taro_card.resident_id) is None


def test_registration_needs_a_login(portal: TestClient) -> None:
    response = portal.get("/my-info/health-insurance", follow_redirects=False)
    assert response.status_code == 303
    assert portal.get("/my-info/health.fhir.json", follow_redirects=False).status_code == 303


def test_the_resident_downloads_their_health_data_as_a_valid_fhir_bundle(
    taro: TestClient, taro_card: IssuedCard, session: Session
) -> None:
    response = taro.get("/my-info/health.fhir.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert "attachment" in response.headers["content-disposition"]
    document = response.json()
    Bundle.model_validate(document)
    patients = [
        e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    assert len(patients) == 1
    assert patients[0]["birthDate"] == "1985-04-12"
    kinds = {e["resource"]["resourceType"] for e in document["entry"]}
    assert {"Coverage", "MedicationDispense", "ExplanationOfBenefit"} <= kinds


def test_another_residents_health_data_never_shows(
    taro: TestClient, session: Session, settings: Settings, taro_card: IssuedCard
) -> None:
    hanako = issue(session, settings, taro_card.reader, "hanako")
    document = taro.get("/my-info/health.fhir.json").json()
    names = {
        name["text"]
        for e in document["entry"]
        if e["resource"]["resourceType"] == "Patient"
        for name in e["resource"]["name"]
    }
    assert names
    assert not any("花子" in n for n in names)
    del hanako
