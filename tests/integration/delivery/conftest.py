"""Senders with keys from the government CA, the personas' cards and links, the API over HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import jpki, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.delivery import (
    LifeInsuranceCategory,
    LifeInsuranceCertificate,
    LifeInsuranceSystem,
    service,
)
from myna.delivery.identity import SenderIdentity
from myna.platform.settings import Settings
from myna.reader import client as login_client
from tests.integration.portal.conftest import PIN, IssuedCard, issue, reader

__all__ = ["reader"]

API = "/api/delivery/v1"
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
