"""Rate limits: one limiter per process, named limits from settings, via ``limits``.

Every limit of the platform is named here and read from the settings, so an operator
tunes them in one place; the counters live in ``MYNA_RATE_LIMIT_STORAGE_URL``
(``memory://`` in one process, ``redis://...`` to share them between workers). The
limiter belongs to the composition root (:class:`myna.bootstrap.Container`); contexts
ask it with the name of their limit and the key they count by (an address, a resident,
an organisation) and turn a refusal into their own protocol's error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from myna.platform.errors import RateLimitedError
from myna.platform.settings import Settings


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


class RateLimiter:
    """Moving-window limits by name, counted per key, in one storage."""

    def __init__(
        self,
        *,
        limits: Mapping[Limit, str],
        storage_url: str,
        on_refused: Callable[[str], None] | None = None,
    ) -> None:
        self._items: dict[Limit, RateLimitItem] = {name: parse(v) for name, v in limits.items()}
        self._storage = storage_from_string(storage_url)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._on_refused = on_refused
        self.shared = storage_url.split(":", 1)[0].startswith("redis")

    @classmethod
    def from_settings(
        cls, settings: Settings, *, on_refused: Callable[[str], None] | None = None
    ) -> RateLimiter:
        """The limiter a deployment's settings describe; ``on_refused`` hears each refusal."""
        return cls(
            limits=limits_from(settings),
            storage_url=settings.rate_limit_storage_url,
            on_refused=on_refused,
        )

    def allow(self, limit: Limit, key: str) -> bool:
        """Count one attempt by ``key`` against ``limit``; False past the limit."""
        allowed = bool(self._limiter.hit(self._items[limit], limit.value, key))
        if not allowed and self._on_refused is not None:
            self._on_refused(limit.value)
        return allowed

    def storage_answers(self) -> bool:
        """Whether the counters' storage answers (a Redis server's PING)."""
        return bool(self._storage.check())

    def hit(self, limit: Limit, key: str) -> None:
        """Count one attempt; :class:`RateLimitedError` (429) past the limit."""
        if not self.allow(limit, key):
            raise RateLimitedError
