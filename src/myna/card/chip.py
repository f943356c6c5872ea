"""The virtual card's chip: its JPKI application answering APDUs, bytes in and bytes out.

:class:`JpkiChip` makes one virtual card (a card file read by
:class:`~myna.card.virtual.VirtualCardReader`) answer the JPKI card's commands
(:mod:`myna.card.apdu`, listed in ``docs/card-format.md``): SELECT FILE, READ BINARY,
VERIFY and COMPUTE DIGITAL SIGNATURE. It keeps only what a chip keeps between two
commands — whether the JPKI AP is selected, the current EF, which secrets are verified —
and leaves the try counters to the card file: every VERIFY goes through
``VirtualCardReader.open_session``, so a wrong PIN sent as an APDU costs a try exactly
as one typed into the Python API, under the same lock, and a lock set by either is
seen by both.

A chip is also an :class:`~myna.card.interfaces.ApduTransport`: ``ApduCardReader(chip)``
talks to it in-process; :mod:`myna.card.vpcd` puts it behind PC/SC.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from myna.card.apdu import (
    CERTIFICATE_FILES,
    CLA_ISO,
    CLA_PROPRIETARY,
    JPKI_AID,
    JPKI_ATR,
    KEY_FILES,
    PIN_FILES,
    SELECT_BY_DF_NAME,
    SELECT_BY_FILE_ID,
    SELECT_NO_RESPONSE,
    SIGN_P1,
    SIGN_P2,
    VERIFY_P2_LOCAL,
    Command,
    FileId,
    Ins,
    MalformedApduError,
    Response,
    StatusWord,
    parse_digest_info,
    tries_left,
)
from myna.card.domain import (
    SECRET_LENGTHS,
    CardDamagedError,
    CardLockedError,
    CardNotFoundError,
    InvalidPinFormatError,
    KeyKind,
    WrongPinError,
)
from myna.card.virtual import VirtualCardReader, VirtualCardSession
from myna.platform.logging import get_logger

log = get_logger(__name__)

# EMSA-PKCS1-v1_5 needs 11 bytes besides the DigestInfo (RFC 8017 §9.2, step 3).
_PKCS1_OVERHEAD = 11
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


# The card file holds no CA certificates (the CAs publish theirs at /jpki/ca/): their
# EFs are not found.
_MODELLED_FILES = frozenset(FileId) - {FileId.AUTH_CA_CERT, FileId.SIGN_CA_CERT}


def _kind_of(files: dict[KeyKind, FileId], current: FileId) -> KeyKind | None:
    return next((kind for kind, file_id in files.items() if file_id == current), None)


class _RefusedError(Exception):
    """A command the chip refuses with the status word ``sw`` (and no data)."""

    def __init__(self, sw: int) -> None:
        super().__init__(f"{sw:04X}")
        self.sw = sw


def _require(condition: bool, sw: int) -> None:
    """Refuse with ``sw`` unless ``condition`` holds: the checks read in the spec's order."""
    if not condition:
        raise _RefusedError(sw)


def _ok(data: bytes = b"") -> Response:
    return Response(data, StatusWord.OK)


