"""The hub counts what it logs for the operators' metrics: procedure and outcome only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session

from myna import network
from myna.app import create_app
from myna.bootstrap import Container
from myna.network.domain import ExchangeRequest, new_request_id
from myna.network.messages import sign
from myna.platform.db import utcnow
from myna.platform.settings import Settings
from tests.integration.network.conftest import World
from tests.integration.platform.test_operations import TOKEN, sample


def _request(
    session: Session, settings: Settings, world: World, procedure: str, items: list[str]
) -> str:
    requester = "muni-141003"
    credential = network.credential_for(session=session, settings=settings, code=requester)
    request = ExchangeRequest(
        request_id=new_request_id(),
        requester=requester,
        procedure=procedure,
        subject=network.link_code_for_resident(
            session=session, resident_id=world.residents["taro"].id, agency_code=requester
        ),
        items=tuple(items),
        issued_at=utcnow(),
    )
    token = sign(request.to_json(), credential)
    session.commit()
    return token


def test_exchanged_items_are_counted_by_procedure_and_outcome(
    container: Container, session: Session, settings: Settings, world: World
) -> None:
    container.settings = settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    app = create_app(container)
    jose = {"content-type": "application/jose"}
    with TestClient(app, base_url="http://testserver") as client:
        allowed = _request(
            session, settings, world, "child-allowance", ["resident-tax", "disability-mental"]
        )
        assert client.post("/network/exchange", content=allowed, headers=jose).status_code == 200
        # A procedure the catalog does not list is counted as "other", never by its name.
        invented = _request(session, settings, world, "made-up-procedure-42", ["resident-tax"])
        assert client.post("/network/exchange", content=invented, headers=jose).status_code == 200
        text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    counted = "myna_exchange_items_total"
    assert sample(text, counted, procedure="child-allowance", outcome="success") == 1
    assert sample(text, counted, procedure="child-allowance", outcome="denied") == 1
    assert sample(text, counted, procedure="other", outcome="denied") == 1
    assert "made-up-procedure-42" not in text
    # Items and link codes are not labels: the metrics name no one and nothing asked for.
    assert "resident-tax" not in text
    assert "muni-141003" not in text
