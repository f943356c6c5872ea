"""Many logins at once on a portal with a single request thread still all complete.

A transaction that spanned two thread hops (a dependency, then the route, then the
response's validation) would hold SQLite's write lock while waiting for a thread that
every other request is holding: this is the regression test for that deadlock.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from myna import card, registry
from myna.app import create_app
from myna.bench.harness import free_port
from myna.bootstrap import build_container
from myna.platform.db import unit_of_work
from myna.platform.settings import Settings
from myna.reader.client import login
from myna.runtime import prepare_database
from tests.conftest import TEST_SETTINGS
from tests.e2e.conftest import PASSWORD, PIN, ServerThread


@pytest.fixture(scope="module")
def single_thread_portal(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, card.CardSession]]:
    port = free_port()
    settings = Settings(
        environment="test",
        data_dir=tmp_path_factory.mktemp("concurrency"),
        portal_url=f"http://127.0.0.1:{port}",
        worker_threads=1,
        login_rate_limit="1000/minute",
        log_json=False,
        **TEST_SETTINGS,  # type: ignore[arg-type]
    )
    container = build_container(settings)
    prepare_database(container)
    with unit_of_work(container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"]
        issued = card.issue_card(
            session=session, settings=settings, resident_id=taro.id, pin=PIN, password=PASSWORD
        )
    reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    server = ServerThread(create_app(container), port)
    server.start()
    try:
        yield settings.portal_url, reader.open_session(issued.card_id, "auth", PIN)
    finally:
        server.stop()
        container.engine.dispose()


def test_concurrent_logins_complete_with_one_request_thread(
    single_thread_portal: tuple[str, card.CardSession],
) -> None:
    url, signer = single_thread_portal

    def one(_: int) -> str:
        with httpx.Client(timeout=20.0) as client:
            return str(login(client, url, signer).resident["name"])

    with ThreadPoolExecutor(max_workers=12) as pool:
        names = list(pool.map(one, range(36)))
    assert names == ["山田 太郎"] * 36
