"""A clinic, a pharmacy, the personas' cards and the institution API over HTTP."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import card, jpki, network, registry
from myna.app import create_app
from myna.bootstrap import Container
from myna.card.protocol import counter_message
from myna.medical import service
from myna.platform.db import utcnow
from myna.platform.settings import Settings

PIN = "1234"
PASSWORD = "ABC123"
CLINIC = "1310110018"  # 東京都, 医科, with its check digit
PHARMACY = "1340110012"


@dataclass
class Institution:
    """A registered institution's signing identity."""

    code: str
    credential: network.Credential

    def sign(self, kind: str, **body: Any) -> str:
        payload = {
            "type": kind,
            "request_id": str(uuid.uuid4()),
            "institution": self.code,
            "issued_at": utcnow().isoformat(),
            **body,
        }
        return network.sign(json.dumps(payload).encode(), self.credential)


def register(session: Session, settings: Settings, code: str, name: str) -> Institution:
    key = ec.generate_private_key(ec.SECP256R1())
    found, certificate = service.register_institution(
        session=session, settings=settings, code=code, name=name, public_key=key.public_key()
    )
    credential = network.Credential(
        code=found.organization_code, certificate=certificate, private_key=key
    )
    return Institution(code, credential)


@dataclass
class Clinic:
    """The world of a clinic's counter."""

    api: TestClient
    session: Session
    settings: Settings
    clinic: Institution
    pharmacy: Institution
    residents: dict[str, registry.ResidentRead]
    reader: card.VirtualCardReader
    cards: dict[str, str]

    def post(self, path: str, token: str, **headers: str) -> Any:
        self.session.commit()
        return self.api.post(
            f"/api/medical/v1{path}",
            content=token,
            headers={"content-type": "application/jose", **headers},
        )

    def enrol(self, persona: str) -> None:
        hub = network.build_hub(session=self.session, settings=self.settings, remote=None)
        service.enrol(session=self.session, hub=hub, resident_id=self.residents[persona].id)
        self.session.commit()

    def card_answer(self, persona: str, visit: dict[str, Any], at: Institution) -> dict[str, Any]:
        card_id = self.cards[persona]
        certificate = self.reader.read_certificate(card_id, "auth")
        message = counter_message(
            institution_code=at.code, visit_id=visit["visit_id"], nonce=visit["nonce"]
        )
        signature = self.reader.sign(card_id, "auth", PIN, message)
        return {
            "visit_id": visit["visit_id"],
            "method": "pin",
            "certificate": base64.b64encode(certificate.public_bytes(Encoding.DER)).decode(),
            "signature": base64.b64encode(signature).decode(),
        }

    def visit(self, at: Institution | None = None) -> dict[str, Any]:
        at = at or self.clinic
        response = self.post("/visits", at.sign("visit"))
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def through_consents(
        self, persona: str, *, medication: bool, checkup: bool, limit: bool
    ) -> dict[str, Any]:
        visit = self.visit()
        response = self.post(
            "/visits/card",
            self.clinic.sign("card", **self.card_answer(persona, visit, self.clinic)),
        )
        assert response.status_code == 200, response.text
        response = self.post(
            "/visits/consents",
            self.clinic.sign(
                "consent",
                visit_id=visit["visit_id"],
                medication=medication,
                checkup=checkup,
                limit=limit,
            ),
        )
        assert response.status_code == 200, response.text
        return visit


@pytest.fixture
def clinic(session: Session, settings: Settings, container: Container) -> Iterator[Clinic]:
    registry.ensure_municipalities(session=session)
    residents = registry.ensure_personas(session=session)
    jpki.ensure_authorities(session=session, settings=settings)
    network.seed_agency_data(session=session, seed=1)
    reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    cards = {
        key: card.issue_card(
            session=session, settings=settings, resident_id=r.id, pin=PIN, password=PASSWORD
        ).card_id
        for key, r in residents.items()
    }
    world = Clinic(
        api=TestClient(create_app(container), base_url="http://testserver"),
        session=session,
        settings=settings,
        clinic=register(session, settings, CLINIC, "みなと内科クリニック"),
        pharmacy=register(session, settings, PHARMACY, "さくら薬局 港店"),
        residents=residents,
        reader=reader,
        cards=cards,
    )
    session.commit()
    with world.api:
        yield world
