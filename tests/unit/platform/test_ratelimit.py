"""One limiter, named limits from settings, each counted apart."""

from __future__ import annotations

import socket

import pytest
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from myna.platform.errors import RateLimitedError, RateLimitUnavailableError
from myna.platform.ratelimit import (
    SWEEP_SECONDS,
    Limit,
    ProcessStorage,
    RateLimiter,
    limits_from,
)
from myna.platform.settings import Settings
from tests.conftest import TEST_SETTINGS


def _settings(**changes: str) -> Settings:
    return Settings(environment="test", **TEST_SETTINGS, **changes)  # type: ignore[arg-type]


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


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_without_its_storage_a_guarded_limit_refuses_and_the_others_count_in_memory(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = _Clock()
    limiter = RateLimiter(
        limits={Limit.LOGIN: "5/minute", Limit.DELIVERY: "2/minute"},
        storage_url=f"redis://127.0.0.1:{_closed_port()}",
        clock=clock,
    )
    with pytest.raises(RateLimitUnavailableError) as refused:
        limiter.allow(Limit.LOGIN, "198.51.100.1")
    assert refused.value.status_code == 503
    assert limiter.degraded
    # The others still answer, and are still limited (here, in this process).
    assert limiter.allow(Limit.DELIVERY, "198.51.100.1")
    assert limiter.allow(Limit.DELIVERY, "198.51.100.1")
    assert not limiter.allow(Limit.DELIVERY, "198.51.100.1")
    clock.now += 60  # the storage is asked again, and still does not answer
    assert limiter.allow(Limit.DELIVERY, "198.51.100.2")
    with pytest.raises(RateLimitUnavailableError):
        limiter.hit(Limit.LOGIN, "198.51.100.1")


def test_the_outage_is_logged_once_and_its_end_too(capsys: pytest.CaptureFixture[str]) -> None:
    clock = _Clock()
    limiter = RateLimiter(
        limits={Limit.DELIVERY: "100/minute"},
        storage_url=f"redis://127.0.0.1:{_closed_port()}",
        clock=clock,
    )
    for _ in range(3):
        clock.now += 10
        assert limiter.allow(Limit.DELIVERY, "198.51.100.1")
    limiter._storage = storage_from_string("memory://")  # the storage answers again
    limiter._limiter = MovingWindowRateLimiter(limiter._storage)
    clock.now += 10
    assert limiter.allow(Limit.DELIVERY, "198.51.100.1")
    assert not limiter.degraded
    out = capsys.readouterr()
    logged = out.out + out.err
    assert logged.count("rate_limit_storage_down") == 1
    assert logged.count("rate_limit_storage_back") == 1


def test_memory_counters_are_swept_by_one_timer_a_second_not_a_thread_per_attempt() -> None:
    storage = ProcessStorage()
    storage.timer.cancel()  # the one limits starts on construction
    storage.timer.join()
    assert storage.acquire_entry("login/198.51.100.1", limit=2, expiry=60)
    timer = storage.timer
    # limits calls this storage's scheduler: one daemon timer, a second ahead.
    assert timer.interval == SWEEP_SECONDS
    assert timer.daemon
    assert storage.acquire_entry("login/198.51.100.1", limit=2, expiry=60)
    assert storage.timer is timer  # no new thread for the second attempt
    assert not storage.acquire_entry("login/198.51.100.1", limit=2, expiry=60)
    timer.cancel()
    timer.join()
    # The sweep drops only attempts that have left their window.
    storage.acquire_entry("login/198.51.100.2", limit=2, expiry=60)
    for entry in storage.events["login/198.51.100.1"]:
        entry.expiry -= 120
    storage._MemoryStorage__expire_events()  # type: ignore[attr-defined]
    assert storage.events["login/198.51.100.1"] == []
    assert len(storage.events["login/198.51.100.2"]) == 1
    storage.timer.cancel()


def test_a_process_limiter_counts_in_the_swept_storage() -> None:
    limiter = RateLimiter.from_settings(_settings(login_rate_limit="1/minute"))
    assert limiter.allow(Limit.LOGIN, "198.51.100.3")
    assert not limiter.allow(Limit.LOGIN, "198.51.100.3")
    assert isinstance(limiter._storage, ProcessStorage)
