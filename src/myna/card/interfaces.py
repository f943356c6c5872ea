"""The card reader port: what the portal and the CLI need from any MyNumber card.

The virtual reader (``myna.card.virtual``) implements it over card files; the APDU
reader (``myna.card.apdu_reader``) over the JPKI AP's ISO/IEC 7816-4 APDUs, sent through
an :class:`ApduTransport` (PC/SC for a physical card, or a virtual card's chip
in-process). The phone credential (スマホ用電子証明書) can implement the same Protocol later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from cryptography import x509


@dataclass(frozen=True, slots=True)
class CardSummary:
    """What a reader may tell anyone about a card: no secrets, no keys.

    A card read over APDUs tells only what its JPKI AP shows without a PIN: no holder
    name or municipality (empty), ``expires_on`` is the user-authentication
    certificate's last day (JST) and ``sign_not_after`` is None (the signing
    certificate is shown only after the signing password).
    """

    card_id: str
    holder_name: str
    municipality: str
    expires_on: date
    auth_not_after: datetime
    sign_not_after: datetime | None
    auth_locked: bool
    sign_locked: bool
    auth_tries_left: int
    sign_tries_left: int


class CardSession(Protocol):
    """One application of a card after its PIN or password was verified.

    Like a real card, the PIN is checked once when the session opens; the private key
    stays on the card and only signatures come out.
    """

    @property
    def certificate(self) -> x509.Certificate:
        """The application's certificate."""
        ...

    def sign(self, data: bytes) -> bytes:
        """An RSASSA-PKCS1-v1_5 signature with SHA-256 (RFC 8017 §8.2) over ``data``."""
        ...

    def sign_cms(self, content: bytes) -> bytes:
        """A detached CMS SignedData (RFC 5652 §5) over ``content``, DER-encoded."""
        ...


class CardReader(Protocol):
    """A reader with zero or more MyNumber cards in it."""

    def list_cards(self) -> list[CardSummary]:
        """Every usable card in the reader."""
        ...

    def read_certificate(self, card_id: str, kind: str) -> x509.Certificate:
        """The certificate of ``kind`` ("auth" or "sign"); no PIN needed."""
        ...

    def open_session(self, card_id: str, kind: str, secret: str) -> CardSession:
        """Verify ``secret`` for ``kind`` (updating the try counter) and open a session."""
        ...

    def sign(self, card_id: str, kind: str, secret: str, data: bytes) -> bytes:
        """Open a session with ``secret`` and sign ``data`` (PKCS#1 v1.5, SHA-256)."""
        ...


class ApduTransport(Protocol):
    """Something that carries command APDUs to a card and brings back its answers.

    PC/SC (``myna.card.pcsc``) for a card on a physical reader; a virtual card's chip
    (``myna.card.chip.JpkiChip``) in-process.
    """

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU; the response APDU (data, SW1, SW2)."""
        ...
