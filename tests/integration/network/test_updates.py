"""Writes through the hub (副本の更新): the update table, the owner's receipt, the log."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import agencies, network
from myna.network import transparency
from myna.network.domain import (
    MalformedMessageError,
    ProviderUpdate,
    RecordUpdate,
    UpdateReceipt,
    UpdateRequest,
    new_request_id,
)
from myna.network.messages import Credential, sign
from myna.network.node import MEDIA_TYPE, UPDATE_PATH
from myna.platform.db import utcnow
from myna.platform.settings import Settings
from tests.integration.network.conftest import World
from tests.integration.network.test_node import CHIYODA, keys, node_client

__all__ = ["keys", "node_client"]  # the node's fixtures, shared

HOUSEHOLD = {
    "is_head": True,
    "relation_to_head": "世帯主",
    "member_count": 1,
    "member_relations": ["世帯主"],
}


def _update(
    session: Session,
    settings: Settings,
    world: World,
    *,
    publisher: str = CHIYODA,
    owner: str = CHIYODA,
    procedure: str = "resident-move-in",
    item: str = "household",
    payload: dict[str, object] | None = None,
    issued_at_shift: timedelta = timedelta(0),
) -> tuple[Credential, UpdateRequest]:
    credential = network.credential_for(session=session, settings=settings, code=publisher)
    request = UpdateRequest(
        request_id=new_request_id(),
        publisher=publisher,
        owner=owner,
        procedure=procedure,
        subject=network.link_code_for_resident(
            session=session, resident_id=world.residents["taro"].id, agency_code=publisher
        ),
        records=(
            RecordUpdate(
                item=item,
                payload=HOUSEHOLD if payload is None else payload,
                source="住民基本台帳",
                valid_from=date(2026, 12, 1),
            ),
        ),
        issued_at=utcnow() + issued_at_shift,
    )
    return credential, request


def _stored(session: Session, world: World, agency: str, item: str) -> list[dict[str, object]]:
    link_code = network.link_code_for_resident(
        session=session, resident_id=world.residents["taro"].id, agency_code=agency
    )
    records = agencies.answer_query(
        session=session, agency_code=agency, link_code=link_code, items=[item]
    )
    return [dict(r.payload) for r in records]


def _logged(session: Session, world: World) -> list[transparency.LogEntry]:
    subject = str(world.residents["taro"].id)
    return transparency.entries_for_subject(session=session, subject=subject).items


def test_an_agency_writes_its_own_store_through_the_hub_and_it_is_logged(
    session: Session, settings: Settings, world: World
) -> None:
    credential, request = _update(session, settings, world)
    outcome = world.hub.update(session=session, token=sign(request.to_json(), credential))
    assert [(r.item, r.provider, r.outcome) for r in outcome.results] == [
        ("household", CHIYODA, network.Outcome.SUCCESS)
    ]
    assert _stored(session, world, CHIYODA, "household")[0]["member_count"] == 1
    [entry] = _logged(session, world)
    assert (entry.requester, entry.provider, entry.procedure, entry.item) == (
        CHIYODA,
        CHIYODA,
        "resident-move-in",
        "household",
    )


@pytest.mark.parametrize(
    ("publisher", "owner", "procedure", "item"),
    [
        # A municipality's records are written by that municipality only.
        ("muni-141003", CHIYODA, "resident-move-in", "household"),
        # Not in the update table under this procedure.
        (CHIYODA, CHIYODA, "child-allowance", "household"),
        # The owner does not keep the item.
        ("police", "digital", "driver-license", "license-address"),
        # The portal may register an account, not a license.
        ("portal", "police", "public-fund-account-registration", "license-address"),
    ],
)
def test_an_update_outside_the_update_table_is_refused_before_anything_is_sent(
    session: Session,
    settings: Settings,
    world: World,
    publisher: str,
    owner: str,
    procedure: str,
    item: str,
) -> None:
    credential, request = _update(
        session, settings, world, publisher=publisher, owner=owner, procedure=procedure, item=item
    )
    with pytest.raises(network.UpdateNotAllowedError):
        world.hub.update(session=session, token=sign(request.to_json(), credential))
    assert world.transport.calls == []
    assert _logged(session, world) == []


def test_a_replayed_or_stale_update_is_refused(
    session: Session, settings: Settings, world: World
) -> None:
    credential, request = _update(session, settings, world)
    token = sign(request.to_json(), credential)
    world.hub.update(session=session, token=token)
    with pytest.raises(network.ReplayedMessageError):
        world.hub.update(session=session, token=token)
    credential, stale = _update(session, settings, world, issued_at_shift=timedelta(minutes=10))
    with pytest.raises(network.StaleMessageError):
        world.hub.update(session=session, token=sign(stale.to_json(), credential))
    assert world.transport.calls == [CHIYODA]


def test_an_update_signed_by_another_agency_than_its_publisher_is_refused(
    session: Session, settings: Settings, world: World
) -> None:
    _, request = _update(session, settings, world)
    police = network.credential_for(session=session, settings=settings, code="police")
    with pytest.raises(network.SenderMismatchError):
        world.hub.update(session=session, token=sign(request.to_json(), police))
    assert world.transport.calls == []


def test_a_payload_outside_the_item_schema_writes_nothing_and_fails_the_update(
    session: Session, settings: Settings, world: World
) -> None:
    before = _stored(session, world, CHIYODA, "household")
    credential, request = _update(session, settings, world, payload={"member_count": "many"})
    with pytest.raises(network.UpdateFailedError):
        world.hub.update(session=session, token=sign(request.to_json(), credential))
    assert _stored(session, world, CHIYODA, "household") == before


def test_an_owner_that_cannot_be_reached_fails_the_update(
    session: Session, settings: Settings, world: World
) -> None:
    world.transport.failing[CHIYODA] = ConnectionError(CHIYODA)
    credential, request = _update(session, settings, world)
    with pytest.raises(network.UpdateFailedError):
        world.hub.update(session=session, token=sign(request.to_json(), credential))
    [entry] = _logged(session, world)
    assert (entry.outcome, entry.detail) == ("failed", "unreachable")


def test_a_receipt_for_another_update_is_no_receipt(
    session: Session, settings: Settings, world: World
) -> None:
    world.transport.garbage.add(CHIYODA)
    credential, request = _update(session, settings, world)
    with pytest.raises(network.UpdateFailedError):
        world.hub.update(session=session, token=sign(request.to_json(), credential))


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b'{"request_id": "x", "publisher": "a", "owner": "b", "procedure": "p", '
        b'"subject": "s", "records": [], "issued_at": "2026-12-01T00:00:00+00:00"}',
        b'{"request_id": "x", "publisher": "a", "owner": "b", "procedure": "p", '
        b'"subject": "s", "records": [{"item": "i", "payload": [], "source": "s", '
        b'"valid_from": "2026-12-01"}], "issued_at": "2026-12-01T00:00:00+00:00"}',
        b'{"request_id": "x", "publisher": "a", "owner": "b", "procedure": "p", '
        b'"subject": "s", "records": [{"item": "i", "payload": {}, "source": "s", '
        b'"valid_from": "99999-12-01"}], "issued_at": "2026-12-01T00:00:00+00:00"}',
    ],
)
def test_a_malformed_update_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedMessageError):
        UpdateRequest.from_json(body)


# -- on an agency node ------------------------------------------------------------------


def _provider_update(link_code: str, owner: str = CHIYODA) -> bytes:
    return ProviderUpdate(
        request_id=new_request_id(),
        publisher=CHIYODA,
        owner=owner,
        procedure="resident-move-in",
        link_code=link_code,
        records=(
            RecordUpdate(
                item="household",
                payload=HOUSEHOLD,
                source="住民基本台帳",
                valid_from=date(2026, 12, 1),
            ),
        ),
        issued_at=utcnow(),
    ).to_json()


def test_the_node_writes_a_signed_update_and_signs_its_receipt(
    session: Session,
    settings: Settings,
    world: World,
    node_client: tuple[TestClient, Credential],
) -> None:
    client, hub = node_client
    link_code = network.link_code_for_resident(
        session=session, resident_id=world.residents["taro"].id, agency_code=CHIYODA
    )
    token = sign(_provider_update(link_code), hub)
    response = client.post(UPDATE_PATH, content=token, headers={"content-type": MEDIA_TYPE})
    assert response.status_code == 200, response.text
    opened = network.open_signed(
        response.text, session=session, settings=settings, expected_sender=CHIYODA
    )
    assert UpdateReceipt.from_json(opened.payload).items == ("household",)
    session.expire_all()
    assert _stored(session, world, CHIYODA, "household")[0]["member_relations"] == ["世帯主"]
    again = client.post(UPDATE_PATH, content=token, headers={"content-type": MEDIA_TYPE})
    assert (again.status_code, again.json()["error"]) == (409, "replayed_message")


def test_the_node_refuses_an_update_for_another_agency_or_not_from_the_hub(
    session: Session, settings: Settings, node_client: tuple[TestClient, Credential]
) -> None:
    client, hub = node_client
    other = client.post(
        UPDATE_PATH,
        content=sign(_provider_update("LINK", owner="police"), hub),
        headers={"content-type": MEDIA_TYPE},
    )
    assert (other.status_code, other.json()["error"]) == (421, "wrong_provider")
    agency = network.credential_for(session=session, settings=settings, code="police")
    forged = client.post(
        UPDATE_PATH,
        content=sign(_provider_update("LINK"), agency),
        headers={"content-type": MEDIA_TYPE},
    )
    assert (forged.status_code, forged.json()["error"]) == (403, "sender_mismatch")
