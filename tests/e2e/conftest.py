"""A real platform on 127.0.0.1 (portal + card reader) and Debian's Chromium.

The servers run in a background thread of the test process over a SQLite file, so
the browser sees committed data exactly as a resident would; they stop at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from myna import card, network, registry
from myna.app import create_app
from myna.bench.harness import free_port
from myna.bootstrap import Container, build_container
from myna.platform.db import unit_of_work
from myna.platform.settings import Settings
from myna.reader.app import create_reader_app
from myna.runtime import prepare_database
from tests.conftest import TEST_SETTINGS
from tests.integration.network.nodekit import ServerThread

__all__ = ["ServerThread"]  # the e2e tests' servers start like the network tests'

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PIN = "2468"
PASSWORD = "BROWSER2026"


@dataclass
class Platform:
    """The running platform's URLs and the demo card."""

    portal: str
    reader: str
    card_id: str
    settings: Settings
    container: Container


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir: Path = tmp_path_factory.mktemp("platform")
    portal_port, reader_port = free_port(), free_port()
    settings = Settings(
        environment="test",
        data_dir=data_dir,
        portal_url=f"http://127.0.0.1:{portal_port}",
        reader_url=f"http://127.0.0.1:{reader_port}",
        log_json=False,
        # The test publishes tree heads itself when it needs one.
        tree_head_interval_seconds=3600,
        # One server for every browser test of a worker, all from 127.0.0.1: the login
        # limit itself is tested on its own (test_forwarded_headers, 3/minute).
        login_rate_limit="600/minute",
        **TEST_SETTINGS,  # type: ignore[arg-type]
    )
    container = build_container(settings)
    prepare_database(container)
    with unit_of_work(container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"]
        summary = card.issue_card(
            session=session, settings=settings, resident_id=taro.id, pin=PIN, password=PASSWORD
        )
        network.seed_agency_data(session=session, seed=1)
    servers = [
        ServerThread(create_app(container), portal_port),
        ServerThread(create_reader_app(container), reader_port),
    ]
    for server in servers:
        server.start()
    try:
        yield Platform(
            settings.portal_url, settings.reader_url, summary.card_id, settings, container
        )
    finally:
        for server in servers:
            server.stop()
        container.engine.dispose()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
