"""Counts for the usage statistics (利用状況): how much the resource APIs are used."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna.partners.models import ConsentUse


def count_api_uses(*, session: Session) -> int:
    """Resource API calls answered to organisations under a resident's consent."""
    return (
        session.scalar(
            select(func.count()).select_from(ConsentUse).where(ConsentUse.succeeded.is_(True))
        )
        or 0
    )
