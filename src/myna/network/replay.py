"""Fresh and once: the rule every signed request to the network follows.

A signed request carries its own id and time; the hub (and every endpoint that takes
signed requests from agencies) refuses one that is too far from its clock, or whose id
it has already accepted — so a captured request cannot be sent again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from myna.network.domain import (
    MAX_CLOCK_SKEW,
    ReplayedMessageError,
    StaleMessageError,
    is_fresh,
)
from myna.network.models import SeenRequest
from myna.platform.db import insert_once, utcnow


def admit_once(*, session: Session, request_id: str, requester: str, issued_at: datetime) -> None:
    """Accept a request id once, and only when ``issued_at`` is within the clock skew."""
    if not is_fresh(issued_at, utcnow()):
        raise StaleMessageError
    if not insert_once(
        session,
        SeenRequest,
        {"request_id": request_id, "requester": requester, "received_at": utcnow()},
    ):
        raise ReplayedMessageError


def forget_old_requests(*, session: Session) -> int:
    """Drop remembered request ids past any replay window; how many went.

    A request older than the clock skew is refused as stale whatever its id, so an id
    only has to be remembered for that long (twice it, for margin).
    """
    cutoff = utcnow() - 2 * MAX_CLOCK_SKEW
    result = session.execute(delete(SeenRequest).where(SeenRequest.received_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
