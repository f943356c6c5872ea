"""The vicc side of vpcd's protocol: length-prefixed control bytes and APDUs."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from myna.card import vpcd
from myna.card.chip import JpkiChip
from tests.unit.card.virtual_cards import PIN, insert_card, new_chip


class Vpcd:
    """vpcd's end of the connection, as the driver inside pcscd speaks it."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection

    def send(self, message: bytes) -> None:
        self.connection.sendall(len(message).to_bytes(2, "big") + message)

    def receive(self) -> bytes:
        size = int.from_bytes(self._exactly(2), "big")
        return self._exactly(size)

    def _exactly(self, size: int) -> bytes:
        received = b""
        while len(received) < size:
            chunk = self.connection.recv(size - len(received))
            assert chunk, "the virtual card hung up"
            received += chunk
        return received

    def ask(self, apdu: str) -> str:
        self.send(bytes.fromhex(apdu))
        return self.receive().hex().upper()


@pytest.fixture
def plugged(tmp_path: Path) -> Iterator[Vpcd]:
    reader, card_id = insert_card(tmp_path / "cards", new_chip())
    ours, theirs = socket.socketpair()
    ours.settimeout(30)
    serving = threading.Thread(target=vpcd.serve, args=(theirs, JpkiChip(reader, card_id)))
    serving.start()
    yield Vpcd(ours)
    ours.close()
    serving.join(timeout=30)
    assert not serving.is_alive(), "serve() did not return when vpcd hung up"
    theirs.close()


def test_the_card_answers_vpcds_atr_request(plugged: Vpcd) -> None:
    plugged.send(bytes((vpcd.GET_ATR,)))
    assert plugged.receive().hex().upper() == "3BE000FF8131FE4514"


def test_apdus_are_answered_and_power_off_forgets_the_pin(plugged: Vpcd) -> None:
    plugged.send(bytes((vpcd.POWER_ON,)))  # no answer to power control
    assert plugged.ask("00A4040C0AD392F000260100000001") == "9000"
    assert plugged.ask("00A4020C020018") == "9000"
    assert plugged.ask("0020008004" + PIN.encode().hex()) == "9000"
    assert plugged.ask("00A4020C020017") == "9000"
    sign = "802A008033" + "3031300D060960864801650304020105000420" + "11" * 32 + "00"
    assert plugged.ask(sign).endswith("9000")
    plugged.send(bytes((vpcd.POWER_OFF,)))
    plugged.send(bytes((vpcd.POWER_ON,)))
    assert plugged.ask("00A4040C0AD392F000260100000001") == "9000"
    assert plugged.ask("00A4020C020017") == "9000"
    assert plugged.ask(sign) == "6982"


def test_a_reset_also_forgets_the_pin(plugged: Vpcd) -> None:
    plugged.ask("00A4040C0AD392F000260100000001")
    plugged.ask("00A4020C020018")
    assert plugged.ask("0020008004" + PIN.encode().hex()) == "9000"
    plugged.send(bytes((vpcd.RESET,)))
    plugged.send(bytes((vpcd.GET_ATR,)))
    assert plugged.receive().hex().upper() == "3BE000FF8131FE4514"
    assert plugged.ask("00A4020C020018") == "6A82"  # nothing selected after the reset


def test_a_vpcd_card_is_on_the_reader_from_insert_to_remove(tmp_path: Path) -> None:
    reader, card_id = insert_card(tmp_path / "cards", new_chip())
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(30)
        card = vpcd.VpcdCard(JpkiChip(reader, card_id), port=server.getsockname()[1])
        card.insert()
        connection, _address = server.accept()
        with connection:
            connection.settimeout(30)
            driver = Vpcd(connection)
            driver.send(bytes((vpcd.GET_ATR,)))
            assert driver.receive().hex().upper() == "3BE000FF8131FE4514"
            card.remove()
            assert connection.recv(1) == b""  # the card left the reader
