"""The resident's 民間送達 box: what arrived, reading it, the original, links, and privacy."""

from __future__ import annotations

import re

from sqlalchemy import select

from myna.delivery import service
from myna.delivery.models import Delivery, DeliveryLogEntry
from tests.integration.delivery.conftest import World, life_certificate


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _delivered(world: World) -> str:
    recipient = world.link(world.taro, world.sakura)
    signed = world.sakura.sign_document(life_certificate(world.sakura, recipient))
    response = world.send(world.sakura, recipient, signed)
    assert response.status_code == 201, response.text
    delivery_id: str = response.json()["delivery_id"]
    return delivery_id


def test_the_box_lists_the_document_with_its_meaning_and_unread_count(world: World) -> None:
    delivery_id = _delivered(world)
    page = world.login(world.taro).get("/delivery")
    assert page.status_code == 200
    assert "さくら生命保険株式会社" in page.text
    assert "生命保険料控除証明書（一般・新制度）" in page.text
    assert "令和7年分の払込保険料 123,456円" in page.text
    assert "<strong>未読</strong>" in page.text
    assert service.unread_count(session=world.session, resident_id=world.taro.resident_id) == 1
    assert f"/delivery/{delivery_id}" in page.text
    assert "書類が届きました" in page.text  # the box's history


def test_opening_a_document_marks_it_read_and_logs_the_read(world: World) -> None:
    delivery_id = _delivered(world)
    client = world.login(world.taro)
    page = client.get(f"/delivery/{delivery_id}")
    assert page.status_code == 200
    assert "123,456円" in page.text
    assert "SL-0012345" in page.text
    world.session.expire_all()
    row = world.session.get(Delivery, delivery_id)
    assert row is not None
    assert row.read_at is not None
    actions = list(
        world.session.scalars(
            select(DeliveryLogEntry.action)
            .where(DeliveryLogEntry.resident_id == world.taro.resident_id)
            .order_by(DeliveryLogEntry.id)
        )
    )
    assert actions == ["linked", "delivered", "read"]
    assert service.box(session=world.session, resident_id=world.taro.resident_id).unread == 0
    assert "<strong>未読</strong>" not in client.get("/delivery").text


def test_the_original_is_the_signed_file_as_delivered(world: World) -> None:
    delivery_id = _delivered(world)
    response = world.login(world.taro).get(f"/delivery/{delivery_id}/original.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert "attachment" in response.headers["content-disposition"]
    row = world.session.get(Delivery, delivery_id)
    assert row is not None
    assert response.content == row.xml
    assert b"<ds:Signature" in response.content


def test_another_resident_sees_nothing_of_it(world: World) -> None:
    delivery_id = _delivered(world)
    client = world.login(world.hanako)
    assert "さくら生命保険株式会社から" not in client.get("/delivery").text
    assert client.get(f"/delivery/{delivery_id}").status_code == 404
    assert client.get(f"/delivery/{delivery_id}/original.xml").status_code == 404
    box = service.box(session=world.session, resident_id=world.hanako.resident_id)
    assert box.items == []
    assert box.unread == 0


def test_the_resident_links_and_unlinks_a_sender_with_the_form(world: World) -> None:
    client = world.login(world.taro)
    page = client.get("/delivery/senders")
    assert page.status_code == 200
    assert "みなと損害保険株式会社" in page.text
    token = _csrf(page.text)
    linked = client.post(
        "/delivery/senders",
        data={"csrf_token": token, "sender": "minato-fire", "action": "link"},
        follow_redirects=True,
    )
    assert linked.status_code == 200
    assert "連携中" in linked.text
    links = {
        x.sender.code: x
        for x in service.links_of(session=world.session, resident_id=world.taro.resident_id)
    }
    recipient = links["minato-fire"].recipient_id
    assert recipient is not None
    assert len(recipient) >= 32
    assert recipient in linked.text
    unlinked = client.post(
        "/delivery/senders",
        data={"csrf_token": token, "sender": "minato-fire", "action": "unlink"},
        follow_redirects=True,
    )
    assert unlinked.status_code == 200
    assert not service.links_of(session=world.session, resident_id=world.taro.resident_id)[0].linked


def test_linking_without_the_csrf_token_is_refused(world: World) -> None:
    client = world.login(world.taro)
    response = client.post("/delivery/senders", data={"sender": "minato-fire", "action": "link"})
    assert response.status_code in (400, 403)
    assert all(
        not x.linked
        for x in service.links_of(session=world.session, resident_id=world.taro.resident_id)
    )


def test_the_box_needs_a_card_login(world: World) -> None:
    response = world.api.get("/delivery", follow_redirects=False)
    assert response.status_code in (302, 303, 401)


def test_pairwise_ids_differ_per_sender_and_are_not_numbers(world: World) -> None:
    first = world.link(world.taro, world.sakura)
    second = world.link(world.taro, world.minato)
    other = world.link(world.hanako, world.sakura)
    assert len({first, second, other}) == 3
    assert not any(x.isdigit() for x in (first, second, other))


def test_another_context_reads_the_residents_documents_of_a_year(world: World) -> None:
    from myna import delivery  # noqa: PLC0415 - the public surface under test

    _delivered(world)
    found = delivery.documents_of(session=world.session, resident_id=world.taro.resident_id)
    assert [r.document.document_id for r in found] == ["LI-2025-0001"]
    assert found[0].sender_name == "さくら生命保険株式会社"
    assert (
        delivery.documents_of(session=world.session, resident_id=world.taro.resident_id, year=2024)
        == []
    )
    assert delivery.documents_of(session=world.session, resident_id=world.hanako.resident_id) == []
