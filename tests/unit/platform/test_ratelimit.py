"""One limiter, named limits from settings, each counted apart."""

from __future__ import annotations

import pytest

from myna.platform.errors import RateLimitedError
from myna.platform.ratelimit import Limit, RateLimiter, limits_from
from myna.platform.settings import Settings
from tests.conftest import TEST_SECRETS


def _settings(**changes: str) -> Settings:
    return Settings(environment="test", **TEST_SECRETS, **changes)  # type: ignore[arg-type]


def test_every_named_limit_comes_from_the_settings() -> None:
    limits = limits_from(_settings(consent_rate_limit="3/hour", filing_token_rate_limit="7/minute"))
    assert set(limits) == set(Limit)
    assert limits[Limit.CONSENT] == "3/hour"
    assert limits[Limit.FILING_TOKEN] == "7/minute"


def test_limits_and_keys_are_counted_apart() -> None:
    limiter = RateLimiter.from_settings(_settings(login_rate_limit="2/minute"))
    assert limiter.allow(Limit.LOGIN, "198.51.100.1")
    assert limiter.allow(Limit.LOGIN, "198.51.100.1")
    assert not limiter.allow(Limit.LOGIN, "198.51.100.1")
    # Another address, and the back office's login from the same address, still pass.
    assert limiter.allow(Limit.LOGIN, "198.51.100.2")
    assert limiter.allow(Limit.OFFICE_LOGIN, "198.51.100.1")
    with pytest.raises(RateLimitedError):
        limiter.hit(Limit.LOGIN, "198.51.100.1")
