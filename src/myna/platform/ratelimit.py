"""Rate limits: one limiter per process, named limits from settings, via ``limits``.

Every limit of the platform is named here and read from the settings, so an operator
tunes them in one place; the counters live in ``MYNA_RATE_LIMIT_STORAGE_URL``
(``memory://`` in one process, ``redis://...`` to share them between workers). The
limiter belongs to the composition root (:class:`myna.bootstrap.Container`); contexts
ask it with the name of their limit and the key they count by (an address, a resident,
an organisation) and turn a refusal into their own protocol's error.

When the shared storage does not answer (Redis down), the limits that guard a secret
or a consent (:data:`GUARDED`) refuse with :class:`RateLimitUnavailableError` (503):
an attacker must not get unlimited guesses because Redis went away. Every other limit
counts in this process's memory meanwhile (``limits``' ``MemoryStorage``), says so in
the log once per outage, and goes back to the shared storage when it answers again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from enum import StrEnum

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from myna.platform.errors import RateLimitedError, RateLimitUnavailableError
from myna.platform.logging import get_logger
from myna.platform.settings import Settings

log = get_logger(__name__)

# How long a storage that failed is left alone before it is asked again.
STORAGE_RETRY_SECONDS = 5.0
# A Redis that does not connect or answer within this is counted as down.
STORAGE_TIMEOUT_SECONDS = 1.0
# How often counters kept in the process's memory drop the attempts that left their window.
SWEEP_SECONDS = 1.0


class Limit(StrEnum):
    """The platform's named limits (what is counted is the caller's business)."""

    LOGIN = "login"  # card logins, per client address
    OFFICE_LOGIN = "office-login"  # the back office's password and code steps, per address
    CONSENT = "consent"  # consent answers, per resident
    PARTNER_TOKEN = "partner-oauth"  # noqa: S105 - a name; PAR and token requests, per organisation
    PARTNER_REGISTRATION = "partner-registration"  # organisation registrations, per address
    FILING_TOKEN = "filing-token"  # noqa: S105 - a name; the municipality filing API's tokens, per address
    DELIVERY = "delivery"  # the 民間送達 sender API, per address
    JPKI_VERIFIER = "jpki-verifier"  # the JPKI verifier API (revocation status), per address
    ONE_TIME_CODE = "one-time-code"  # codes typed by a resident (proxy appointments), per resident
    AUTHAPP_TOKEN = "authapp-token"  # noqa: S105 - a name; the OIDC token endpoint, per address


# The limits in front of a secret or a consent: without their shared counters they
# refuse (fail closed). The others fall back to counting in the process (fail open).
GUARDED: frozenset[Limit] = frozenset(
    {
        Limit.LOGIN,
        Limit.OFFICE_LOGIN,
        Limit.CONSENT,
        Limit.PARTNER_TOKEN,
        Limit.FILING_TOKEN,
        Limit.ONE_TIME_CODE,
        Limit.AUTHAPP_TOKEN,
    }
)


def limits_from(settings: Settings) -> dict[Limit, str]:
    """Each named limit as the settings give it (``"30/minute"`` and the like)."""
    return {
        Limit.LOGIN: settings.login_rate_limit,
        Limit.OFFICE_LOGIN: settings.login_rate_limit,
        Limit.CONSENT: settings.consent_rate_limit,
        Limit.PARTNER_TOKEN: settings.partner_rate_limit,
        Limit.PARTNER_REGISTRATION: settings.partner_registration_rate_limit,
        Limit.FILING_TOKEN: settings.filing_token_rate_limit,
        Limit.DELIVERY: settings.delivery_rate_limit,
        Limit.JPKI_VERIFIER: settings.jpki_verifier_rate_limit,
        Limit.ONE_TIME_CODE: settings.one_time_code_rate_limit,
        Limit.AUTHAPP_TOKEN: settings.partner_rate_limit,
    }


class ProcessStorage(MemoryStorage):
    """``limits``' in-memory counters, swept of old attempts once a second.

    ``MemoryStorage`` starts a new timer thread 10 ms ahead after every attempt once the
    last one has ended: under load, a hundred threads a second, each started on a
    request's own time (about a tenth of a card login's CPU). The sweep only frees
    memory: a moving window counts just the attempts inside it, whenever the old ones
    go. Here it runs on one daemon timer a second. ``limits`` names the method privately
    (``__schedule_expiry``); a test checks that this one is the one it calls.
    """

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - the name limits calls
        if not self.timer.is_alive():
            sweep = self._MemoryStorage__expire_events  # type: ignore[attr-defined]
            self.timer = threading.Timer(SWEEP_SECONDS, sweep)
            self.timer.daemon = True
            self.timer.start()


class RateLimiter:
    """Moving-window limits by name, counted per key, in one storage.

    A shared storage that fails is asked again every ``retry_seconds``; in between,
    :data:`GUARDED` limits refuse and the others count in memory (see the module).
    """

    def __init__(
        self,
        *,
        limits: Mapping[Limit, str],
        storage_url: str,
        key_prefix: str = "myna",
        on_refused: Callable[[str], None] | None = None,
        retry_seconds: float = STORAGE_RETRY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._items: dict[Limit, RateLimitItem] = {name: parse(v) for name, v in limits.items()}
        self.shared = storage_url.split(":", 1)[0].startswith("redis")
        options: dict[str, float | str | bool] = {}
        if self.shared:
            options = {
                "key_prefix": key_prefix,
                "socket_connect_timeout": STORAGE_TIMEOUT_SECONDS,
                "socket_timeout": STORAGE_TIMEOUT_SECONDS,
            }
        self._storage = (
            ProcessStorage()
            if storage_url.startswith("memory:")
            else storage_from_string(storage_url, wrap_exceptions=True, **options)
        )
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._fallback = MovingWindowRateLimiter(ProcessStorage())
        self._on_refused = on_refused
        self._retry_seconds = retry_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failed_at: float | None = None  # when the storage last failed, in this outage

    @classmethod
    def from_settings(
        cls, settings: Settings, *, on_refused: Callable[[str], None] | None = None
    ) -> RateLimiter:
        """The limiter a deployment's settings describe; ``on_refused`` hears each refusal."""
        return cls(
            limits=limits_from(settings),
            storage_url=settings.rate_limit_storage_url,
            key_prefix=settings.rate_limit_key_prefix,
            on_refused=on_refused,
        )

    @property
    def degraded(self) -> bool:
        """Whether the shared storage failed and has not answered since."""
        return self._failed_at is not None

    def allow(self, limit: Limit, key: str) -> bool:
        """Count one attempt by ``key`` against ``limit``; False past the limit.

        :class:`RateLimitUnavailableError` (503) for a :data:`GUARDED` limit while the
        storage is down.
        """
        allowed = self._count(limit, key)
        if not allowed and self._on_refused is not None:
            self._on_refused(limit.value)
        return allowed

    def _count(self, limit: Limit, key: str) -> bool:
        item = self._items[limit]
        if self._storage_worth_asking():
            try:
                allowed = bool(self._limiter.hit(item, limit.value, key))
            except StorageError as exc:
                self._storage_failed(exc)
            else:
                self._storage_answered()
                return allowed
        if limit in GUARDED:
            raise RateLimitUnavailableError
        return bool(self._fallback.hit(item, limit.value, key))

    def _storage_worth_asking(self) -> bool:
        failed_at = self._failed_at
        return failed_at is None or self._clock() - failed_at >= self._retry_seconds

    def _storage_failed(self, exc: StorageError) -> None:
        with self._lock:
            first = self._failed_at is None
            self._failed_at = self._clock()
        if first:
            log.warning(
                "rate_limit_storage_down",
                error=type(exc.storage_error).__name__,
                guarded_limits="refused",
                other_limits="counted in this process",
            )

    def _storage_answered(self) -> None:
        if self._failed_at is None:
            return
        with self._lock:
            was_down = self._failed_at is not None
            self._failed_at = None
        if was_down:
            log.warning("rate_limit_storage_back")

    def storage_answers(self) -> bool:
        """Whether the counters' storage answers (a Redis server's PING)."""
        return bool(self._storage.check())

    def hit(self, limit: Limit, key: str) -> None:
        """Count one attempt; :class:`RateLimitedError` (429) past the limit."""
        if not self.allow(limit, key):
            raise RateLimitedError
