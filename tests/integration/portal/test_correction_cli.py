"""`myna agency corrections` and `answer-correction` on the embedded platform's database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from myna import corrections, jpki, network, registry
from myna.agencies.models import AgencyCorrection, AgencyRecord
from myna.bootstrap import Container, build_container
from myna.cli.network import app
from myna.corrections.models import CorrectionRequestRow
from myna.platform.db import unit_of_work
from myna.platform.migrate import upgrade_to_head
from myna.platform.settings import get_settings

runner = CliRunner()
HOLDER = "muni-131016"


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Container]:
    """A file database with taro, the agencies' data and one correction request of his."""
    monkeypatch.setenv("MYNA_ENVIRONMENT", "development")
    monkeypatch.setenv("MYNA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MYNA_DATABASE_URL", f"sqlite:///{tmp_path / 'platform.db'}")
    get_settings.cache_clear()
    container = build_container(get_settings())
    upgrade_to_head(container.engine)
    with unit_of_work(container.session_factory) as session:
        registry.ensure_municipalities(session=session)
        jpki.ensure_authorities(session=session, settings=container.settings)
        taro = registry.ensure_personas(session=session)["taro"]
        network.seed_agency_data(session=session, seed=1)
        corrections.file_correction(
            session=session,
            hub=container.hub_for(session),
            resident_id=taro.id,
            draft=corrections.CorrectionDraft(
                owner=HOLDER,
                item="resident-tax",
                field="total_income",
                current="",
                proposed="4,120,000円",
                reason="源泉徴収票と違います。",
            ),
        )
    yield container
    container.engine.dispose()
    get_settings.cache_clear()


def test_the_queue_is_listed_and_answered_from_the_command_line(platform: Container) -> None:
    listed = runner.invoke(app, ["corrections", "--agency", HOLDER])
    assert listed.exit_code == 0, listed.output
    assert "resident-tax" in listed.output
    with unit_of_work(platform.session_factory) as session:
        queued = session.scalars(select(AgencyCorrection)).one()
        record = session.scalars(
            select(AgencyRecord).where(
                AgencyRecord.link_code == queued.link_code,
                AgencyRecord.item_code == "resident-tax",
            )
        ).first()
        assert record is not None
        ids = (queued.id, record.id)
    answered = runner.invoke(
        app,
        [
            "answer-correction", str(ids[0]), "--agency", HOLDER, "--corrected",
            "--record", str(ids[1]), "--field", "total_income", "--value", "4120000",
            "--reason", "確認して訂正しました。",
        ],
    )  # fmt: skip
    assert answered.exit_code == 0, answered.output
    assert "corrected" in answered.output
    with unit_of_work(platform.session_factory) as session:
        assert session.get(AgencyRecord, ids[1]).payload["total_income"] == 4_120_000  # type: ignore[union-attr]
        mine = session.scalars(select(CorrectionRequestRow)).one()
        assert mine.status == corrections.CORRECTED


def test_a_half_given_node_configuration_is_refused(platform: Container, tmp_path: Path) -> None:
    answered = runner.invoke(
        app,
        ["answer-correction", "1", "--agency", HOLDER, "--reason", "r", "--hub", "http://x"],
    )
    assert answered.exit_code == 1
    assert "--key, --cert and --hub together" in answered.output
