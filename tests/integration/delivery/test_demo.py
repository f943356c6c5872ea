"""The demo's 民間送達: 山田 太郎 has his 源泉徴収票 and two 控除証明書, delivered once."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from examples.sakura_life import sender
from myna import jpki, registry, runtime
from myna.app import create_app
from myna.bootstrap import Container
from myna.delivery import handovers, service
from myna.delivery.identity import load_identity
from myna.platform.settings import Settings
from tests.integration.delivery.conftest import World


def test_the_demo_delivers_taros_documents_once(
    session: Session, settings: Settings, container: Container
) -> None:
    registry.ensure_municipalities(session=session)
    taro = registry.ensure_personas(session=session)["taro"]
    jpki.ensure_authorities(session=session, settings=settings)
    session.commit()

    runtime.ensure_demo_deliveries(container)
    runtime.ensure_demo_deliveries(container)  # a second start delivers nothing new

    box = service.box(session=session, resident_id=taro.id)
    assert sorted(item.kind.value for item in box.items) == ["TEG104", "TEG800", "TEG810"]
    assert {item.year for item in box.items} == {2025}
    assert box.unread == 3
    assert {item.sender_name for item in box.items} == {
        "みなと電機株式会社",
        "さくら生命保険株式会社",
        "みなと損害保険株式会社",
    }
    identity = load_identity(settings.sender_dir / "sakura-life")
    assert identity.organization_code == "ds-sakura-life"


def test_the_sample_sender_delivers_with_files_from_the_cli_step(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    identity = runtime.register_sender(
        world.session,
        world.settings,
        "sakura-sample",
        "さくら生命保険株式会社",
        "life-insurer",
        tmp_path,
    )
    recipient = world.link(world.taro, identity)
    code = sender.main(
        ["--identity", str(tmp_path / "sakura-sample"), "--recipient", recipient],
        client=world.api,
    )
    assert code == 0, capsys.readouterr().out
    answers = [line[:4] for line in capsys.readouterr().out.splitlines() if '{"' in line]
    assert answers == ["201 ", "200 "]
    box = service.box(session=world.session, resident_id=world.taro.resident_id)
    assert [item.title for item in box.items] == ["生命保険料控除証明書（介護医療・新制度）"]


def test_in_the_demo_taro_hands_his_two_certificates_to_his_employer(
    session: Session, settings: Settings, container: Container
) -> None:
    registry.ensure_municipalities(session=session)
    taro = registry.ensure_personas(session=session)["taro"]
    jpki.ensure_authorities(session=session, settings=settings)
    session.commit()
    runtime.ensure_demo_deliveries(container)

    page = handovers.year_end_adjustment(session=session, resident_id=taro.id)
    assert page.year == 2025
    assert [(e.code, e.name) for e in page.employers] == [("minato-denki", "みなと電機株式会社")]
    assert sorted(c.kind.value for c in page.certificates) == ["TEG800", "TEG810"]
    handover_id = handovers.hand_over(
        session=session,
        resident_id=taro.id,
        sender_code="minato-denki",
        year=2025,
        delivery_ids=[c.delivery_id for c in page.certificates],
    )
    session.commit()

    employer = load_identity(settings.sender_dir / "minato-denki")
    assert employer.kind == "employer"
    with TestClient(create_app(container), base_url="http://testserver") as api:
        listed = api.get(
            "/api/delivery/v1/year-end-adjustment",
            params={"year": 2025},
            headers={"authorization": f"JWS {employer.handovers_request(2025)}"},
        )
        assert listed.status_code == 200, listed.text
        assert [h["handover_id"] for h in listed.json()["handovers"]] == [handover_id]
        collected = api.get(
            f"/api/delivery/v1/year-end-adjustment/{handover_id}",
            headers={"authorization": f"JWS {employer.collect_request(handover_id)}"},
        )
    assert collected.status_code == 200, collected.text
    assert sorted(d["issuer_name"] for d in collected.json()["documents"]) == [
        "さくら生命保険株式会社",
        "みなと損害保険株式会社",
    ]
