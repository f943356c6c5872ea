"""`myna card login` logs a resident in from a terminal against a running portal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from myna.cli import app
from myna.platform.settings import get_settings
from tests.conftest import TEST_SETTINGS
from tests.e2e.conftest import PIN, Platform


@pytest.fixture
def cli_env(platform: Platform) -> Iterator[dict[str, str]]:
    env = {
        "MYNA_ENVIRONMENT": "test",
        "MYNA_DATA_DIR": str(platform.settings.data_dir),
        "MYNA_PORTAL_URL": platform.portal,
        "MYNA_DEFAULT_LOCALE": "ja",
        **{f"MYNA_{key.upper()}": value for key, value in TEST_SETTINGS.items()},
    }
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def test_a_resident_logs_in_from_the_terminal(platform: Platform, cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["card", "login", platform.card_id, "--pin", PIN], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "山田 太郎" in result.output
    assert "ヤマダ タロウ" in result.output


def test_a_wrong_pin_from_the_terminal_says_how_many_tries_are_left(
    platform: Platform, cli_env: dict[str, str]
) -> None:
    wrong = CliRunner().invoke(
        app, ["card", "login", platform.card_id, "--pin", "0000"], env=cli_env
    )
    assert wrong.exit_code == 1
    assert "2" in wrong.output
    assert "Traceback" not in wrong.output
    # A right PIN resets the count, so the shared card stays usable for other tests.
    right = CliRunner().invoke(app, ["card", "login", platform.card_id, "--pin", PIN], env=cli_env)
    assert right.exit_code == 0, right.output


def test_an_unreachable_portal_is_explained(platform: Platform, cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app,
        ["card", "login", platform.card_id, "--pin", PIN, "--portal", "http://127.0.0.1:9"],
        env=cli_env,
    )
    assert result.exit_code == 1
    assert "ポータルに接続できませんでした" in result.output
