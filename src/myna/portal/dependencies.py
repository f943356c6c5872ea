"""The portal's own web helpers: the card login's rate limiter, and logging out.

The session, its cookie and the CSRF check are the platform's
(``myna.platform.sessions``), shared with every other context's pages.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from myna.platform.ratelimit import RateLimiter
from myna.platform.web import client_address, get_container, transaction
from myna.portal import service


# No I/O: ``async``, so FastAPI does not run it in the thread pool (a hop that costs
# more than the work itself).
async def get_login_limiter(request: Request) -> RateLimiter:
    """The process's rate limiter (the card login counts against ``Limit.LOGIN``)."""
    return get_container(request).rate_limiter


LoginLimiterDep = Annotated[RateLimiter, Depends(get_login_limiter)]


def log_out(request: Request, *, token: str, resident_id: int | None) -> None:
    """End the caller's portal session and record the logout (the page and the API)."""
    with transaction(request) as db:
        service.logout(
            session=db,
            sessions=get_container(request).sessions,
            session_token=token,
            resident_id=resident_id,
            client_ip=client_address(request),
        )
