"""`myna card vpcd` keeps a virtual card on vpcd's reader while vpcd is there."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from myna.cli import app
from myna.platform.settings import get_settings
from tests.unit.card.virtual_cards import CARD_SECRET, insert_card, new_chip

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    get_settings.cache_clear()
    yield {
        "MYNA_ENVIRONMENT": "development",
        "MYNA_DATA_DIR": str(tmp_path / "var"),
        "MYNA_CARD_SECRET": CARD_SECRET,
        "MYNA_DEFAULT_LOCALE": "ja",
    }
    get_settings.cache_clear()


def _exchange(connection: socket.socket, message: bytes) -> bytes:
    connection.sendall(len(message).to_bytes(2, "big") + message)
    size = int.from_bytes(connection.recv(2, socket.MSG_WAITALL), "big")
    return connection.recv(size, socket.MSG_WAITALL)


def test_the_card_answers_vpcd_until_vpcd_goes_away(env: dict[str, str], tmp_path: Path) -> None:
    _reader, card_id = insert_card(tmp_path / "var" / "cards", new_chip())
    answers: list[str] = []
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(30)

        def vpcd() -> None:
            connection, _address = server.accept()
            with connection:
                connection.settimeout(30)
                answers.append(_exchange(connection, b"\x04").hex().upper())
                answers.append(
                    _exchange(connection, bytes.fromhex("00A4040C0AD392F000260100000001")).hex()
                )

        driver = threading.Thread(target=vpcd)
        driver.start()
        port = str(server.getsockname()[1])
        result = runner.invoke(app, ["card", "vpcd", card_id, "--port", port], env=env)
        driver.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert answers == ["3BE000FF8131FE4514", "9000"]
    assert "vpcdのカードリーダーに置きました" in result.output
    assert "取り外しました" in result.output


def test_no_vpcd_is_explained(env: dict[str, str], tmp_path: Path) -> None:
    _reader, card_id = insert_card(tmp_path / "var" / "cards", new_chip())
    result = runner.invoke(app, ["card", "vpcd", card_id, "--port", "9"], env=env)
    assert result.exit_code == 1
    assert "127.0.0.1:9 でvpcdが応答しません" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_card_is_not_put_on_the_reader(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["card", "vpcd", "0" * 20, "--port", "9"], env=env)
    assert result.exit_code == 1
    assert "このIDのカードはカードリーダーにありません" in result.output
