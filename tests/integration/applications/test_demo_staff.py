"""The demo's back-office accounts and `myna office code`, which only development allows."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from myna import registry, runtime
from myna.bootstrap import build_container
from myna.cli import office as office_cli
from myna.office import service as office
from myna.platform.db import unit_of_work
from myna.platform.settings import get_settings
from tests.conftest import TEST_SETTINGS


def _environment(tmp_path: Path, environment: str) -> pytest.MonkeyPatch:
    patch = pytest.MonkeyPatch()
    patch.setenv("MYNA_ENVIRONMENT", environment)
    patch.setenv("MYNA_DATABASE_URL", f"sqlite:///{tmp_path / 'myna.db'}")
    patch.setenv("MYNA_DATA_DIR", str(tmp_path / "var"))
    for name, value in TEST_SETTINGS.items():
        patch.setenv(f"MYNA_{name.upper()}", str(value))
    get_settings.cache_clear()
    return patch


def test_the_demo_staff_log_in_with_the_printed_password_and_a_code_from_the_cli(
    tmp_path: Path,
) -> None:
    patch = _environment(tmp_path, "development")
    try:
        container = build_container(get_settings())
        runtime.prepare_database(container)
        with unit_of_work(container.session_factory) as session:
            registry.ensure_municipalities(session=session)
        runtime.ensure_demo_staff(container)
        runtime.ensure_demo_staff(container)  # a second start reuses the accounts
        with unit_of_work(container.session_factory) as session:
            staff = office.verify_password(
                session=session, login_id="chiyoda-supervisor", password=runtime.DEMO_STAFF_PASSWORD
            )
        assert staff.municipality_code == "131016"
        assert staff.role == office.StaffRole.SUPERVISOR
        result = CliRunner().invoke(office_cli.app, ["code", "--login", "chiyoda-supervisor"])
        assert result.exit_code == 0, result.output
        code = result.output.strip()
        with unit_of_work(container.session_factory) as session:
            assert code == office.current_code(
                session=session, settings=container.settings, login_id="chiyoda-supervisor"
            )
        container.engine.dispose()
    finally:
        patch.undo()
        get_settings.cache_clear()


def test_the_code_command_refuses_outside_development(tmp_path: Path) -> None:
    patch = _environment(tmp_path, "production")
    try:
        result = CliRunner().invoke(office_cli.app, ["code", "--login", "chiyoda-supervisor"])
    finally:
        patch.undo()
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "development" in result.output or "開発環境" in result.output


def test_the_code_command_says_an_unknown_login_is_unknown(tmp_path: Path) -> None:
    patch = _environment(tmp_path, "development")
    try:
        container = build_container(get_settings())
        runtime.prepare_database(container)
        container.engine.dispose()
        result = CliRunner().invoke(office_cli.app, ["code", "--login", "nobody-here"])
    finally:
        patch.undo()
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "nobody-here" in result.output
    assert "ロック" not in result.output
    assert "locked" not in result.output
