"""The demo's verifier (みらい銀行): registered once, its files ready, its requests answered."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import authapp, card, jpki, registry, runtime
from myna.app import create_app
from myna.bootstrap import Container
from myna.jpki import verifiers
from myna.jpki.verifier_identity import load_identity
from myna.platform.settings import Settings


def test_the_demo_starts_with_a_registered_verifier_that_can_ask(
    session: Session, settings: Settings, container: Container
) -> None:
    registry.ensure_municipalities(session=session)
    taro = registry.ensure_personas(session=session)["taro"]
    jpki.ensure_authorities(session=session, settings=settings)
    issued = card.issue_card(
        session=session, settings=settings, resident_id=taro.id, pin="1234", password="DEMO2026"
    )
    session.commit()

    folder = runtime.ensure_demo_verifier(container)
    assert runtime.ensure_demo_verifier(container) == folder  # a second start changes nothing
    code, name = runtime.DEMO_VERIFIER
    found = verifiers.verifier(session=session, code=code)
    assert found is not None
    assert (found.name, found.kind.value) == (name, "both")
    identity = load_identity(folder)
    assert identity.organization_code == found.organization_code
    assert (folder / "key.pem").stat().st_mode & 0o077 == 0  # the owner's alone

    reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    serial = f"{reader.read_certificate(issued.card_id, 'sign').serial_number:x}"
    with TestClient(create_app(container)) as api:
        answer = api.post(
            "/api/jpki/v1/status",
            content=identity.status_request("sign", [serial]),
            headers={"content-type": "application/jose"},
        )
    assert answer.status_code == 200, answer.text
    (item,) = answer.json()["items"]
    assert (item["serial"], item["status"]) == (serial, "good")


def test_the_demo_registers_the_sample_bank_with_the_authentication_app(
    session: Session, settings: Settings, container: Container
) -> None:
    path = runtime.ensure_demo_business(container)
    first = json.loads(path.read_text(encoding="utf-8"))
    assert path.stat().st_mode & 0o077 == 0  # private keys: the owner's alone
    assert runtime.ensure_demo_business(container) == path  # a second start keeps the keys
    again = json.loads(path.read_text(encoding="utf-8"))
    assert again == first
    client = authapp.get_client(session=session, client_id=first["client_id"])
    assert client.name == runtime.DEMO_VERIFIER[1]
    assert client.redirect_uris == (f"{runtime.DEMO_BUSINESS_URL}/callback",)
    # Registered: the public halves only; kept: the private ones, which match them.
    registered = {key["kid"]: key for key in client.jwks["keys"]}
    for key in first["jwks"]["keys"]:
        assert "d" in key
        assert "d" not in registered[key["kid"]]
        assert registered[key["kid"]]["x"] == key["x"]
