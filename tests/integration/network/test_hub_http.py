"""The hub's HTTP endpoint: a signed request in, hub-signed results out."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import network
from myna.app import create_app
from myna.bootstrap import Container
from myna.network.domain import ExchangeRequest, new_request_id
from myna.network.messages import sign
from myna.platform.db import utcnow
from myna.platform.settings import Settings
from tests.integration.network.conftest import World


@pytest.fixture
def hub_http(container: Container, world: World) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="http://testserver") as client:
        yield client


def _signed_request(session: Session, settings: Settings, world: World, items: list[str]) -> str:
    requester = "muni-141003"
    credential = network.credential_for(session=session, settings=settings, code=requester)
    request = ExchangeRequest(
        request_id=new_request_id(),
        requester=requester,
        procedure="child-allowance",
        subject=network.link_code_for_resident(
            session=session, resident_id=world.residents["taro"].id, agency_code=requester
        ),
        items=tuple(items),
        issued_at=utcnow(),
    )
    token = sign(request.to_json(), credential)
    session.commit()
    return token


def test_an_agency_gets_hub_signed_results_over_http(
    hub_http: TestClient, session: Session, settings: Settings, world: World
) -> None:
    token = _signed_request(session, settings, world, ["resident-tax", "disability-mental"])
    response = hub_http.post(
        "/network/exchange", content=token, headers={"content-type": "application/jose"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jose")
    opened = network.open_signed(
        response.text, session=session, settings=settings, expected_sender=network.HUB
    )
    results = {r["item"]: r for r in json.loads(opened.payload)["results"]}
    assert results["resident-tax"]["outcome"] == "success"
    assert results["resident-tax"]["records"]
    # Not in the table for this procedure: refused, and nothing about it was sent.
    assert results["disability-mental"]["outcome"] == "denied"
    assert results["disability-mental"]["records"] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "unsigned_message"),
        (b"hello", "unsigned_message"),
        (b"a.b.c", "malformed_message"),
        (b"\xff\xfe", "unsigned_message"),
    ],
)
def test_garbage_requests_get_a_clear_error(hub_http: TestClient, body: bytes, code: str) -> None:
    response = hub_http.post(
        "/network/exchange", content=body, headers={"content-type": "application/jose"}
    )
    assert 400 <= response.status_code < 500
    assert response.json()["error"] == code
    assert response.json()["message"]
