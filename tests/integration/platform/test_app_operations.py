"""Every app beside the portal has the operator's endpoints: /healthz, /readyz, /metrics, ids.

The agency node, the card reader, the clinic counter and the certificate kiosk each get
them from the one platform installer; each app counts its own requests, refuses a
scrape without the token as the portal does, and says which of its own checks failed.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from cryptography import x509
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session

from myna import jpki, network
from myna.app import create_app
from myna.bootstrap import Container
from myna.counter.app import create_counter_app
from myna.kiosk.app import create_kiosk_app
from myna.network.node import AgencyNode, RevocationUnavailableError, create_node_app
from myna.platform.logging import configure_logging
from myna.platform.settings import Settings
from myna.reader.app import create_reader_app
from tests.integration.network.nodekit import FixedCrl, rogue_authority
from tests.integration.platform.test_operations import TOKEN, sample

CHIYODA = "131016"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class LapsedCrl:
    """A revocation source that has no current CRL and cannot fetch one."""

    def revocation_list(self) -> x509.CertificateRevocationList:
        raise RevocationUnavailableError

    def refresh(self) -> None:
        """The fetch fails; nothing is held."""


@dataclass
class AppUnderTest:
    """One app, how to build it ready or not, and a route of its own to count."""

    name: str
    build: Callable[[Settings, bool], FastAPI]
    own_path: str
    own_route: str
    failing_check: str


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def apps(
    session: Session, settings: Settings, container: Container
) -> Iterator[dict[str, AppUnderTest]]:
    settings.card_dir.mkdir(parents=True, exist_ok=True)
    jpki.ensure_authorities(session=session, settings=settings)
    credential = network.credential_for(session=session, settings=settings, code=CHIYODA)
    session.commit()
    rogue = rogue_authority()
    portal = TestClient(create_app(container), base_url=settings.portal_url)
    unreachable = httpx.Client(timeout=1.0)

    def node(configured: Settings, ready: bool) -> FastAPI:
        container.settings = configured
        source = FixedCrl(rogue.crl()) if ready else LapsedCrl()
        agency = AgencyNode(
            agency_code=CHIYODA, credential=credential, trust=rogue.trust, revocation=source
        )
        return create_node_app(container, agency)

    def reader(configured: Settings, ready: bool) -> FastAPI:
        if not ready:
            configured = configured.model_copy(update={"data_dir": configured.data_dir / "gone"})
        container.settings = configured
        return create_reader_app(container, http_client=portal)

    def client_app(factory: Callable[..., FastAPI]) -> Callable[[Settings, bool], FastAPI]:
        def build(configured: Settings, ready: bool) -> FastAPI:
            if ready:
                return factory(configured, http_client=portal)
            away = configured.model_copy(
                update={"portal_url": f"http://127.0.0.1:{_closed_port()}"}
            )
            return factory(away, http_client=unreachable)

        return build

    yield {
        "node": AppUnderTest("node", node, "/network/query", "/network/query", "hub_crl"),
        "reader": AppUnderTest("reader", reader, "/no-such-screen/42", "unmatched", "cards"),
        "counter": AppUnderTest(
            "counter", client_app(create_counter_app), "/9999999/", "/{code}/", "portal"
        ),
        "kiosk": AppUnderTest("kiosk", client_app(create_kiosk_app), "/", "/", "portal"),
    }
    portal.close()
    unreachable.close()


APPS = ["node", "reader", "counter", "kiosk"]


def _client(app: FastAPI, peer: str = "testclient") -> TestClient:
    return TestClient(app, base_url="http://app", client=(peer, 50000))


@pytest.mark.parametrize("name", APPS)
def test_the_app_is_alive_and_ready_when_its_checks_pass(
    apps: dict[str, AppUnderTest], settings: Settings, name: str
) -> None:
    under = apps[name]
    with _client(under.build(settings, True)) as client:
        alive = client.get("/healthz")
        ready = client.get("/readyz")
    assert alive.status_code == 200
    assert alive.json()["status"] == "ok"
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert ready.headers["cache-control"] == "no-store"
    assert under.failing_check in ready.json()["checks"]


@pytest.mark.parametrize("name", APPS)
def test_the_app_names_the_check_that_failed_and_stays_alive(
    apps: dict[str, AppUnderTest], settings: Settings, name: str
) -> None:
    under = apps[name]
    with _client(under.build(settings, False)) as client:
        ready = client.get("/readyz")
        alive = client.get("/healthz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "not_ready"
    assert ready.json()["failed"] == [under.failing_check]
    assert alive.status_code == 200


@pytest.mark.parametrize("name", APPS)
def test_the_metrics_are_hidden_refused_or_served_as_at_the_portal(
    apps: dict[str, AppUnderTest], settings: Settings, name: str
) -> None:
    under = apps[name]
    with _client(under.build(settings, True), peer="127.0.0.1") as client:
        assert client.get("/metrics").status_code == 404
    guarded = settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    with _client(under.build(guarded, True)) as client:
        refused = client.get("/metrics", headers={"Authorization": "Bearer wrong"})
        served = client.get("/metrics", headers=AUTH)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert refused.json()["error"] == "unauthorized"
    assert "myna_" not in refused.text
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/plain")
    loopback = settings.model_copy(update={"metrics_loopback": True})
    with _client(under.build(loopback, True), peer="192.0.2.10") as client:
        assert client.get("/metrics").status_code == 404
    with _client(under.build(loopback, True), peer="127.0.0.1") as client:
        assert client.get("/metrics").status_code == 200


@pytest.mark.parametrize("name", APPS)
def test_the_app_counts_its_own_requests_by_route_template(
    apps: dict[str, AppUnderTest], settings: Settings, name: str
) -> None:
    under = apps[name]
    guarded = settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    with (
        _client(under.build(guarded, True)) as client,
        _client(under.build(guarded, True)) as other,
    ):
        client.get("/healthz")
        client.get("/healthz")
        own = client.request("POST" if name == "node" else "GET", under.own_path)
        other.get("/healthz")
        text = client.get("/metrics", headers=AUTH).text
    ok = {"route": "/healthz", "method": "GET", "status": "200"}
    assert sample(text, "myna_http_requests_total", **ok) == 2
    method = "POST" if name == "node" else "GET"
    counted = {"route": under.own_route, "method": method, "status": str(own.status_code)}
    assert sample(text, "myna_http_requests_total", **counted) == 1


@pytest.fixture
def json_logs() -> Iterator[None]:
    configure_logging(level="INFO", json=True)
    yield
    configure_logging(level="INFO", json=False)


@pytest.mark.parametrize("name", APPS)
def test_every_answer_carries_a_request_id_and_its_log_lines_too(
    apps: dict[str, AppUnderTest],
    settings: Settings,
    name: str,
    json_logs: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    under = apps[name]
    capsys.readouterr()
    with _client(under.build(settings, False)) as client:
        given = client.get("/readyz", headers={"X-Request-ID": f"lb-{name}.7"})
        made = client.get("/healthz", headers={"X-Request-ID": "bad id"})
    assert given.headers["x-request-id"] == f"lb-{name}.7"
    assert re.fullmatch(r"[0-9a-f-]{36}", made.headers["x-request-id"])
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    not_ready = [line for line in lines if line["event"] == "not_ready"]
    assert not_ready
    assert {line["request_id"] for line in not_ready} == {f"lb-{name}.7"}
