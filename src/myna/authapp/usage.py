"""Counts for the usage statistics (利用状況): how much businesses use the app."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna.authapp.models import AuthAppSignRequest


def count_signed_transactions(*, session: Session) -> int:
    """Businesses' signing transactions the resident completed with the card.

    Login tokens are forgotten an hour after they expire (``forget_expired``); the
    signing transactions stay, so they are what the statistics count.
    """
    return (
        session.scalar(
            select(func.count())
            .select_from(AuthAppSignRequest)
            .where(AuthAppSignRequest.signed_at.is_not(None))
        )
        or 0
    )
