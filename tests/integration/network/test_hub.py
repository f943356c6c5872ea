"""The hub: signed requests, the authorization table, routing by link code, the log."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import inspect, select, text, update
from sqlalchemy.orm import Session

from myna import jpki, network, registry
from myna.network import transparency
from myna.network.domain import ExchangeRequest, new_request_id
from myna.network.messages import Credential, sign
from myna.network.models import SeenRequest
from myna.platform.db import utcnow
from myna.platform.settings import Settings
from tests.integration.network.conftest import World

YOKOHAMA = "muni-141003"


def _request(
    session: Session,
    settings: Settings,
    world: World,
    *,
    requester: str = YOKOHAMA,
    procedure: str = "child-allowance",
    items: tuple[str, ...] = ("resident-tax",),
    about: str = "taro",
    issued_at_shift: timedelta = timedelta(0),
) -> tuple[Credential, ExchangeRequest]:
    credential = network.credential_for(session=session, settings=settings, code=requester)
    subject = network.link_code_for_resident(
        session=session, resident_id=world.residents[about].id, agency_code=requester
    )
    request = ExchangeRequest(
        request_id=new_request_id(),
        requester=requester,
        procedure=procedure,
        subject=subject,
        items=items,
        issued_at=utcnow() + issued_at_shift,
    )
    return credential, request


def _entries(session: Session, world: World, who: str = "taro") -> list[transparency.LogEntry]:
    page = transparency.entries_for_subject(
        session=session, subject=str(world.residents[who].id), page_size=200
    )
    return page.items


def test_a_resident_gets_their_own_information_through_the_hub(
    session: Session, world: World
) -> None:
    outcome = network.request_self_information(
        session=session,
        hub=world.hub,
        resident_id=world.residents["taro"].id,
        items=["resident-tax", "household", "health-insurance"],
    )
    by_item = {r.item: r for r in outcome.results}
    assert by_item["resident-tax"].outcome is network.Outcome.SUCCESS
    assert by_item["resident-tax"].provider == "muni-131016"
    assert by_item["resident-tax"].records
    assert by_item["health-insurance"].records
    assert outcome.unavailable_items() == []


def test_every_exchange_is_logged_with_its_real_outcome(session: Session, world: World) -> None:
    outcome = network.request_self_information(
        session=session,
        hub=world.hub,
        resident_id=world.residents["taro"].id,
        items=["resident-tax", "household"],
    )
    entries = _entries(session, world)
    assert len(entries) == len(outcome.results)
    assert {(e.item, e.provider, e.outcome) for e in entries} == {
        (r.item, r.provider, r.outcome) for r in outcome.results
    }
    assert all(e.requester == network.PORTAL for e in entries)
    assert all(e.procedure == network.SELF_DISCLOSURE for e in entries)


def test_an_item_the_provider_does_not_hold_is_logged_as_no_record(
    session: Session, world: World
) -> None:
    # Taro receives neither public assistance nor holds a mental-health certificate.
    outcome = network.request_self_information(
        session=session,
        hub=world.hub,
        resident_id=world.residents["taro"].id,
        items=["public-assistance", "disability-mental", "resident-tax"],
    )
    by_item = {r.item: r for r in outcome.results}
    assert by_item["public-assistance"].outcome is network.Outcome.NO_RECORD
    assert by_item["public-assistance"].records == ()
    assert by_item["disability-mental"].outcome is network.Outcome.NO_RECORD
    assert by_item["resident-tax"].outcome is network.Outcome.SUCCESS
    assert outcome.unavailable_items() == []  # answered: nothing to retry
    logged = {e.item: e.outcome for e in _entries(session, world)}
    assert logged["public-assistance"] is transparency.Outcome.NO_RECORD
    assert logged["resident-tax"] is transparency.Outcome.SUCCESS


def test_the_history_groups_each_request_with_its_items(session: Session, world: World) -> None:
    taro = world.residents["taro"].id
    for items in (["resident-tax", "household"], ["public-assistance"]):
        network.request_self_information(
            session=session, hub=world.hub, resident_id=taro, items=items
        )
    page = transparency.exchanges_for_subject(session=session, subject=str(taro))
    assert page.total == 2
    newest, oldest = page.items
    assert [e.item for e in newest.entries] == ["public-assistance"]
    assert {e.item for e in oldest.entries} == {"resident-tax", "household"}
    assert all(e.time == oldest.time for e in oldest.entries)
    assert newest.time > oldest.time
    # Filtered by item, an exchange lists its matching items only; paging counts exchanges.
    tax = transparency.exchanges_for_subject(session=session, subject=str(taro), item="household")
    assert tax.total == 1
    assert {e.item for e in tax.items[0].entries} == {"household"}
    second = transparency.exchanges_for_subject(
        session=session, subject=str(taro), page=2, page_size=1
    )
    assert [e.time for e in second.items] == [oldest.time]
    # Another resident's history holds none of it.
    hanako = transparency.exchanges_for_subject(
        session=session, subject=str(world.residents["hanako"].id)
    )
    assert all(e.subject != str(taro) for x in hanako.items for e in x.entries)


def test_an_authorized_agency_request_reaches_the_provider(
    session: Session, settings: Settings, world: World
) -> None:
    credential, request = _request(session, settings, world)
    outcome = world.hub.exchange(session=session, token=sign(request.to_json(), credential))
    assert [(r.provider, r.outcome) for r in outcome.results] == [
        ("muni-131016", network.Outcome.SUCCESS)
    ]
    assert world.transport.calls == ["muni-131016"]


def test_an_unauthorized_item_is_denied_logged_and_never_sent(
    session: Session, settings: Settings, world: World
) -> None:
    credential, request = _request(
        session,
        settings,
        world,
        requester="police",
        procedure="child-allowance",
        items=("resident-tax",),
    )
    outcome = world.hub.exchange(session=session, token=sign(request.to_json(), credential))
    assert [r.outcome for r in outcome.results] == [network.Outcome.DENIED]
    assert world.transport.calls == []
    denied = [e for e in _entries(session, world) if e.requester == "police"]
    assert [(e.item, e.outcome) for e in denied] == [("resident-tax", network.Outcome.DENIED)]


def test_a_provider_that_times_out_is_reported_and_logged_as_a_timeout(
    session: Session, world: World
) -> None:
    world.transport.failing["muni-131016"] = TimeoutError()
    outcome = network.request_self_information(
        session=session,
        hub=world.hub,
        resident_id=world.residents["taro"].id,
        items=["resident-tax", "health-insurance"],
    )
    assert outcome.unavailable_items() == ["resident-tax"]
    entries = {e.item: e.outcome for e in _entries(session, world)}
    assert entries["resident-tax"] == network.Outcome.TIMEOUT
    assert entries["health-insurance"] == network.Outcome.SUCCESS


def test_a_malformed_provider_answer_is_a_failure_not_a_success(
    session: Session, world: World
) -> None:
    world.transport.garbage.add("muni-131016")
    outcome = network.request_self_information(
        session=session,
        hub=world.hub,
        resident_id=world.residents["taro"].id,
        items=["resident-tax"],
    )
    assert [r.outcome for r in outcome.results] == [network.Outcome.FAILED]
    assert [e.outcome for e in _entries(session, world)] == [network.Outcome.FAILED]


def test_an_old_answer_replayed_for_a_new_query_is_a_failure(
    session: Session, world: World
) -> None:
    taro = world.residents["taro"].id
    network.request_self_information(
        session=session, hub=world.hub, resident_id=taro, items=["resident-tax"]
    )
    world.transport.replaying.add("muni-131016")
    outcome = network.request_self_information(
        session=session, hub=world.hub, resident_id=taro, items=["resident-tax"]
    )
    assert [(r.outcome, r.records) for r in outcome.results] == [(network.Outcome.FAILED, ())]


def _revoke(session: Session, settings: Settings, code: str) -> None:
    credential = network.credential_for(session=session, settings=settings, code=code)
    jpki.revoke_organization_certificate(
        session=session,
        serial=credential.certificate.serial_number,
        reason=jpki.RevocationReason.KEY_COMPROMISE,
    )


def test_a_requester_is_refused_from_the_request_after_its_certificate_is_revoked(
    session: Session, settings: Settings, world: World
) -> None:
    credential, request = _request(session, settings, world)
    world.hub.exchange(session=session, token=sign(request.to_json(), credential))
    _revoke(session, settings, YOKOHAMA)
    _, again = _request(session, settings, world)
    with pytest.raises(network.BadMessageSignatureError):
        world.hub.exchange(session=session, token=sign(again.to_json(), credential))


def test_a_providers_answer_after_its_certificate_is_revoked_is_a_failure(
    session: Session, settings: Settings, world: World
) -> None:
    taro = world.residents["taro"].id
    first = network.request_self_information(
        session=session, hub=world.hub, resident_id=taro, items=["resident-tax"]
    )
    assert [r.outcome for r in first.results] == [network.Outcome.SUCCESS]
    _revoke(session, settings, "muni-131016")
    outcome = network.request_self_information(
        session=session, hub=world.hub, resident_id=taro, items=["resident-tax"]
    )
    assert [(r.outcome, r.detail, r.records) for r in outcome.results] == [
        (network.Outcome.FAILED, "bad_message_signature", ())
    ]
    # Newest first: the answer before the revocation, then the one after.
    assert [e.outcome for e in _entries(session, world)] == [
        network.Outcome.FAILED,
        network.Outcome.SUCCESS,
    ]


def test_a_provider_refuses_the_hubs_query_once_the_hubs_certificate_is_revoked(
    session: Session, settings: Settings, world: World
) -> None:
    taro = world.residents["taro"].id
    network.request_self_information(
        session=session, hub=world.hub, resident_id=taro, items=["resident-tax"]
    )
    _revoke(session, settings, network.HUB)
    outcome = network.request_self_information(
        session=session, hub=world.hub, resident_id=taro, items=["resident-tax"]
    )
    assert [(r.outcome, r.detail) for r in outcome.results] == [
        (network.Outcome.FAILED, "bad_message_signature")
    ]


def test_an_unsigned_request_is_rejected(session: Session, world: World) -> None:
    with pytest.raises(network.UnsignedMessageError):
        world.hub.exchange(session=session, token='{"requester": "nta"}')


def test_a_request_signed_with_another_key_is_rejected(
    session: Session, settings: Settings, world: World
) -> None:
    credential, request = _request(session, settings, world)
    impostor = Credential(
        code=credential.code,
        certificate=credential.certificate,
        private_key=ec.generate_private_key(ec.SECP256R1()),
    )
    with pytest.raises(network.BadMessageSignatureError):
        world.hub.exchange(session=session, token=sign(request.to_json(), impostor))


def test_a_tampered_payload_is_rejected(session: Session, settings: Settings, world: World) -> None:
    credential, request = _request(session, settings, world)
    header, payload, signature = sign(request.to_json(), credential).split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["items"] = ["resident-tax", "disability-mental"]
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    with pytest.raises(network.BadMessageSignatureError):
        world.hub.exchange(session=session, token=f"{header}.{forged}.{signature}")


def test_a_request_claiming_another_sender_is_rejected(
    session: Session, settings: Settings, world: World
) -> None:
    _credential, request = _request(session, settings, world)
    nta = network.credential_for(session=session, settings=settings, code="nta")
    with pytest.raises(network.SenderMismatchError):
        world.hub.exchange(session=session, token=sign(request.to_json(), nta))


def test_an_agency_outside_the_network_is_rejected(
    session: Session, settings: Settings, world: World
) -> None:
    credential, request = _request(
        session,
        settings,
        world,
        requester="acme-bank",
        procedure="child-allowance",
        items=("resident-tax",),
    )
    with pytest.raises(network.UnknownAgencyError):
        world.hub.exchange(session=session, token=sign(request.to_json(), credential))


def test_a_replayed_request_is_rejected(session: Session, settings: Settings, world: World) -> None:
    credential, request = _request(session, settings, world)
    token = sign(request.to_json(), credential)
    world.hub.exchange(session=session, token=token)
    with pytest.raises(network.ReplayedMessageError):
        world.hub.exchange(session=session, token=token)


def test_a_stale_request_is_rejected(session: Session, settings: Settings, world: World) -> None:
    credential, request = _request(session, settings, world, issued_at_shift=-timedelta(hours=1))
    with pytest.raises(network.StaleMessageError):
        world.hub.exchange(session=session, token=sign(request.to_json(), credential))


def test_an_unknown_link_code_is_rejected(
    session: Session, settings: Settings, world: World
) -> None:
    credential, request = _request(session, settings, world)
    forged = ExchangeRequest(
        request_id=request.request_id,
        requester=request.requester,
        procedure=request.procedure,
        subject="A" * 32,
        items=request.items,
        issued_at=request.issued_at,
    )
    with pytest.raises(network.UnknownLinkCodeError):
        world.hub.exchange(session=session, token=sign(forged.to_json(), credential))


def test_a_malformed_request_body_is_rejected(
    session: Session, settings: Settings, world: World
) -> None:
    credential = network.credential_for(session=session, settings=settings, code=YOKOHAMA)
    with pytest.raises(network.MalformedMessageError):
        world.hub.exchange(session=session, token=sign(b'{"items": "all"}', credential))


def test_each_agency_gets_its_own_link_code(session: Session, world: World) -> None:
    taro = world.residents["taro"].id
    codes = {
        agency: network.link_code_for_resident(
            session=session, resident_id=taro, agency_code=agency
        )
        for agency in ("muni-131016", "nta", network.PORTAL)
    }
    assert len(set(codes.values())) == 3
    my_number = registry.get_my_number(session=session, resident_id=taro)
    assert all(my_number not in code for code in codes.values())


def test_no_my_number_is_stored_outside_the_registry_and_the_link_code_table(
    session: Session, world: World
) -> None:
    network.request_self_information(
        session=session,
        hub=world.hub,
        resident_id=world.residents["taro"].id,
        items=["resident-tax", "household"],
    )
    numbers = {
        registry.get_my_number(session=session, resident_id=r.id) for r in world.residents.values()
    }
    allowed = {"residents", "network_link_codes"}
    connection = session.connection()
    for table in inspect(connection).get_table_names():
        if table in allowed or table.startswith("alembic"):
            continue
        for row in connection.execute(select(text("*")).select_from(text(table))):
            flat = " ".join(str(value) for value in row)
            assert not any(number in flat for number in numbers), table


def test_request_ids_are_forgotten_only_after_the_replay_window(
    session: Session, settings: Settings, world: World
) -> None:
    credential, request = _request(session, settings, world)
    world.hub.exchange(session=session, token=sign(request.to_json(), credential))
    assert network.forget_old_requests(session=session) == 0
    session.execute(
        update(SeenRequest)
        .where(SeenRequest.request_id == request.request_id)
        .values(received_at=utcnow() - timedelta(minutes=11))
    )
    assert network.forget_old_requests(session=session) == 1
