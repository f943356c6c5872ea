"""The platform administrator's review of organisations in the browser (/office/partners)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from structlog.testing import capture_logs

from myna import registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.office import service as office
from myna.partners import organizations
from myna.partners.domain import OrganizationStatus, RegisteredClient
from myna.platform.settings import Settings
from tests.integration.partners.test_organizations import _register

PASSWORD = "correct-horse-2026"


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def pending(session: Session) -> RegisteredClient:
    created = _register(session)
    session.commit()
    return created


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _log_in(
    client: TestClient, session: Session, settings: Settings, role: office.StaffRole
) -> None:
    registry.ensure_municipalities(session=session)
    login = f"user-{role.value}"
    office.create_staff(
        session=session,
        settings=settings,
        municipality_code="131016",
        login_id=login,
        display_name="審査 担当",
        role=role,
        password=PASSWORD,
    )
    session.commit()
    page = client.get("/office/login")
    client.post(
        "/office/login",
        data={"csrf_token": _csrf(page.text), "login_id": login, "password": PASSWORD},
    )
    page = client.get("/office/login/code")
    code = office.current_code(session=session, settings=settings, login_id=login)
    client.post("/office/login/code", data={"csrf_token": _csrf(page.text), "code": code})


@pytest.fixture
def admin(client: TestClient, session: Session, settings: Settings) -> TestClient:
    _log_in(client, session, settings, office.StaffRole.PLATFORM_ADMIN)
    return client


def _status(session: Session, client_id: str) -> OrganizationStatus:
    session.expire_all()
    return organizations.get_client(session=session, client_id=client_id).status


@pytest.mark.parametrize(
    "role", [office.StaffRole.CLERK, office.StaffRole.SUPERVISOR, office.StaffRole.ADMIN]
)
def test_only_a_platform_administrator_may_see_the_review(
    client: TestClient,
    session: Session,
    settings: Settings,
    pending: RegisteredClient,
    role: office.StaffRole,
) -> None:
    _log_in(client, session, settings, role)
    assert client.get("/office/partners").status_code == 403
    assert client.get(f"/office/partners/{pending.client_id}").status_code == 403
    dashboard = client.get("/office").text
    assert "/office/partners" not in dashboard
    refused = client.post(
        f"/office/partners/{pending.client_id}/review",
        data={"csrf_token": _csrf(dashboard), "decision": "approve", "confirm": "yes"},
    )
    assert refused.status_code == 403
    assert _status(session, pending.client_id) is OrganizationStatus.PENDING


def test_without_a_login_the_review_sends_to_the_login(
    client: TestClient, pending: RegisteredClient
) -> None:
    response = client.get("/office/partners", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/office/login"


def test_an_administrator_approves_some_scopes_with_confirmation_and_an_audit_line(
    admin: TestClient, session: Session, pending: RegisteredClient
) -> None:
    listing = admin.get("/office/partners")
    assert listing.status_code == 200
    assert "みらい銀行" in listing.text
    assert "審査待ち" in listing.text
    assert "/office/partners" in admin.get("/office").text
    page = admin.get(f"/office/partners/{pending.client_id}").text
    assert "ローン審査の所得確認のため" in page
    form = {
        "csrf_token": _csrf(page),
        "decision": "approve",
        "scope": ["openid", "name"],
        "note": "",
    }
    # Without the confirmation nothing changes, and the page says why.
    unconfirmed = admin.post(f"/office/partners/{pending.client_id}/review", data=form)
    assert unconfirmed.status_code == 422
    assert 'role="alert"' in unconfirmed.text
    assert _status(session, pending.client_id) is OrganizationStatus.PENDING
    # A forged form is refused before anything.
    forged = admin.post(
        f"/office/partners/{pending.client_id}/review",
        data={**form, "csrf_token": "forged", "confirm": "yes"},
    )
    assert forged.status_code == 403
    assert _status(session, pending.client_id) is OrganizationStatus.PENDING
    with capture_logs() as logs:
        done = admin.post(
            f"/office/partners/{pending.client_id}/review",
            data={**form, "confirm": "yes"},
            follow_redirects=False,
        )
    assert done.status_code == 303
    assert _status(session, pending.client_id) is OrganizationStatus.APPROVED
    approved = organizations.get_client(session=session, client_id=pending.client_id)
    assert approved.approved_scopes == ("openid", "name")
    audit = [entry for entry in logs if entry["event"] == "partner_decision"]
    assert audit
    assert audit[0]["action"] == "approved"
    assert audit[0]["client_id"] == pending.client_id
    assert isinstance(audit[0]["staff_id"], int)
    shown = admin.get(done.headers["location"])
    assert 'role="status"' in shown.text


def test_an_administrator_suspends_and_resumes_and_a_rejection_needs_a_note(
    admin: TestClient, session: Session, pending: RegisteredClient
) -> None:
    page = admin.get(f"/office/partners/{pending.client_id}").text
    token = _csrf(page)
    no_note = admin.post(
        f"/office/partners/{pending.client_id}/review",
        data={"csrf_token": token, "decision": "reject", "confirm": "yes"},
    )
    assert no_note.status_code == 400
    assert _status(session, pending.client_id) is OrganizationStatus.PENDING
    admin.post(
        f"/office/partners/{pending.client_id}/review",
        data={"csrf_token": token, "decision": "approve", "scope": ["openid"], "confirm": "yes"},
    )
    assert _status(session, pending.client_id) is OrganizationStatus.APPROVED
    admin.post(
        f"/office/partners/{pending.client_id}/suspend",
        data={"csrf_token": token, "note": "不正利用の疑い", "confirm": "yes"},
    )
    assert _status(session, pending.client_id) is OrganizationStatus.SUSPENDED
    # Approving again is refused by the state, with the page shown again.
    again = admin.post(
        f"/office/partners/{pending.client_id}/review",
        data={"csrf_token": token, "decision": "approve", "scope": ["openid"], "confirm": "yes"},
    )
    assert again.status_code == 409
    admin.post(
        f"/office/partners/{pending.client_id}/resume",
        data={"csrf_token": token, "note": "", "confirm": "yes"},
    )
    assert _status(session, pending.client_id) is OrganizationStatus.APPROVED


def test_an_unknown_organisation_is_not_found(admin: TestClient) -> None:
    assert admin.get("/office/partners/org-nothing").status_code == 404
