"""The MyNumber card at municipal counters (市民カード化): the library and the shelters.

Acting for the municipality, the counters know a resident by the card's
user-authentication certificate — proven with the PIN (the card login's
challenge-response) or, at a shelter, by a staff member confirming the face — mapped
to a pseudonym per service and municipality (docs/counters.md). Other contexts import
only from here.
"""

from myna.counters.domain import (
    ACTION_LABELS,
    LOAN_DAYS,
    LOAN_LIMIT,
    METHOD_LABELS,
    Action,
    CounterError,
    Method,
    Service,
)
from myna.counters.service import (
    CheckinView,
    FacilityView,
    LoanView,
    UseView,
    card_uses_of,
    ensure_facilities,
    loans_of,
    roster,
    shelter,
    shelters_of,
)

__all__ = [
    "ACTION_LABELS",
    "LOAN_DAYS",
    "LOAN_LIMIT",
    "METHOD_LABELS",
    "Action",
    "CheckinView",
    "CounterError",
    "FacilityView",
    "LoanView",
    "Method",
    "Service",
    "UseView",
    "card_uses_of",
    "ensure_facilities",
    "loans_of",
    "roster",
    "shelter",
    "shelters_of",
]
