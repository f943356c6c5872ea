"""The demo's 民間送達: 山田 太郎 has his 源泉徴収票 and two 控除証明書, delivered once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from examples.sakura_life import sender
from myna import jpki, registry, runtime
from myna.bootstrap import Container
from myna.delivery import service
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
