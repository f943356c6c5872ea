"""The card reader port: what the portal and the CLI need from any MyNumber card.

The virtual reader (``myna.card.virtual``) implements it over card files; a physical
card over PC/SC (JPKI AP, ISO/IEC 7816-4 APDUs) or the phone credential (スマホ用電子証明書)
can implement the same Protocol later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from cryptography import x509


@dataclass(frozen=True, slots=True)
class CardSummary:
    """What a reader may tell anyone about a card: no secrets, no keys."""

    card_id: str
    holder_name: str
    municipality: str
    expires_on: date
    auth_not_after: datetime
    sign_not_after: datetime
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
