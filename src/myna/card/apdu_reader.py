"""A card reader that speaks the JPKI card's APDUs: a physical MyNumber card, or a virtual one.

:class:`ApduCardReader` implements :class:`~myna.card.interfaces.CardReader` with the
commands of :mod:`myna.card.apdu`, sent through any
:class:`~myna.card.interfaces.ApduTransport`: ``PcscTransport`` (``myna.card.pcsc``)
for a card on a PC/SC reader, or a virtual card's ``JpkiChip`` in-process. Like the
JPKI client software, it checks a PIN's format before the PIN reaches the card (a
malformed entry costs no try), lets the card count wrong entries, and turns the card's
status words into the same localized errors the virtual reader raises.

A card read over APDUs has no Myna card id: its id here is the first 10 bytes of the
SHA-256 of its user-authentication certificate, in hex (:func:`card_id_for`).
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from myna.card.apdu import (
    CERTIFICATE_FILES,
    KEY_FILES,
    MAX_SHORT_NE,
    PIN_FILES,
    Command,
    FileId,
    MalformedApduError,
    Response,
    StatusWord,
    compute_digital_signature,
    der_length,
    digest_info,
    read_binary,
    select_application,
    select_file,
    tries_left_in,
    verify,
    verify_status,
)
from myna.card.cms import detached_signed_data
from myna.card.domain import (
    CARD_ANSWER_UNREADABLE,
    CardCommunicationError,
    CardNotFoundError,
    CardSessionExpiredError,
    KeyKind,
    NoCardOnReaderError,
    NotAMyNumberCardError,
    SigningCertificateProtectedError,
    locked_error,
    validate_secret,
    wrong_secret_error,
)
from myna.card.interfaces import ApduTransport, CardSummary
from myna.platform.clock import JST
from myna.platform.logging import get_logger

log = get_logger(__name__)

# The longest certificate EF read: a JPKI certificate is about 1.2-1.8 kB.
_MAX_CERTIFICATE_BYTES = 0x7FFF
# READ BINARY of the first bytes: "30 82 HH LL" gives the certificate's length.
_DER_HEADER_BYTES = 4


def card_id_for(auth_certificate: x509.Certificate) -> str:
    """The id of a card read over APDUs: 20 hex digits of its auth certificate's SHA-256."""
    return hashlib.sha256(auth_certificate.public_bytes(Encoding.DER)).hexdigest()[:20]


def _unexpected(response: Response) -> CardCommunicationError:
    return CardCommunicationError(status=f"{response.sw:04X}")


def _unreadable() -> CardCommunicationError:
    """An answer with a good status word but content that makes no sense."""
    return CardCommunicationError(CARD_ANSWER_UNREADABLE)


class ApduCardSession:
    """An application whose secret the card verified: the card signs, the key stays there."""

    __slots__ = ("_certificate", "_kind", "_reader")

    def __init__(self, reader: ApduCardReader, kind: KeyKind, certificate: x509.Certificate):
        self._reader = reader
        self._kind = kind
        self._certificate = certificate

    def __repr__(self) -> str:
        return f"ApduCardSession(kind={self._kind!s}, serial={self._certificate.serial_number:x})"

    @property
    def certificate(self) -> x509.Certificate:
        """The application's certificate, as read from the card."""
        return self._certificate

    def sign(self, data: bytes) -> bytes:
        """RSASSA-PKCS1-v1_5 with SHA-256 over ``data``: the card signs its DigestInfo."""
        info = digest_info("sha256", hashlib.sha256(data).digest())
        signature = self._reader.compute_signature(self._kind, info)
        public_key = self._certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise _unreadable()
        try:
            # A card that answers with anything but a valid signature is not trusted.
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature as exc:
            raise _unreadable() from exc
        return signature

    def sign_cms(self, content: bytes) -> bytes:
        """A detached CMS SignedData (RFC 5652 §5) over ``content``, DER-encoded."""
        return detached_signed_data(content, self._certificate, self.sign)


