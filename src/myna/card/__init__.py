"""The MyNumber card (マイナンバーカード): the chip, its reader, issuance and the card CLI.

Other contexts import only from here. The portal talks to cards through the
:class:`CardReader` port; :class:`VirtualCardReader` is the software card, and
:class:`ApduCardReader` speaks the JPKI card's APDUs through an :class:`ApduTransport`:
:class:`PcscTransport` for a card on a PC/SC reader, a virtual card's :class:`JpkiChip`
in-process (or on vpcd's reader with :class:`VpcdCard`).
"""

from myna.card.apdu_reader import ApduCardReader, ApduCardSession, card_id_for
from myna.card.chip import JpkiChip
from myna.card.domain import (
    TRY_LIMITS,
    CardCommunicationError,
    CardDamagedError,
    CardLockedError,
    CardNotFoundError,
    CardReaderUnavailableError,
    CardSessionExpiredError,
    CardSurface,
    InvalidPinFormatError,
    KeyKind,
    NoCardOnReaderError,
    NotAMyNumberCardError,
    OtherMunicipalityCardError,
    ReissueNotEligibleError,
    ResidentNotEligibleError,
    SigningCertificateProtectedError,
    WrongPinError,
    validate_secret,
)
from myna.card.interfaces import ApduTransport, CardReader, CardSession, CardSummary
from myna.card.pcsc import PcscTransport
from myna.card.service import issue_card, reissue_signing, report_lost, reset_pin
from myna.card.virtual import VirtualCard, VirtualCardReader, VirtualCardSession
from myna.card.vpcd import VpcdCard

__all__ = [
    "TRY_LIMITS",
    "ApduCardReader",
    "ApduCardSession",
    "ApduTransport",
    "CardCommunicationError",
    "CardDamagedError",
    "CardLockedError",
    "CardNotFoundError",
    "CardReader",
    "CardReaderUnavailableError",
    "CardSession",
    "CardSessionExpiredError",
    "CardSummary",
    "CardSurface",
    "InvalidPinFormatError",
    "JpkiChip",
    "KeyKind",
    "NoCardOnReaderError",
    "NotAMyNumberCardError",
    "OtherMunicipalityCardError",
    "PcscTransport",
    "ReissueNotEligibleError",
    "ResidentNotEligibleError",
    "SigningCertificateProtectedError",
    "VirtualCard",
    "VirtualCardReader",
    "VirtualCardSession",
    "VpcdCard",
    "WrongPinError",
    "card_id_for",
    "issue_card",
    "reissue_signing",
    "report_lost",
    "reset_pin",
    "validate_secret",
]
