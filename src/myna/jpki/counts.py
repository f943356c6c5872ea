"""Counts for the usage statistics (利用状況): how many, never who.

The card holders come out as ids only so that the registry can count them by
municipality and age band; nothing else about them leaves the JPKI.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from myna.jpki import repository
from myna.jpki.verifier_domain import VerifierKind


def card_holders(*, session: Session, at: datetime) -> frozenset[int]:
    """The holders of a card in use at ``at``: a valid user-authentication certificate.

    A card is counted once per holder, whatever re-issues or phone credentials (issued
    from the card) it has behind it.
    """
    return frozenset(repository.card_holder_ids(session, at))


def verifier_requests_by_kind(*, session: Session) -> dict[VerifierKind, int]:
    """Requests answered to JPKI verifiers (署名検証者・利用者証明検証者), by kind of verifier."""
    return {
        VerifierKind(kind): count
        for kind, count in repository.verifier_requests_by_kind(session).items()
    }
