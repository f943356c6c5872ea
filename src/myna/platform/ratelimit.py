"""Rate limits (login, the back office's login), via the ``limits`` library.

In-process memory in embedded mode; ``MYNA_RATE_LIMIT_STORAGE_URL=redis://...`` shares
the counters across workers in a distributed deployment.
"""

from __future__ import annotations

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from myna.platform.errors import RateLimitedError


class RateLimiter:
    """A named moving-window limit per client."""

    def __init__(self, *, limit: str, storage_url: str) -> None:
        self._item: RateLimitItem = parse(limit)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url))

    def hit(self, scope: str, client: str) -> None:
        """Count one attempt by ``client``; raise RateLimitedError past the limit."""
        if not self._limiter.hit(self._item, scope, client):
            raise RateLimitedError
