"""The agency API: signed notices and audience previews, refused when not signed right."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import jpki, network, notices, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.platform.db import utcnow
from myna.platform.settings import Settings
from tests.integration.notices.conftest import CHIYODA, YOKOHAMA, link_code

PENSION_SERVICE = "jps"

JOSE = {"content-type": "application/jose"}
NOTICE = {"title": "児童手当の現況確認", "body": "ご提出ください。", "category": "child-rearing"}


@pytest.fixture
def api(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def residents(session: Session, settings: Settings) -> dict[str, registry.ResidentRead]:
    registry.ensure_municipalities(session=session)
    found = registry.ensure_personas(session=session)
    jpki.ensure_authorities(session=session, settings=settings)
    session.commit()
    return found


def _signed(session: Session, settings: Settings, payload: dict[str, Any], agency: str) -> str:
    credential = network.credential_for(session=session, settings=settings, code=agency)
    session.commit()
    once = {"request_id": str(uuid.uuid4()), "issued_at": utcnow().isoformat()}
    return network.sign(json.dumps({**once, **payload}).encode(), credential)


def _post(api: TestClient, token: str, path: str = "/api/agency/notices") -> Any:
    return api.post(path, content=token, headers=JOSE)


def test_an_agency_sends_a_signed_notice_to_one_resident(
    api: TestClient, session: Session, settings: Settings, residents: dict[str, Any]
) -> None:
    code = link_code(session, residents["taro"])
    token = _signed(session, settings, {**NOTICE, "audience": {"link_code": code}}, CHIYODA)
    response = _post(api, token)
    assert response.status_code == 201, response.text
    assert response.json()["sender"] == CHIYODA
    assert response.json()["audience"] == "resident"
    items = notices.inbox(session=session, resident_id=residents["taro"].id).items
    assert [i.id for i in items] == [response.json()["id"]]


def test_an_agency_sends_a_segment_notice_with_an_attachment(
    api: TestClient, session: Session, settings: Settings, residents: dict[str, Any]
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 8
    attachment = {
        "name": "a.png",
        "media_type": "image/png",
        "content": base64.b64encode(png).decode(),
    }
    payload = {
        **NOTICE,
        "audience": {"segment": {"municipality_codes": ["131016"], "child_under": 15}},
        "deadline": "2027-06-30",
        "action_url": "/services/child-allowance",
        "attachments": [attachment],
    }
    response = _post(api, _signed(session, settings, payload, CHIYODA))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["segment"] == {"municipality_codes": ["131016"], "child_under": 15}
    assert body["attachments"][0]["size"] == len(png)


def test_the_preview_tells_the_audience_size(
    api: TestClient, session: Session, settings: Settings, residents: dict[str, Any]
) -> None:
    payload = {"segment": {"municipality_codes": ["011002"], "age_from": 75}}
    response = _post(
        api, _signed(session, settings, payload, PENSION_SERVICE), "/api/agency/notices/preview"
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"audience_size": 1}


def test_a_municipality_cannot_address_another_municipalitys_residents(
    api: TestClient, session: Session, settings: Settings, residents: dict[str, Any]
) -> None:
    payload = {**NOTICE, "audience": {"segment": {"municipality_codes": ["141003"]}}}
    response = _post(api, _signed(session, settings, payload, CHIYODA))
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "audience_not_allowed"
    assert "141003" in response.json()["message"]
    assert "自らの住民" in response.json()["message"]
    assert notices.count_notices(session=session) == 0
    assert notices.inbox(session=session, resident_id=residents["misaki"].id).items == []


def test_a_mixed_list_of_municipalities_is_refused_whole(
    api: TestClient, session: Session, settings: Settings, residents: dict[str, Any]
) -> None:
    segment = {"municipality_codes": ["131016", "141003"]}
    response = _post(
        api, _signed(session, settings, {**NOTICE, "audience": {"segment": segment}}, CHIYODA)
    )
    assert response.status_code == 403, response.text
    assert notices.count_notices(session=session) == 0


def test_a_municipality_cannot_count_another_municipalitys_residents(
    api: TestClient, session: Session, settings: Settings, residents: dict[str, Any]
) -> None:
    payload = {"segment": {"municipality_codes": ["011002"], "age_from": 75}}
    response = _post(
        api, _signed(session, settings, payload, CHIYODA), "/api/agency/notices/preview"
    )
    assert response.status_code == 403, response.text
    assert "audience_size" not in response.json()


def test_a_municipality_segment_without_codes_reaches_its_own_residents_only(
    api: TestClient, session: Session, settings: Settings, residents: dict[str, Any]
) -> None:
    payload = {**NOTICE, "audience": {"segment": {"age_from": 1}}}
    response = _post(api, _signed(session, settings, payload, CHIYODA))
    assert response.status_code == 201, response.text
    assert response.json()["segment"] == {"municipality_codes": ["131016"], "age_from": 1}
    sent = response.json()["id"]
    assert sent in [
        i.id for i in notices.inbox(session=session, resident_id=residents["taro"].id).items
    ]
    for other in ("misaki", "ichiro"):
        items = notices.inbox(session=session, resident_id=residents[other].id).items
        assert sent not in [i.id for i in items]


def test_a_national_agency_addresses_residents_anywhere(
    api: TestClient, session: Session, settings: Settings, residents: dict[str, Any]
) -> None:
    segment = {"municipality_codes": ["141003", "011002"]}
    payload = {**NOTICE, "audience": {"segment": segment}}
    response = _post(api, _signed(session, settings, payload, PENSION_SERVICE))
    assert response.status_code == 201, response.text
    for person in ("misaki", "ichiro"):
        items = notices.inbox(session=session, resident_id=residents[person].id).items
        assert response.json()["id"] in [i.id for i in items]


@pytest.mark.parametrize("sender", ["police", "kyokai"])
def test_an_insurer_or_the_police_cannot_send_segment_notices(
    api: TestClient, session: Session, settings: Settings, residents: dict[str, Any], sender: str
) -> None:
    payload = {**NOTICE, "audience": {"segment": {"age_from": 20}}}
    response = _post(api, _signed(session, settings, payload, sender))
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "audience_not_allowed"
    assert "符号" in response.json()["message"]
    assert notices.count_notices(session=session) == 0


def test_an_unsigned_request_is_refused(api: TestClient, residents: dict[str, Any]) -> None:
    response = api.post("/api/agency/notices", json={**NOTICE, "audience": {"link_code": "x"}})
    assert response.status_code == 401
    assert response.json()["error"] == "unsigned_message"
    assert response.json()["message"]


def test_a_request_with_a_wrong_signature_is_refused(
    api: TestClient, session: Session, settings: Settings, residents: dict[str, Any]
) -> None:
    real = network.credential_for(session=session, settings=settings, code=CHIYODA)
    session.commit()
    impostor = network.Credential(
        code=CHIYODA,
        certificate=real.certificate,
        private_key=ec.generate_private_key(ec.SECP256R1()),
    )
    payload = json.dumps({**NOTICE, "audience": {"segment": {"age_from": 1}}}).encode()
    response = _post(api, network.sign(payload, impostor))
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "bad_message_signature"
    assert notices.count_notices(session=session) == 0


def test_an_unknown_link_code_is_refused(
    api: TestClient, session: Session, settings: Settings, residents: dict[str, Any]
) -> None:
    yokohama_code = link_code(session, residents["taro"], YOKOHAMA)
    payload = {**NOTICE, "audience": {"link_code": yokohama_code}}
    response = _post(api, _signed(session, settings, payload, CHIYODA))
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_link_code"


@pytest.mark.parametrize(
    ("segment", "error"),
    [({}, "empty_segment"), ({"income_over": 5}, "unknown_segment_rule")],
)
def test_an_empty_or_unknown_segment_is_refused(
    api: TestClient,
    session: Session,
    settings: Settings,
    residents: dict[str, Any],
    segment: dict[str, Any],
    error: str,
) -> None:
    payload = {**NOTICE, "audience": {"segment": segment}}
    response = _post(api, _signed(session, settings, payload, CHIYODA))
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert "条件" in response.json()["message"]


def test_an_oversized_attachment_is_refused(
    api: TestClient, session: Session, settings: Settings, residents: dict[str, Any]
) -> None:
    payload = {
        **NOTICE,
        "audience": {"segment": {"age_from": 1}},
        "attachments": [{"name": "a.png", "media_type": "text/plain", "content": "aGk="}],
    }
    response = _post(api, _signed(session, settings, payload, CHIYODA))
    assert response.status_code == 415
    assert response.json()["error"] == "attachment_type"


def test_invalid_content_is_refused_with_the_field_named(
    api: TestClient, session: Session, settings: Settings, residents: dict[str, Any]
) -> None:
    payload = {**NOTICE, "category": "lottery", "audience": {"segment": {"age_from": 1}}}
    response = _post(api, _signed(session, settings, payload, CHIYODA))
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_notice"
    assert "category" in response.json()["message"]


def test_a_signed_notice_cannot_be_sent_twice(
    api: TestClient, session: Session, settings: Settings, residents: dict[str, Any]
) -> None:
    code = link_code(session, residents["taro"])
    token = _signed(session, settings, {**NOTICE, "audience": {"link_code": code}}, CHIYODA)
    assert _post(api, token).status_code == 201
    again = _post(api, token)
    assert again.status_code == 409
    assert again.json()["error"] == "replayed_message"
    assert len(notices.inbox(session=session, resident_id=residents["taro"].id).items) == 1


def test_an_old_signed_notice_is_refused(
    api: TestClient, session: Session, settings: Settings, residents: dict[str, Any]
) -> None:
    code = link_code(session, residents["taro"])
    stale = (utcnow() - timedelta(hours=1)).isoformat()
    token = _signed(
        session, settings, {**NOTICE, "audience": {"link_code": code}, "issued_at": stale}, CHIYODA
    )
    response = _post(api, token)
    assert response.status_code == 400
    assert response.json()["error"] == "stale_message"


@pytest.mark.parametrize(
    "changes",
    [
        {"deadline": "1500-01-01"},
        {"deadline": "9999-12-31"},
        {"publish_at": "0001-01-01T00:00:00+09:00"},
        {"expires_at": "9999-12-31T23:59:59-14:00"},
    ],
)
def test_a_date_beyond_any_calendar_the_platform_keeps_is_refused(
    api: TestClient,
    session: Session,
    settings: Settings,
    residents: dict[str, Any],
    changes: dict[str, str],
) -> None:
    code = link_code(session, residents["taro"])
    payload = {**NOTICE, **changes, "audience": {"link_code": code}}
    response = _post(api, _signed(session, settings, payload, CHIYODA))
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_notice"
    assert next(iter(changes)) in response.json()["message"]
    assert notices.count_notices(session=session) == 0
