"""A virtual card on a PC/SC reader: Myna's chip plugged into vsmartcard's ``vpcd``.

``vpcd`` (Debian: ``vsmartcard-vpcd``) is a PC/SC reader driver that pcscd loads; it
waits on TCP port 35963 for a virtual card ("vicc") to connect. While the vicc is
connected a card is on the reader, and every program on the machine (pyscard, OpenSC,
``myna card login --reader pcsc``) talks to it as to a physical card.

The vicc protocol: each message, both ways, is its length on 2 bytes (big-endian)
followed by the message. From vpcd, a 1-byte message is a control byte — ``00`` power
off, ``01`` power on, ``02`` reset (none is answered), ``04`` "your ATR" (answered with
the ATR); any longer message is a command APDU, answered with the response APDU.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from typing import Protocol

from myna.platform.logging import get_logger

log = get_logger(__name__)

VPCD_HOST = "127.0.0.1"
VPCD_PORT = 35963

POWER_OFF = 0x00
POWER_ON = 0x01
RESET = 0x02
GET_ATR = 0x04

_LENGTH_BYTES = 2


class VirtualChip(Protocol):
    """What vpcd needs from a card: power, reset, an ATR and APDUs (``JpkiChip`` is one)."""

    @property
    def atr(self) -> bytes:
        """The answer-to-reset."""
        ...

    def power_on(self) -> None:
        """Power applied."""
        ...

    def power_off(self) -> None:
        """Power removed."""
        ...

    def reset(self) -> bytes:
        """A warm reset; the ATR."""
        ...

    def transmit(self, apdu: bytes) -> bytes:
        """One command APDU in, its response APDU out."""
        ...


def _receive_exactly(connection: socket.socket, size: int) -> bytes | None:
    """``size`` bytes, or None once the peer has closed the connection."""
    received = bytearray()
    while len(received) < size:
        chunk = connection.recv(size - len(received))
        if not chunk:
            return None
        received += chunk
    return bytes(received)


def _send(connection: socket.socket, message: bytes) -> None:
    connection.sendall(len(message).to_bytes(_LENGTH_BYTES, "big") + message)


def serve(connection: socket.socket, chip: VirtualChip) -> None:
    """Answer vpcd on ``connection`` until it closes: the card is on the reader meanwhile."""
    while True:
        header = _receive_exactly(connection, _LENGTH_BYTES)
        if header is None:
            return
        message = _receive_exactly(connection, int.from_bytes(header, "big"))
        if message is None:
            return
        if len(message) == 1:
            control = message[0]
            if control == GET_ATR:
                _send(connection, chip.atr)
            elif control == POWER_ON:
                chip.power_on()
            elif control == POWER_OFF:
                chip.power_off()
            elif control == RESET:
                chip.reset()
            else:
                log.warning("card.vpcd_unknown_control", control=control)
            continue
        _send(connection, chip.transmit(message))


class VpcdCard:
    """``chip`` on vpcd's reader, from :meth:`insert` until :meth:`remove`.

    ``with VpcdCard(chip): ...`` puts the card on the reader for the block; the
    answering runs in a background thread.
    """

    def __init__(
        self,
        chip: VirtualChip,
        *,
        host: str = VPCD_HOST,
        port: int = VPCD_PORT,
        timeout: float = 10.0,
    ) -> None:
        self._chip = chip
        self._address = (host, port)
        self._timeout = timeout
        self._connection: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"VpcdCard({self._chip!r}, {self._address[0]}:{self._address[1]})"

    def __enter__(self) -> VpcdCard:
        self.insert()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.remove()

    def insert(self) -> None:
        """Connect to vpcd (the card is placed on the reader) and answer in the background."""
        connection = socket.create_connection(self._address, timeout=self._timeout)
        connection.settimeout(None)  # vpcd polls the ATR: a quiet card is not a dead one
        self._connection = connection
        self._thread = threading.Thread(
            target=self._serve, args=(connection,), name="vpcd-card", daemon=True
        )
        self._thread.start()
        log.info("card.vpcd_inserted", host=self._address[0], port=self._address[1])

    def _serve(self, connection: socket.socket) -> None:
        with contextlib.suppress(OSError):  # the connection closed under the loop
            serve(connection, self._chip)

    def wait(self) -> None:
        """Block until vpcd closes the connection (pcscd stopped)."""
        if self._thread is not None:
            self._thread.join()

    def remove(self) -> None:
        """Disconnect from vpcd: the card is taken off the reader."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()
        if self._thread is not None:
            self._thread.join(timeout=self._timeout)
            self._thread = None
        log.info("card.vpcd_removed")