class JpkiChip:
    """The JPKI AP of the virtual card ``card_id`` in ``reader``, answering APDUs."""

    atr = JPKI_ATR

    def __init__(self, reader: VirtualCardReader, card_id: str) -> None:
        self._reader = reader
        self._card_id = card_id
        self._application_selected = False
        self._current: FileId | None = None
        self._verified: dict[KeyKind, VirtualCardSession] = {}
        # One command at a time, as on a chip, whichever thread the reader answers from.
        self._lock = threading.Lock()
        self._handlers: dict[int, tuple[int, Callable[[Command], Response]]] = {
            Ins.SELECT_FILE: (CLA_ISO, self._select_file),
            Ins.READ_BINARY: (CLA_ISO, self._read_binary),
            Ins.VERIFY: (CLA_ISO, self._verify),
            Ins.COMPUTE_DIGITAL_SIGNATURE: (CLA_PROPRIETARY, self._compute_signature),
        }

    def __repr__(self) -> str:
        return f"JpkiChip(card_id={self._card_id!r})"

    @property
    def card_id(self) -> str:
        """The virtual card this chip belongs to."""
        return self._card_id

    # -- power ------------------------------------------------------------------------

    def power_on(self) -> None:
        """Power applied: nothing selected, nothing verified."""
        self._clear()

    def power_off(self) -> None:
        """Power removed: the verified secrets are forgotten."""
        self._clear()

    def reset(self) -> bytes:
        """A warm reset: the chip starts over and answers its ATR."""
        self._clear()
        return self.atr

    def _clear(self) -> None:
        with self._lock:
            self._application_selected = False
            self._current = None
            self._verified.clear()

    # -- commands ---------------------------------------------------------------------

    def transmit(self, apdu: bytes) -> bytes:
        """Process one command APDU and return the response APDU (data, SW1, SW2)."""
        try:
            command = Command.from_bytes(apdu)
        except MalformedApduError:
            return Response.status(StatusWord.WRONG_LENGTH).to_bytes()
        with self._lock:
            return self._process(command).to_bytes()

    def _process(self, command: Command) -> Response:
        """Process a parsed command: CLA first, then INS, then the command's own checks."""
        try:
            _require(command.cla in (CLA_ISO, CLA_PROPRIETARY), StatusWord.CLA_NOT_SUPPORTED)
            handler = self._handlers.get(command.ins)
            if handler is None:
                raise _RefusedError(StatusWord.INS_NOT_SUPPORTED)
            cla, method = handler
            _require(command.cla == cla, StatusWord.CLA_NOT_SUPPORTED)
            return method(command)
        except _RefusedError as refusal:
            return Response.status(refusal.sw)
        except (CardDamagedError, CardNotFoundError):
            # The card file is gone or fails its MAC: the chip's memory failed.
            log.warning("card.chip_memory_failure", card_id=self._card_id)
            return Response.status(StatusWord.MEMORY_FAILURE)

    def _current_file(self, files: dict[KeyKind, FileId]) -> KeyKind:
        """The kind of the current EF, which must be one of ``files``."""
        if self._current is None:
            raise _RefusedError(StatusWord.NO_CURRENT_EF)
        kind = _kind_of(files, self._current)
        if kind is None:
            raise _RefusedError(StatusWord.INCOMPATIBLE_FILE)
        return kind

    def _select_file(self, command: Command) -> Response:
        """SELECT FILE (ISO/IEC 7816-4 §11.2.2): the JPKI AP by AID, or one of its EFs."""
        _require(
            command.p1 in (SELECT_BY_DF_NAME, SELECT_BY_FILE_ID)
            and command.p2 == SELECT_NO_RESPONSE,
            StatusWord.WRONG_P1_P2,
        )
        _require(bool(command.data) and command.ne is None, StatusWord.WRONG_LENGTH)
        if command.p1 == SELECT_BY_DF_NAME:
            _require(command.data == JPKI_AID, StatusWord.FILE_NOT_FOUND)
            # The AP is the card's only DF: selecting it again keeps what is verified.
            self._application_selected = True
            self._current = None
            return _ok()
        _require(len(command.data) == 2, StatusWord.WRONG_LENGTH)
        _require(self._application_selected, StatusWord.FILE_NOT_FOUND)
        number = int.from_bytes(command.data, "big")
        _require(number in _MODELLED_FILES, StatusWord.FILE_NOT_FOUND)
        self._current = FileId(number)
        return _ok()

    def _read_binary(self, command: Command) -> Response:
        """READ BINARY (ISO/IEC 7816-4 §11.3.3) of a certificate EF, from a 15-bit offset."""
        # P1 bit 8 would name a short EF identifier: this card reads the current EF only.
        _require(not command.p1 & 0x80, StatusWord.FUNCTION_NOT_SUPPORTED)
        if command.data or command.ne is None:
            raise _RefusedError(StatusWord.WRONG_LENGTH)
        kind = self._current_file(CERTIFICATE_FILES)
        # The signing certificate carries the basic 4 info: a card shows it only after
        # the signing password.
        _require(kind is KeyKind.AUTH or kind in self._verified, StatusWord.SECURITY_NOT_SATISFIED)
        content = self._reader.read_certificate(self._card_id, kind).public_bytes(Encoding.DER)
        offset = (command.p1 << 8) | command.p2
        _require(offset < len(content), StatusWord.WRONG_OFFSET)
        chunk = content[offset : offset + command.ne]
        if len(chunk) < command.ne:
            return Response(chunk, StatusWord.END_OF_FILE)
        return _ok(chunk)

    def _verify(self, command: Command) -> Response:
        """VERIFY (ISO/IEC 7816-4 §11.5.6) of the current PIN EF, or its tries left."""
        _require(command.p1 == 0x00 and command.p2 == VERIFY_P2_LOCAL, StatusWord.WRONG_P1_P2)
        _require(command.ne is None, StatusWord.WRONG_LENGTH)
        kind = self._current_file(PIN_FILES)
        summary = self._reader.summary(self._card_id)
        locked, remaining = (
            (summary.auth_locked, summary.auth_tries_left)
            if kind is KeyKind.AUTH
            else (summary.sign_locked, summary.sign_tries_left)
        )
        _require(not locked, StatusWord.BLOCKED)
        # Without a PIN, VERIFY answers the tries left; OpenSC's driver reads them so.
        _require(bool(command.data), tries_left(remaining))
        shortest, longest = SECRET_LENGTHS[kind]
        _require(shortest <= len(command.data) <= longest, StatusWord.WRONG_LENGTH)
        _require(command.data.isascii(), StatusWord.WRONG_DATA)
        # A failed VERIFY forgets an earlier success of the same secret.
        self._verified.pop(kind, None)
        try:
            session = self._reader.open_session(self._card_id, kind, command.data.decode())
        except InvalidPinFormatError:
            raise _RefusedError(StatusWord.WRONG_DATA) from None  # as in Python: no try spent
        except WrongPinError as wrong:
            raise _RefusedError(tries_left(wrong.remaining)) from None
        except CardLockedError:
            raise _RefusedError(tries_left(0)) from None  # this very try locked it
        self._verified[kind] = session
        return _ok()

    def _compute_signature(self, command: Command) -> Response:
        """COMPUTE DIGITAL SIGNATURE (JPKI, ``80 2A 00 80``) over a DigestInfo."""
        _require(command.p1 == SIGN_P1 and command.p2 == SIGN_P2, StatusWord.WRONG_P1_P2)
        _require(bool(command.data) and command.ne is not None, StatusWord.WRONG_LENGTH)
        kind = self._current_file(KEY_FILES)
        session = self._verified.get(kind)
        if session is None:
            raise _RefusedError(StatusWord.SECURITY_NOT_SATISFIED)
        modulus_bytes = session.key_size // 8
        _require(
            len(command.data) <= modulus_bytes - _PKCS1_OVERHEAD
            and (command.ne or 0) >= modulus_bytes,
            StatusWord.WRONG_LENGTH,
        )
        parsed = parse_digest_info(command.data)
        if parsed is None:
            raise _RefusedError(StatusWord.WRONG_DATA)
        algorithm, digest = parsed
        return _ok(session.sign_digest(digest, _HASHES[algorithm]()))
