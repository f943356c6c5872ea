"""The MyNumber card (マイナンバーカード): the chip, its reader, issuance and the card CLI.

Other contexts import only from here. The portal talks to cards through the
:class:`CardReader` port; :class:`VirtualCardReader` is the software card.
"""

from myna.card.domain import (
    TRY_LIMITS,
    CardDamagedError,
    CardLockedError,
    CardNotFoundError,
    CardSurface,
    InvalidPinFormatError,
    KeyKind,
    ResidentNotEligibleError,
    WrongPinError,
    validate_secret,
)
from myna.card.interfaces import CardReader, CardSession, CardSummary
from myna.card.service import issue_card, report_lost, reset_pin
from myna.card.virtual import VirtualCard, VirtualCardReader, VirtualCardSession

__all__ = [
    "TRY_LIMITS",
    "CardDamagedError",
    "CardLockedError",
    "CardNotFoundError",
    "CardReader",
    "CardSession",
    "CardSummary",
    "CardSurface",
    "InvalidPinFormatError",
    "KeyKind",
    "ResidentNotEligibleError",
    "VirtualCard",
    "VirtualCardReader",
    "VirtualCardSession",
    "WrongPinError",
    "issue_card",
    "report_lost",
    "reset_pin",
    "validate_secret",
]
