"""The dashboard's figures kept briefly per process, so the public page stays cheap.

One instance lives in the composition root (``Container.stats_cache``); the figures are
recomputed when they are older than ``max_age_seconds`` (``MYNA_STATS_CACHE_SECONDS``).
Only suppressed figures are kept (``Dashboard``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from myna.stats.domain import Dashboard


class DashboardCache:
    """The last computed dashboard and when it was computed (a monotonic clock)."""

    def __init__(
        self, *, max_age_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age_seconds = max_age_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: tuple[float, Dashboard] | None = None

    def get(self, compute: Callable[[], Dashboard]) -> Dashboard:
        """The kept dashboard while fresh, else ``compute()``'s (one computation at a time)."""
        with self._lock:
            now = self._clock()
            if self._kept is not None and now - self._kept[0] < self.max_age_seconds:
                return self._kept[1]
            dashboard = compute()
            self._kept = (self._clock(), dashboard)
            return dashboard

    def clear(self) -> None:
        """Forget the kept dashboard (the next request recomputes)."""
        with self._lock:
            self._kept = None
