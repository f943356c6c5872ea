"""Counts for the usage statistics (利用状況): eligibility confirmations at counters."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna.medical.models import Visit


def count_eligibility_confirmations(*, session: Session) -> int:
    """Patients identified with the card at an institution's counter (オンライン資格確認)."""
    return (
        session.scalar(
            select(func.count()).select_from(Visit).where(Visit.identified_at.is_not(None))
        )
        or 0
    )
