"""The demo's verifier (みらい銀行): registered once, its files ready, its requests answered."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import card, jpki, registry, runtime
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
