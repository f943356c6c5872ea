"""`myna card login` chooses its reader: Myna's virtual cards, or a card on PC/SC."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from myna.cli import app
from myna.platform.settings import get_settings

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    get_settings.cache_clear()
    yield {
        "MYNA_ENVIRONMENT": "development",
        "MYNA_DATA_DIR": str(tmp_path / "var"),
        "MYNA_PORTAL_URL": "http://127.0.0.1:9",
        "MYNA_DEFAULT_LOCALE": "ja",
    }
    get_settings.cache_clear()


def test_the_virtual_reader_needs_the_card_id(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["card", "login", "--pin", "1234"], env=env)
    assert result.exit_code == 1
    assert "ログインに使うカードを指定してください" in result.output
    assert "Traceback" not in result.output


def test_an_absent_pcsc_reader_is_explained(env: dict[str, str]) -> None:
    result = runner.invoke(
        app,
        ["card", "login", "--reader", "pcsc", "--pcsc-reader", "No Such Reader 00 00"],
        input="1234\n",
        env=env,
    )
    assert result.exit_code == 1
    # pcscd down, pyscard missing, or no reader of that name: each says so.
    assert "カードリーダー" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_reader_kind_is_refused(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["card", "login", "x", "--reader", "nfc", "--pin", "1"], env=env)
    assert result.exit_code == 2
