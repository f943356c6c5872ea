"""Distributed mode: the hub and agency nodes as separate processes on 127.0.0.1.

A hub database with the personas and their agencies' records; the portal (serving the
government CA's CRL) in a thread; 千代田区 (muni-131016) and taro's health insurance
society (kenpo-minato-denki) each run as ``myna agency serve`` on a database of its own,
filled by ``myna agency load``, with keys from ``myna jpki org-issue``. The hub asks them
over HTTP with signed messages; a node that is down, hangs or signs with a wrong key
makes its items unavailable and is logged as such, never as a success.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from myna import network, registry
from myna.app import create_app
from myna.bench.harness import free_port
from myna.bootstrap import Container, build_container
from myna.network import transparency
from myna.network.messages import Credential
from myna.network.models import SeenRequest
from myna.network.node import AgencyNode, CrlCache, HubTrust, create_node_app
from myna.network.wiring import close_http_transports
from myna.platform.db import make_engine, unit_of_work
from myna.platform.settings import Settings
from myna.runtime import prepare_database
from tests.conftest import TEST_SECRETS
from tests.integration.network.nodekit import (
    NodeProcess,
    ServerThread,
    new_p256_key,
    run_myna,
    silent_listener,
    start_node,
)

CHIYODA = "muni-131016"
MINATO = "kenpo-minato-denki"
NODES = {CHIYODA: "東京都千代田区", MINATO: "みなと電機健康保険組合"}
ITEMS = ["household", "resident-tax", "child-allowance", "health-insurance"]
SUCCESS, FAILED, TIMEOUT = (
    network.Outcome.SUCCESS,
    network.Outcome.FAILED,
    network.Outcome.TIMEOUT,
)


def _database(tmp: Path, name: str) -> str:
    """A fresh database: PostgreSQL when the suite runs there, else a SQLite file."""
    configured = os.environ.get("MYNA_TEST_DATABASE_URL", "")
    if not configured.startswith("postgresql"):
        return f"sqlite:///{tmp / f'{name}.db'}"
    base = make_url(configured)
    database = f"myna_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{name}"
    admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return base.set(database=database).render_as_string(hide_password=False)


@dataclass
class Deployment:
    """The hub side in this process, the agency nodes in their own."""

    tmp: Path
    settings: Settings
    container: Container
    taro_id: int
    environment: dict[str, str]
    keys: Path
    node_databases: dict[str, str]
    nodes: dict[str, NodeProcess] = field(default_factory=dict)

    def serve_args(self, agency: str) -> list[str]:
        return [
            "--agency",
            agency,
            "--key",
            str(self.keys / agency / f"{agency}.key.pem"),
            "--cert",
            str(self.keys / agency / f"{agency}.crt.pem"),
            "--ca-chain",
            str(self.keys / agency / "gov-chain.pem"),
            "--database-url",
            self.node_databases[agency],
        ]

    def start(self, agency: str) -> NodeProcess:
        env = {**self.environment, "MYNA_DATA_DIR": str(self.tmp / agency)}
        log = self.tmp / f"{agency}-{len(self.nodes)}.log"
        return start_node(env, free_port(), *self.serve_args(agency), log=log)

    def urls(self, **overrides: str) -> dict[str, str]:
        return {**{code: node.url for code, node in self.nodes.items()}, **overrides}

    def exchange(
        self, nodes: dict[str, str], items: Sequence[str] = ITEMS, timeout: float = 5.0
    ) -> network.ExchangeOutcome:
        settings = self.settings.model_copy(
            update={"agency_nodes": nodes, "agency_timeout_seconds": timeout}
        )
        with unit_of_work(self.container.session_factory) as session:
            hub = network.hub_for(session=session, settings=settings)
            return network.request_self_information(
                session=session, hub=hub, resident_id=self.taro_id, items=items
            )

    def logged(self) -> Counter[tuple[str, str, network.Outcome]]:
        with unit_of_work(self.container.session_factory) as session:
            page = transparency.entries_for_subject(
                session=session, subject=str(self.taro_id), page_size=500
            )
        return Counter((e.provider, e.item, e.outcome) for e in page.items)

    def answered_by_node(self, agency: str) -> set[str]:
        engine = make_engine(self.node_databases[agency])
        try:
            with engine.connect() as conn:
                return set(conn.scalars(select(SeenRequest.request_id)))
        finally:
            engine.dispose()

    def trust(self, agency: str) -> HubTrust:
        return HubTrust.from_pem((self.keys / agency / "gov-chain.pem").read_bytes())


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("distributed")
    hub_database = _database(tmp, "dist_hub")
    portal_port = free_port()
    settings = Settings(
        environment="test",
        data_dir=tmp / "hub",
        database_url=hub_database,
        portal_url=f"http://127.0.0.1:{portal_port}",
        log_json=False,
        tree_head_interval_seconds=3600,
        **TEST_SECRETS,  # type: ignore[arg-type]
    )
    container = build_container(settings)
    prepare_database(container)
    with unit_of_work(container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"]
        network.seed_agency_data(session=session, seed=1)
    environment = {
        "MYNA_ENVIRONMENT": "test",
        "MYNA_LOG_JSON": "false",
        "MYNA_LOG_LEVEL": "WARNING",
        **{f"MYNA_{name.upper()}": value for name, value in TEST_SECRETS.items()},
    }
    hub_environment = {
        **environment,
        "MYNA_DATABASE_URL": hub_database,
        "MYNA_PORTAL_URL": settings.portal_url,
        "MYNA_DATA_DIR": str(tmp / "hub"),
    }
    keys = tmp / "keys"
    node_databases = {code: _database(tmp, f"dist_{code.replace('-', '_')}") for code in NODES}
    for code, name in NODES.items():
        # The government CA lives with the hub: the agency's key and certificate are
        # made there, as an operator would, and recorded in the hub's JPKI tables.
        run_myna(hub_environment, "jpki", "org-issue", "--code", code, "--name", name,
                 "--key-out", str(keys / code))  # fmt: skip
        run_myna(environment, "agency", "load", "--agency", code, "--from-database",
                 hub_database, "--database-url", node_databases[code])  # fmt: skip
    portal = ServerThread(create_app(container), portal_port).start()
    # Issue the government CA's CRL once, before any exchange holds the hub's database.
    httpx.get(f"{settings.portal_url}/jpki/crl/gov.crl", timeout=10).raise_for_status()
    deployment = Deployment(tmp, settings, container, taro.id, environment, keys, node_databases)
    try:
        for code in NODES:
            deployment.nodes[code] = deployment.start(code)
        yield deployment
    finally:
        for node in deployment.nodes.values():
            node.stop()
        portal.stop()
        close_http_transports()
        container.engine.dispose()


def _by_item(outcome: network.ExchangeOutcome) -> dict[str, network.ItemResult]:
    return {r.item: r for r in outcome.results}


def test_the_hub_gets_the_residents_records_from_two_agency_nodes_over_http(
    deployment: Deployment,
) -> None:
    before = deployment.logged()
    outcome = deployment.exchange(deployment.urls())

    results = _by_item(outcome)
    assert {results[i].provider for i in ITEMS} == {CHIYODA, MINATO}
    assert all(results[i].outcome is SUCCESS for i in ITEMS)
    assert results["health-insurance"].provider == MINATO
    insurance = results["health-insurance"].records[0].payload
    assert insurance["insurer_name"] == "みなと電機健康保険組合"
    assert results["resident-tax"].records
    assert outcome.unavailable_items() == []
    # Each node answered this very request from its own database.
    for code in NODES:
        assert outcome.request_id in deployment.answered_by_node(code)
    new = deployment.logged() - before
    assert new == Counter({(r.provider, r.item, SUCCESS): 1 for r in outcome.results})


def test_a_node_signing_with_a_wrong_key_is_logged_as_failed(deployment: Deployment) -> None:
    certificate = x509.load_pem_x509_certificate(
        (deployment.keys / MINATO / f"{MINATO}.crt.pem").read_bytes()
    )
    crl_client = httpx.Client(timeout=5, trust_env=False)
    impostor = AgencyNode(
        agency_code=MINATO,
        # The real certificate, but a key that is not its own.
        credential=Credential(code=MINATO, certificate=certificate, private_key=new_p256_key()),
        trust=deployment.trust(MINATO),
        revocation=CrlCache(
            url=f"{deployment.settings.portal_url}/jpki/crl/gov.crl",
            client=crl_client,
        ),
    )
    node_settings = deployment.settings.model_copy(
        update={"database_url": deployment.node_databases[MINATO]}
    )
    node_container = build_container(node_settings)
    server = ServerThread(create_node_app(node_container, impostor), free_port())
    server.start()
    try:
        before = deployment.logged()
        outcome = deployment.exchange(deployment.urls(**{MINATO: server.url}))
    finally:
        server.stop()
        crl_client.close()
        node_container.engine.dispose()

    results = _by_item(outcome)
    assert results["health-insurance"].outcome is FAILED
    assert results["health-insurance"].detail == "bad_message_signature"
    assert results["health-insurance"].records == ()
    assert results["household"].outcome is SUCCESS
    assert outcome.unavailable_items() == ["health-insurance"]
    new = deployment.logged() - before
    assert new[(MINATO, "health-insurance", FAILED)] == 1
    assert new[(MINATO, "health-insurance", SUCCESS)] == 0


def test_a_node_that_hangs_times_out_and_is_logged_as_a_timeout(deployment: Deployment) -> None:
    before = deployment.logged()
    with silent_listener() as hanging:
        outcome = deployment.exchange(deployment.urls(**{CHIYODA: hanging}), timeout=0.5)

    results = _by_item(outcome)
    for item in ("household", "resident-tax", "child-allowance"):
        assert results[item].outcome is TIMEOUT
    assert results["health-insurance"].outcome is SUCCESS
    assert outcome.unavailable_items() == ["child-allowance", "household", "resident-tax"]
    new = deployment.logged() - before
    assert new[(CHIYODA, "resident-tax", TIMEOUT)] == 1
    assert not any(k[0] == CHIYODA and k[2] is SUCCESS for k in new)


def test_a_stopped_node_makes_its_items_unavailable_and_nothing_is_logged_as_success(
    deployment: Deployment,
) -> None:
    node = deployment.start(CHIYODA)
    try:
        working = deployment.exchange(deployment.urls(**{CHIYODA: node.url}))
        assert _by_item(working)["resident-tax"].outcome is SUCCESS
    finally:
        node.stop()
    before = deployment.logged()
    outcome = deployment.exchange(deployment.urls(**{CHIYODA: node.url}))

    results = _by_item(outcome)
    assert results["resident-tax"].outcome is FAILED
    assert results["resident-tax"].detail == "unreachable"
    assert results["resident-tax"].records == ()
    assert results["health-insurance"].outcome is SUCCESS
    assert "resident-tax" in outcome.unavailable_items()
    new = deployment.logged() - before
    assert new[(CHIYODA, "resident-tax", FAILED)] == 1
    assert not any(k[0] == CHIYODA and k[2] is SUCCESS for k in new)


def test_a_node_refuses_to_start_with_another_agencys_certificate(
    deployment: Deployment,
) -> None:
    arguments = deployment.serve_args(CHIYODA)
    arguments[arguments.index("--cert") + 1] = str(deployment.keys / MINATO / f"{MINATO}.crt.pem")
    with pytest.raises(RuntimeError, match="node_configuration"):
        start_node(
            deployment.environment,
            free_port(),
            *arguments,
            log=deployment.tmp / "refused.log",
        )
