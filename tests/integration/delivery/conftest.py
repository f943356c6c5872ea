"""Senders with keys from the government CA, the personas' cards and links, the API over HTTP.

``nencho``: 太郎 with two 控除証明書 of 令和7年分 in his box and two employers he links,
for the 年末調整 hand-overs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import jpki, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.delivery import (
    EarthquakeInsuranceCertificate,
    InsuredObject,
    LifeInsuranceCategory,
    LifeInsuranceCertificate,
    LifeInsuranceSystem,
    handovers,
    service,
)
from myna.delivery.identity import SenderIdentity
from myna.delivery.models import DeliveryLogEntry
from myna.platform.settings import Settings
from myna.reader import client as login_client
from tests.integration.portal.conftest import PIN, IssuedCard, issue, reader

__all__ = ["reader"]

API = "/api/delivery/v1"
YEAR_END = f"{API}/year-end-adjustment"
PORTAL = "http://testserver"


def register(
    session: Session, settings: Settings, code: str, name: str, kind: str
) -> SenderIdentity:
    key = ec.generate_private_key(ec.SECP256R1())
    found, certificate = service.register_sender(
        session=session,
        settings=settings,
        code=code,
        name=name,
        kind=kind,
        public_key=key.public_key(),
    )
    return SenderIdentity(
        code=found.code,
        name=found.name,
        kind=found.kind.value,
        organization_code=found.organization_code,
        private_key=key,
        certificate=certificate,
    )


def life_certificate(sender: SenderIdentity, recipient: str, **changes: Any) -> bytes:
    """An unsigned 生命保険料控除証明書 from ``sender`` for ``recipient``."""
    document = LifeInsuranceCertificate(
        document_id="LI-2025-0001",
        issued_on=date(2025, 10, 15),
        sender_code=sender.organization_code,
        sender_name=sender.name,
        recipient=recipient,
        year=2025,
        insurer_name=sender.name,
        contractor="山田 太郎",
        policy_number="SL-0012345",
        insurance_type="終身保険",
        insured="山田 太郎",
        system=LifeInsuranceSystem.NEW,
        category=LifeInsuranceCategory.GENERAL,
        certified_amount=102880,
        certified_as_of=date(2025, 9, 30),
        declared_amount=123456,
    )
    return dataclasses.replace(document, **changes).to_xml()


@dataclass
class World:
    """Two senders, 太郎 and 花子 with cards, and the portal."""

    api: TestClient
    session: Session
    settings: Settings
    sakura: SenderIdentity
    minato: SenderIdentity
    taro: IssuedCard
    hanako: IssuedCard

    def post(self, token: str) -> Any:
        self.session.commit()
        return self.api.post(
            f"{API}/documents", content=token, headers={"content-type": "application/jose"}
        )

    def link(self, card: IssuedCard, sender: SenderIdentity) -> str:
        found = service.link(
            session=self.session, resident_id=card.resident_id, sender_code=sender.code
        )
        self.session.commit()
        assert found.recipient_id is not None
        return found.recipient_id

    def send(self, sender: SenderIdentity, recipient: str, xml: bytes) -> Any:
        return self.post(sender.delivery(recipient, xml))

    def login(self, card: IssuedCard) -> TestClient:
        self.session.commit()
        login_client.login(self.api, PORTAL, card.reader.open_session(card.card_id, "auth", PIN))
        return self.api


@pytest.fixture
def world(
    session: Session, settings: Settings, container: Container, reader: Any
) -> Iterator[World]:
    taro = issue(session, settings, reader, "taro")
    hanako = issue(session, settings, reader, "hanako")
    registry.ensure_personas(session=session)
    jpki.ensure_authorities(session=session, settings=settings)
    sakura = register(session, settings, "sakura-life", "さくら生命保険株式会社", "life-insurer")
    minato = register(
        session, settings, "minato-fire", "みなと損害保険株式会社", "non-life-insurer"
    )
    session.commit()
    with TestClient(create_app(container), base_url=PORTAL) as api:
        yield World(api, session, settings, sakura, minato, taro, hanako)


def earthquake_certificate(sender: SenderIdentity, recipient: str, **changes: Any) -> bytes:
    """An unsigned 地震保険料控除証明書 from ``sender`` for ``recipient``."""
    document = EarthquakeInsuranceCertificate(
        document_id="EQ-2025-0001",
        issued_on=date(2025, 10, 20),
        sender_code=sender.organization_code,
        sender_name=sender.name,
        recipient=recipient,
        year=2025,
        insurer_name=sender.name,
        contractor="山田 太郎",
        policy_number="MF-77-001",
        insured="山田 太郎",
        insured_object=InsuredObject.BUILDING_AND_HOUSEHOLD_GOODS,
        certified_as_of=date(2025, 10, 1),
        earthquake_premium=38_400,
    )
    return dataclasses.replace(document, **changes).to_xml()


def deliver(world: World, sender: SenderIdentity, recipient: str, xml: bytes) -> str:
    """Sign and deliver ``xml``; the delivery id."""
    response = world.send(sender, recipient, sender.sign_document(xml))
    assert response.status_code == 201, response.text
    delivery_id: str = response.json()["delivery_id"]
    return delivery_id


@dataclass
class Nencho:
    """太郎 with two certificates of 令和7年分 in his box and two employers he links."""

    world: World
    employer: SenderIdentity
    other_employer: SenderIdentity
    recipient: str
    life: str
    quake: str

    def hand_over(self, *delivery_ids: str, sender: SenderIdentity | None = None) -> str:
        handover_id = handovers.hand_over(
            session=self.world.session,
            resident_id=self.world.taro.resident_id,
            sender_code=(sender or self.employer).code,
            year=2025,
            delivery_ids=list(delivery_ids) or [self.life, self.quake],
        )
        self.world.session.commit()
        return handover_id

    def listing(self, sender: SenderIdentity | None = None, year: int = 2025) -> Any:
        sender = sender or self.employer
        self.world.session.commit()
        return self.world.api.get(
            YEAR_END,
            params={"year": year},
            headers={"authorization": f"JWS {sender.handovers_request(year)}"},
        )

    def collect(self, handover_id: str, sender: SenderIdentity | None = None) -> Any:
        sender = sender or self.employer
        self.world.session.commit()
        return self.world.api.get(
            f"{YEAR_END}/{handover_id}",
            headers={"authorization": f"JWS {sender.collect_request(handover_id)}"},
        )

    def actions(self) -> list[tuple[str, str, str | None]]:
        self.world.session.expire_all()
        return [
            (entry.action, entry.sender_code, entry.handover_id)
            for entry in self.world.session.scalars(
                select(DeliveryLogEntry)
                .where(DeliveryLogEntry.resident_id == self.world.taro.resident_id)
                .order_by(DeliveryLogEntry.id)
            )
        ]


@pytest.fixture
def nencho(world: World) -> Nencho:
    employer = register(
        world.session, world.settings, "minato-denki", "みなと電機株式会社", "employer"
    )
    other = register(world.session, world.settings, "yamato-shoji", "大和商事株式会社", "employer")
    recipient = world.link(world.taro, employer)
    world.link(world.taro, other)
    at_sakura = world.link(world.taro, world.sakura)
    at_minato = world.link(world.taro, world.minato)
    life = deliver(world, world.sakura, at_sakura, life_certificate(world.sakura, at_sakura))
    quake = deliver(world, world.minato, at_minato, earthquake_certificate(world.minato, at_minato))
    return Nencho(world, employer, other, recipient, life, quake)
