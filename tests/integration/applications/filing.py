"""Filing a signed application in a test, the way the portal and the card reader do.

``file_application`` issues the persona's card (once), saves a valid draft, prepares the
signing request, signs the canonical content with the card's signing key and completes
the submission — the same service calls the pages make.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from myna import card, jpki, registry
from myna.applications import forms, submission
from myna.applications import service as applications
from myna.applications.procedures import Procedures
from myna.moves.service import procedure_handlers
from myna.office import filings
from myna.platform.settings import Settings

PASSWORD = "SIGN2026"
PIN = "4321"
DISASTER = "disaster-certificate"
VALID_DISASTER: dict[str, Any] = {
    "disaster_date": "2026-09-15",
    "disaster_type": "storm",
    "damaged_address": "東京都千代田区千代田1-1",
    "building": "owned-home",
    "relationship": "owner-occupant",
    "damage_description": "屋根瓦が飛ばされ、2階の天井から雨漏りがしています。",
    "copies": 2,
    "phone": "03-1234-5678",
    "declaration": True,
}

# The handlers the composition root registers (a move's saga).
PROCEDURES = Procedures(procedure_handlers())


@dataclass
class Signer:
    """A persona with a card in a virtual reader."""

    resident_id: int
    municipality_code: str
    card_id: str
    reader: card.VirtualCardReader

    def sign(self, content: bytes, password: str = PASSWORD) -> bytes:
        return self.reader.open_session(self.card_id, "sign", password).sign_cms(content)


def signer_for(session: Session, settings: Settings, persona: str = "taro") -> Signer:
    """The persona with a freshly issued card."""
    registry.ensure_municipalities(session=session)
    resident = registry.ensure_personas(session=session)[persona]
    jpki.ensure_authorities(session=session, settings=settings)
    summary = card.issue_card(
        session=session, settings=settings, resident_id=resident.id, pin=PIN, password=PASSWORD
    )
    reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    return Signer(
        resident_id=resident.id,
        municipality_code=resident.municipality_code,
        card_id=summary.card_id,
        reader=reader,
    )


def file_application(
    session: Session,
    settings: Settings,
    signer: Signer,
    *,
    code: str = DISASTER,
    data: dict[str, Any] | None = None,
    submission_key: str | None = None,
) -> applications.ApplicationRead:
    """Draft, prepare, sign and complete one application for ``signer``."""
    forms.save_draft(
        session=session,
        resident_id=signer.resident_id,
        municipality_code=signer.municipality_code,
        code=code,
        data=dict(VALID_DISASTER if data is None else data),
    )
    request = submission.prepare(
        session=session,
        procedures=PROCEDURES,
        resident_id=signer.resident_id,
        municipality_code=signer.municipality_code,
        code=code,
        submission_key=submission_key or submission.new_submission_key(),
    )
    return submission.complete(
        session=session,
        procedures=PROCEDURES,
        settings=settings,
        request_id=request.id,
        signature=signer.sign(request.content),
    )


def filing_api_headers(client: TestClient, session: Session, municipality: str) -> dict[str, str]:
    """A new filing-API client of ``municipality`` and a bearer token for it, as headers."""
    created, private = filings.generate_client(
        session=session, municipality_code=municipality, name=f"{municipality} 基幹系"
    )
    session.commit()
    now = int(time.time())
    claims = {
        "iss": created.client_id,
        "sub": created.client_id,
        "aud": f"{client.base_url}/api/municipality/token",
        "exp": now + 120,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    assertion = jwt.encode(
        {"alg": "ES256", "kid": created.client_id}, claims, ECKey.import_key(private)
    )
    response = client.post(
        "/api/municipality/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
