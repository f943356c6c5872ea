"""PC/SC: APDUs to a card on a physical reader, through pcscd and pyscard.

Optional: ``pip install 'myna[pcsc]'`` brings pyscard, which needs the PC/SC library
(Debian: ``pcscd``, ``libpcsclite1``). Without it, using the transport raises a
localized :class:`~myna.card.domain.CardReaderUnavailableError` that says so.

The connection is exclusive (no other program can send commands between this one's
VERIFY and its signature) and the card is powered down when it closes, so the verified
PIN does not outlive the session.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

from myna.card.domain import PCSC_NOT_INSTALLED, CardReaderUnavailableError, NoCardOnReaderError
from myna.platform.errors import N_
from myna.platform.logging import get_logger

log = get_logger(__name__)

READER_NOT_FOUND = N_(
    "There is no card reader named {reader}. Connected readers: {readers}. Choose one of them."
)
CARD_IN_USE = N_("Another program is using the card. Close it and try again.")


def _pyscard() -> tuple[Any, Any, Any]:
    """pyscard's System, scard and Exceptions modules, imported on first use."""
    try:
        from smartcard import Exceptions, System, scard  # noqa: PLC0415 - an optional extra
    except ImportError as exc:
        raise CardReaderUnavailableError(PCSC_NOT_INSTALLED) from exc
    return System, scard, Exceptions


def reader_names() -> list[str]:
    """The names of the PC/SC readers connected now (``CardReaderUnavailableError`` if none)."""
    system, _scard, _exceptions = _pyscard()
    try:
        readers = system.readers()
    except Exception as exc:  # pyscard raises several unrelated classes for "no service"
        log.debug("card.pcsc_unavailable", error=str(exc))
        raise CardReaderUnavailableError from exc
    if not readers:
        raise CardReaderUnavailableError
    return [str(reader) for reader in readers]


class PcscTransport:
    """APDUs to the card on a PC/SC reader: ``reader_name``, or the first that holds a card."""

    def __init__(self, reader_name: str | None = None) -> None:
        self._reader_name = reader_name
        self._connection: Any = None
        self.reader: str | None = None

    def __repr__(self) -> str:
        return f"PcscTransport({self.reader or self._reader_name!r})"

    def __enter__(self) -> PcscTransport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def connect(self) -> None:
        """Connect (exclusively) to the card on the chosen reader."""
        if self._connection is not None:
            return
        system, scard, exceptions = _pyscard()
        names = reader_names()
        if self._reader_name is not None and self._reader_name not in names:
            raise CardReaderUnavailableError(
                READER_NOT_FOUND, reader=self._reader_name, readers=", ".join(names)
            )
        for reader in system.readers():
            if self._reader_name is not None and str(reader) != self._reader_name:
                continue
            connection = reader.createConnection()
            try:
                connection.connect(mode=scard.SCARD_SHARE_EXCLUSIVE)
            except exceptions.NoCardException:
                connection.release()
                continue
            except exceptions.CardConnectionException as exc:
                connection.release()
                if getattr(exc, "hresult", None) == scard.SCARD_E_SHARING_VIOLATION:
                    raise CardReaderUnavailableError(CARD_IN_USE) from exc
                continue
            self._connection = connection
            self.reader = str(reader)
            log.debug("card.pcsc_connected", reader=self.reader)
            return
        raise NoCardOnReaderError

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU; the response APDU (data, SW1, SW2)."""
        self.connect()
        _system, _scard, exceptions = _pyscard()
        try:
            data, sw1, sw2 = self._connection.transmit(list(apdu))
        except exceptions.CardConnectionException as exc:
            self.close()
            raise NoCardOnReaderError from exc
        return bytes(data) + bytes((sw1, sw2))

    def close(self) -> None:
        """Disconnect (the card is powered down) and release the PC/SC context."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        _system, _scard, exceptions = _pyscard()
        try:
            connection.release()
        except exceptions.CardConnectionException:
            log.debug("card.pcsc_release_failed", reader=self.reader)
