"""The card at municipal counters (市民カード化): pure rules, no I/O.

A resident is known at a counter by the user-authentication certificate
(利用者証明用電子証明書) of their card, proven with the PIN or — at a shelter — by a
staff member comparing the face with the card. What the counter keeps is not the
certificate: a card is re-issued (lost, broken, expired) and its certificate serial
changes, while a library card number (利用者番号) must survive that. So each service
of each municipality knows the resident by a *holder pseudonym*: an HMAC, under a key
only the municipality's system holds, of the service, the municipality and the
registry's internal resident id. It is stable across card re-issues, certificate
renewals, a change of name and moves, different for every service and municipality
(two services cannot join their records on it), and it never contains the MyNumber
or the certificate serial.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from myna.platform.errors import N_, MynaError, NotFoundError

# How many books a patron may hold at once, and for how long (貸出冊数と貸出期間).
LOAN_LIMIT = 5
LOAN_DAYS = 14
# How long an identification at a shelter's counter waits for the household choice.
PRESENTATION_SECONDS = 300
PSEUDONYM_INFO = b"myna counters holder pseudonym v1"


class Service(StrEnum):
    """A municipal service that knows residents by their card (市民カード化)."""

    LIBRARY = "library"
    SHELTER = "shelter"


class Method(StrEnum):
    """How the resident was identified at the counter."""

    PIN = "pin"  # the card signed a challenge after the 4-digit PIN
    FACE = "face"  # a staff member confirmed the face against the card (PIN-less)
    HOUSEHOLD = "household"  # checked in together with the member who presented the card
    NONE = "none"  # no card needed (a book returned at the desk)


class Action(StrEnum):
    """A use of the card, as the resident's 利用履歴 lists it."""

    LIBRARY_REGISTERED = "library_registered"
    BOOK_LENT = "book_lent"
    BOOK_RETURNED = "book_returned"
    SHELTER_CHECKED_IN = "shelter_checked_in"
    SHELTER_CHECKED_OUT = "shelter_checked_out"


ACTION_LABELS: dict[Action, str] = {
    Action.LIBRARY_REGISTERED: N_("Library registration"),
    Action.BOOK_LENT: N_("Book borrowed"),
    Action.BOOK_RETURNED: N_("Book returned"),
    Action.SHELTER_CHECKED_IN: N_("Shelter check-in"),
    Action.SHELTER_CHECKED_OUT: N_("Shelter check-out"),
}

METHOD_LABELS: dict[Method, str] = {
    Method.PIN: N_("Card and PIN"),
    Method.FACE: N_("Card and face confirmed by staff"),
    Method.HOUSEHOLD: N_("With a household member's card"),
    Method.NONE: N_("At the desk"),
}


def holder_pseudonym(
    key: bytes, *, service: Service, municipality_code: str, resident_id: int
) -> str:
    """The pseudonym by which ``service`` of ``municipality_code`` knows a resident.

    HMAC-SHA-256 (RFC 2104) over ``service|municipality|resident id``, 32 hex digits.
    """
    message = f"{service.value}|{municipality_code}|{resident_id}".encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def due_date(lent_on: date) -> date:
    """The day a book lent on ``lent_on`` (Japan's calendar day) is due back."""
    return lent_on + timedelta(days=LOAN_DAYS)


def is_overdue(due_on: date, today: date) -> bool:
    """Whether a loan due on ``due_on`` is late on ``today`` (the due day itself is not)."""
    return due_on < today


def patron_number(municipality_code: str, patron_id: int) -> str:
    """The library card number shown to the patron and the staff (利用者番号)."""
    return f"{municipality_code[:5]}-{patron_id:07d}"


@dataclass(frozen=True, slots=True)
class LoanCheck:
    """What the desk knows about a patron when a book is asked for."""

    held: int
    overdue: int


def check_may_borrow(check: LoanCheck) -> None:
    """Refuse a loan to a patron with an overdue book, or at the limit."""
    if check.overdue:
        raise OverdueLoansError(count=check.overdue)
    if check.held >= LOAN_LIMIT:
        raise LoanLimitError(limit=LOAN_LIMIT)


# --- errors ------------------------------------------------------------------------------


class CounterError(MynaError, code="counter_refused"):
    """A counter's step that cannot go on."""

    message = N_("The counter could not complete this step. Please try again.")


class NoFacilityError(NotFoundError, code="counter_no_facility"):
    message = N_("Your municipality has no such library or shelter set up at this counter.")


class CardNotOnReaderError(CounterError, code="counter_card_not_on_reader"):
    message = N_("Choose the card that is on the reader.")


class HolderNotResidentError(CounterError, code="counter_holder_not_resident"):
    message = N_(
        "The card's holder is not a current resident in the registry. The card cannot be "
        "used at this counter."
    )


class OutsideResidentError(CounterError, code="counter_outside_resident", status_code=403):
    message = N_(
        "The card's holder lives in another municipality, and this library registers only "
        "residents of {municipality}."
    )


class AlreadyRegisteredError(CounterError, code="counter_already_registered", status_code=409):
    message = N_("The resident is already registered at this library (card number {number}).")


class NotRegisteredError(CounterError, code="counter_not_registered", status_code=404):
    message = N_(
        "The card's holder is not registered at this library. Register them first (利用登録)."
    )


class UnknownBookError(NotFoundError, code="counter_unknown_book"):
    message = N_("There is no book with the code {code} in this library's catalogue.")


class BookOnLoanError(CounterError, code="counter_book_on_loan", status_code=409):
    message = N_("This book is already on loan. It must be returned before it is lent again.")


class BookNotOnLoanError(CounterError, code="counter_book_not_on_loan", status_code=409):
    message = N_("This book is not on loan: there is nothing to return.")


class OverdueLoansError(CounterError, code="counter_overdue", status_code=409):
    message = N_("The patron has {count} overdue book(s). No book is lent until they are returned.")


class LoanLimitError(CounterError, code="counter_loan_limit", status_code=409):
    message = N_("The patron already has {limit} books, the most that can be borrowed at once.")


class FaceNotConfirmedError(CounterError, code="counter_face_not_confirmed"):
    message = N_(
        "Confirm that the resident's face matches the card before checking in without a PIN."
    )


class PresentationExpiredError(CounterError, code="counter_presentation_expired", status_code=410):
    message = N_("The card was presented too long ago. Present the card again.")


class NoMemberChosenError(CounterError, code="counter_no_member"):
    message = N_("Choose at least one person to check in.")


class AlreadyCheckedInError(CounterError, code="counter_already_checked_in", status_code=409):
    message = N_("{name} is already checked in at this shelter.")


class CheckinNotFoundError(NotFoundError, code="counter_checkin_not_found"):
    message = N_("This check-in does not exist at this shelter, or has already been checked out.")