class ApduCardReader:
    """A ``CardReader`` over the JPKI AP's APDUs: the one card ``transport`` reaches."""

    def __init__(self, transport: ApduTransport) -> None:
        self._transport = transport

    def __repr__(self) -> str:
        return f"ApduCardReader({self._transport!r})"

    # -- the exchange -----------------------------------------------------------------

    def exchange(self, command: Command) -> Response:
        """Send ``command`` and parse the card's answer."""
        raw = self._transport.transmit(command.to_bytes())
        try:
            return Response.from_bytes(raw)
        except MalformedApduError as exc:
            raise _unreadable() from exc

    def _expect_ok(self, command: Command) -> Response:
        response = self.exchange(command)
        if not response.ok:
            raise _unexpected(response)
        return response

    def _select_application(self) -> None:
        response = self.exchange(select_application())
        if response.sw == StatusWord.FILE_NOT_FOUND:
            raise NotAMyNumberCardError
        if not response.ok:
            raise _unexpected(response)

    def _select(self, file_id: FileId) -> None:
        self._expect_ok(select_file(file_id))

    def _read(self, offset: int, length: int) -> bytes:
        response = self.exchange(read_binary(offset, length))
        if response.sw == StatusWord.SECURITY_NOT_SATISFIED:
            raise SigningCertificateProtectedError
        if response.sw not in (StatusWord.OK, StatusWord.END_OF_FILE) or not response.data:
            raise _unexpected(response)
        return response.data

    def _read_certificate_file(self, kind: KeyKind) -> x509.Certificate:
        """The certificate EF of ``kind``: its DER header, then the rest in ≤256-byte reads."""
        self._select(CERTIFICATE_FILES[kind])
        content = bytearray(self._read(0, _DER_HEADER_BYTES))
        try:
            total = der_length(bytes(content))
        except ValueError as exc:
            raise _unreadable() from exc
        if total > _MAX_CERTIFICATE_BYTES:
            raise _unreadable()
        while len(content) < total:
            content += self._read(len(content), min(MAX_SHORT_NE, total - len(content)))
        try:
            return x509.load_der_x509_certificate(bytes(content[:total]))
        except ValueError as exc:
            raise _unreadable() from exc

    def _pin_state(self, kind: KeyKind) -> tuple[bool, int]:
        """(locked, tries left) of ``kind``'s secret: VERIFY without data costs no try."""
        self._select(PIN_FILES[kind])
        response = self.exchange(verify_status())
        if response.sw == StatusWord.BLOCKED:
            return True, 0
        remaining = tries_left_in(response.sw)
        if remaining is None:
            raise _unexpected(response)
        return remaining == 0, remaining

    def _card(self, card_id: str) -> x509.Certificate:
        """Select the JPKI AP of the card ``card_id``; its user-authentication certificate."""
        self._select_application()
        auth = self._read_certificate_file(KeyKind.AUTH)
        if card_id_for(auth) != card_id:
            raise CardNotFoundError
        return auth

    # -- the CardReader port ----------------------------------------------------------

    def current_card_id(self) -> str:
        """The id of the card on the reader (``NoCardOnReaderError`` if there is none)."""
        self._select_application()
        return card_id_for(self._read_certificate_file(KeyKind.AUTH))

    def list_cards(self) -> list[CardSummary]:
        """The card on the reader, if it is a MyNumber card; else nothing."""
        try:
            self._select_application()
            auth = self._read_certificate_file(KeyKind.AUTH)
        except (NoCardOnReaderError, NotAMyNumberCardError) as error:
            log.debug("card.apdu_reader_empty", reason=error.code)
            return []
        auth_locked, auth_left = self._pin_state(KeyKind.AUTH)
        sign_locked, sign_left = self._pin_state(KeyKind.SIGN)
        not_after = auth.not_valid_after_utc
        return [
            CardSummary(
                card_id=card_id_for(auth),
                holder_name="",
                municipality="",
                expires_on=not_after.astimezone(JST).date(),
                auth_not_after=not_after,
                sign_not_after=None,
                auth_locked=auth_locked,
                sign_locked=sign_locked,
                auth_tries_left=auth_left,
                sign_tries_left=sign_left,
            )
        ]

    def read_certificate(self, card_id: str, kind: str) -> x509.Certificate:
        """The certificate of ``kind``; a physical card shows "sign" only after its password."""
        key_kind = KeyKind(kind)
        auth = self._card(card_id)
        if key_kind is KeyKind.AUTH:
            return auth
        return self._read_certificate_file(key_kind)

    def open_session(self, card_id: str, kind: str, secret: str) -> ApduCardSession:
        """VERIFY ``secret`` on the card (which counts a wrong one) and open a session.

        The order is the virtual reader's: a locked secret refuses first, then a malformed
        entry is refused here without reaching the card, then the card verifies.
        """
        key_kind = KeyKind(kind)
        auth = self._card(card_id)
        locked, _remaining = self._pin_state(key_kind)
        if locked:
            raise locked_error(key_kind)
        validate_secret(key_kind, secret)
        response = self.exchange(verify(secret.encode("ascii")))
        if response.sw == StatusWord.BLOCKED:
            raise locked_error(key_kind)
        remaining = tries_left_in(response.sw)
        if remaining is not None:
            log.info("card.wrong_pin", card_id=card_id, kind=str(key_kind))
            if remaining == 0:
                raise locked_error(key_kind)
            raise wrong_secret_error(key_kind, remaining)
        if not response.ok:
            raise _unexpected(response)
        certificate = auth if key_kind is KeyKind.AUTH else self._read_certificate_file(key_kind)
        return ApduCardSession(self, key_kind, certificate)

    def sign(self, card_id: str, kind: str, secret: str, data: bytes) -> bytes:
        """Open a session with ``secret`` and sign ``data`` (PKCS#1 v1.5, SHA-256)."""
        return self.open_session(card_id, kind, secret).sign(data)

    def compute_signature(self, kind: KeyKind, info: bytes) -> bytes:
        """COMPUTE DIGITAL SIGNATURE over the DigestInfo ``info`` with ``kind``'s key.

        The AP is selected again first (which keeps the verified PIN), so a card that
        was reset in between answers "not verified" rather than "no such file".
        """
        self._select_application()
        self._select(KEY_FILES[kind])
        response = self.exchange(compute_digital_signature(info))
        if response.sw == StatusWord.SECURITY_NOT_SATISFIED:
            raise CardSessionExpiredError
        if not response.ok or not response.data:
            raise _unexpected(response)
        return response.data
