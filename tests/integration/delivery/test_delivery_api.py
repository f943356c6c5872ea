"""民間送達 over the sender API: the happy path and every way a delivery is refused."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import SignatureMethod
from sqlalchemy import func, select

from myna import jpki, network, notices
from myna.bootstrap import Container
from myna.delivery import service
from myna.delivery.documents import MAX_DOCUMENT_BYTES
from myna.delivery.models import Delivery
from myna.platform.ratelimit import RateLimiter
from tests.integration.delivery.conftest import API, World, life_certificate, register


def _count(world: World) -> int:
    return int(world.session.scalar(select(func.count()).select_from(Delivery)) or 0)


def _refused(response: object, status: int, code: str, words: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["error"] == code
    assert words in body["message"]


def test_a_signed_document_for_a_linked_resident_is_accepted_and_noticed(world: World) -> None:
    recipient = world.link(world.taro, world.sakura)
    signed = world.sakura.sign_document(life_certificate(world.sakura, recipient))
    response = world.send(world.sakura, recipient, signed)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["document_id"] == "LI-2025-0001"
    assert answer["kind"] == "TEG800"
    assert answer["year"] == 2025
    assert answer["duplicate"] is False
    stored = world.session.get(Delivery, answer["delivery_id"])
    assert stored is not None
    assert stored.xml == signed
    assert stored.read_at is None
    inbox = notices.inbox(session=world.session, resident_id=world.taro.resident_id)
    assert any("さくら生命保険株式会社" in item.title for item in inbox.items)

    status = world.api.get(
        f"{API}/documents/LI-2025-0001",
        headers={"authorization": f"JWS {world.sakura.receipt_request('LI-2025-0001')}"},
    )
    assert status.status_code == 200, status.text
    assert status.json()["delivery_id"] == answer["delivery_id"]


def test_a_resend_of_the_same_bytes_returns_the_first_receipt(world: World) -> None:
    recipient = world.link(world.taro, world.sakura)
    signed = world.sakura.sign_document(life_certificate(world.sakura, recipient))
    first = world.send(world.sakura, recipient, signed)
    again = world.send(world.sakura, recipient, signed)
    assert again.status_code == 200, again.text
    assert again.json()["delivery_id"] == first.json()["delivery_id"]
    assert again.json()["duplicate"] is True
    assert _count(world) == 1


def test_the_same_document_id_with_other_bytes_is_a_conflict(world: World) -> None:
    recipient = world.link(world.taro, world.sakura)
    world.send(
        world.sakura,
        recipient,
        world.sakura.sign_document(life_certificate(world.sakura, recipient)),
    )
    changed = life_certificate(world.sakura, recipient, declared_amount=999_999)
    response = world.send(world.sakura, recipient, world.sakura.sign_document(changed))
    _refused(response, 409, "document_conflict", "LI-2025-0001")
    assert _count(world) == 1


def test_a_tampered_document_is_refused(world: World) -> None:
    recipient = world.link(world.taro, world.sakura)
    signed = world.sakura.sign_document(life_certificate(world.sakura, recipient))
    tampered = signed.replace(b"123456", b"923456")
    assert tampered != signed
    _refused(world.send(world.sakura, recipient, tampered), 422, "tampered_document", "改ざん")
    assert _count(world) == 0


def test_a_document_signed_by_another_senders_key_is_refused(world: World) -> None:
    recipient = world.link(world.taro, world.sakura)
    by_minato = world.minato.sign_document(life_certificate(world.sakura, recipient))
    response = world.send(world.sakura, recipient, by_minato)
    _refused(response, 422, "untrusted_signer", "発行者")


def test_a_revoked_sender_certificate_is_refused(world: World) -> None:
    recipient = world.link(world.taro, world.sakura)
    signed = world.sakura.sign_document(life_certificate(world.sakura, recipient))
    jpki.revoke_certificate(
        session=world.session,
        serial=world.sakura.certificate.serial_number,
        reason=jpki.RevocationReason.KEY_COMPROMISE,
    )
    response = world.send(world.sakura, recipient, signed)
    _refused(response, 403, "sender_certificate_revoked", "失効")


def test_a_schema_invalid_document_is_refused(world: World) -> None:
    recipient = world.link(world.taro, world.sakura)
    # The signature verifies; what was signed breaks the schema (an empty policy number).
    unsigned = life_certificate(world.sakura, recipient).replace(b"SL-0012345", b"")
    response = world.send(world.sakura, recipient, _sign_raw(world, unsigned))
    _refused(response, 422, "schema_invalid", "形式")


def _sign_raw(world: World, xml: bytes) -> bytes:
    """Sign bytes that sign() would refuse to sign (it validates first)."""
    signer = XMLSigner(signature_algorithm=SignatureMethod.ECDSA_SHA256)
    signed = signer.sign(
        etree.fromstring(xml),
        key=world.sakura.private_key,
        cert=[world.sakura.certificate],
    )
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def test_a_document_for_another_resident_is_refused(world: World) -> None:
    taro = world.link(world.taro, world.sakura)
    hanako = world.link(world.hanako, world.sakura)
    for_hanako = world.sakura.sign_document(life_certificate(world.sakura, hanako))
    response = world.send(world.sakura, taro, for_hanako)
    _refused(response, 422, "recipient_mismatch", "宛先")
    assert _count(world) == 0


def test_a_sender_the_resident_never_linked_is_refused(world: World) -> None:
    recipient = world.link(world.taro, world.sakura)  # 太郎 linked さくら, not みなと
    signed = world.minato.sign_document(life_certificate(world.minato, recipient))
    _refused(world.send(world.minato, recipient, signed), 403, "recipient_not_linked", "連携")


def test_an_unknown_recipient_is_refused_the_same_way(world: World) -> None:
    recipient = "not-a-recipient-id-at-all-000000"
    signed = world.sakura.sign_document(life_certificate(world.sakura, recipient))
    _refused(world.send(world.sakura, recipient, signed), 403, "recipient_not_linked", "連携")


def test_unlinking_stops_further_deliveries(world: World) -> None:
    recipient = world.link(world.taro, world.sakura)
    first = world.sakura.sign_document(life_certificate(world.sakura, recipient))
    assert world.send(world.sakura, recipient, first).status_code == 201
    service.unlink(
        session=world.session, resident_id=world.taro.resident_id, sender_code="sakura-life"
    )
    second = world.sakura.sign_document(
        life_certificate(world.sakura, recipient, document_id="LI-2025-0002")
    )
    _refused(world.send(world.sakura, recipient, second), 403, "recipient_not_linked", "連携")
    assert _count(world) == 1
    again = world.link(world.taro, world.sakura)
    assert again == recipient  # linking again restores the same pairwise id
    assert world.send(world.sakura, recipient, second).status_code == 201


def test_a_replayed_request_is_refused(world: World) -> None:
    recipient = world.link(world.taro, world.sakura)
    token = world.sakura.delivery(
        recipient, world.sakura.sign_document(life_certificate(world.sakura, recipient))
    )
    assert world.post(token).status_code == 201
    _refused(world.post(token), 409, "replayed_message", "")


def test_an_unregistered_sender_is_refused(world: World) -> None:
    recipient = world.link(world.taro, world.sakura)
    signed = world.sakura.sign_document(life_certificate(world.sakura, recipient))
    service.suspend_sender(session=world.session, code="sakura-life")
    _refused(world.send(world.sakura, recipient, signed), 403, "unregistered_sender", "民間送達")


def test_an_agency_key_cannot_speak_for_a_sender(world: World) -> None:
    recipient = world.link(world.taro, world.sakura)
    signed = world.sakura.sign_document(life_certificate(world.sakura, recipient))
    agency = network.credential_for(session=world.session, settings=world.settings, code="portal")
    impostor = dataclasses.replace(
        world.sakura,
        organization_code=agency.code,
        private_key=agency.private_key,
        certificate=agency.certificate,
    )
    response = world.send(impostor, recipient, signed)
    _refused(response, 403, "sender_mismatch", "")


def test_an_oversize_document_is_refused_by_its_size(world: World) -> None:
    recipient = world.link(world.taro, world.sakura)
    big = b"<x>" + b"a" * (MAX_DOCUMENT_BYTES + 10) + b"</x>"
    token = world.sakura.request(
        "delivery", recipient=recipient, document=base64.b64encode(big).decode()
    )
    _refused(world.post(token), 413, "document_too_large", str(MAX_DOCUMENT_BYTES))


def test_a_missing_document_field_is_refused_in_words(world: World) -> None:
    recipient = world.link(world.taro, world.sakura)
    _refused(
        world.post(world.sakura.request("delivery", recipient=recipient, document="%%%")),
        422,
        "malformed_request",
        "base64",
    )


def test_another_senders_document_id_has_no_receipt(world: World) -> None:
    recipient = world.link(world.taro, world.sakura)
    world.send(
        world.sakura,
        recipient,
        world.sakura.sign_document(life_certificate(world.sakura, recipient)),
    )
    response = world.api.get(
        f"{API}/documents/LI-2025-0001",
        headers={"authorization": f"JWS {world.minato.receipt_request('LI-2025-0001')}"},
    )
    assert response.status_code == 404


def test_an_english_sender_gets_english_messages(world: World) -> None:
    recipient = "not-a-recipient-id-at-all-000000"
    signed = world.sakura.sign_document(life_certificate(world.sakura, recipient))
    world.session.commit()
    response = world.api.post(
        f"{API}/documents",
        content=world.sakura.delivery(recipient, signed),
        headers={"content-type": "application/jose", "accept-language": "en"},
    )
    assert response.status_code == 403
    assert "has not linked" in response.json()["message"]


def test_registering_a_sender_twice_is_refused(world: World) -> None:
    with pytest.raises(service.SenderExistsError):
        register(world.session, world.settings, "sakura-life", "さくら", "life-insurer")


def test_a_flood_of_requests_gets_a_clear_429(world: World, container: Container) -> None:
    tight = container.settings.model_copy(update={"delivery_rate_limit": "2/minute"})
    container.rate_limiter = RateLimiter.from_settings(tight)
    assert world.post("not-a-token").status_code == 401
    assert world.post("not-a-token").status_code == 401
    refused = world.post("not-a-token")
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate_limited"
