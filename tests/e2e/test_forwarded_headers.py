"""Which client a rate limit counts: the peer, unless a configured proxy names another.

A real server on 127.0.0.1 (started with the options `myna serve` uses), because the
forwarded headers are read by the server layer, which an in-process client skips.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from myna.app import create_app
from myna.bench.harness import free_port
from myna.bootstrap import build_container
from myna.platform.settings import Settings
from myna.runtime import prepare_database
from tests.conftest import TEST_SETTINGS
from tests.e2e.conftest import ServerThread


def _serve(data_dir: Path, *, trusted_proxies: list[str]) -> Iterator[str]:
    port = free_port()
    settings = Settings(
        environment="test",
        data_dir=data_dir,
        portal_url=f"http://127.0.0.1:{port}",
        log_json=False,
        tree_head_interval_seconds=3600,
        login_rate_limit="3/minute",
        trusted_proxies=trusted_proxies,
        **TEST_SETTINGS,  # type: ignore[arg-type]
    )
    container = build_container(settings)
    prepare_database(container)
    server = ServerThread(create_app(container), port)
    server.start()
    try:
        yield settings.portal_url
    finally:
        server.stop()
        container.engine.dispose()


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[str]:
    yield from _serve(tmp_path, trusted_proxies=[])


@pytest.fixture
def portal_behind_proxy(tmp_path: Path) -> Iterator[str]:
    yield from _serve(tmp_path, trusted_proxies=["127.0.0.1"])


def _challenges(url: str, addresses: list[str]) -> list[int]:
    with httpx.Client(base_url=url, timeout=10) as client:
        return [
            client.post("/api/login/challenges", headers={"X-Forwarded-For": a}).status_code
            for a in addresses
        ]


def test_a_forged_forwarded_for_does_not_escape_the_login_limit(portal: str) -> None:
    statuses = _challenges(portal, [f"198.51.100.{n}" for n in range(4)])
    assert statuses == [201, 201, 201, 429]


def test_a_configured_proxy_is_believed(portal_behind_proxy: str) -> None:
    # Four different clients behind the proxy: none reaches its own limit...
    assert _challenges(portal_behind_proxy, [f"198.51.100.{n}" for n in range(4)]) == [201] * 4
    # ...while one client behind it does.
    assert _challenges(portal_behind_proxy, ["203.0.113.7"] * 4) == [201, 201, 201, 429]
