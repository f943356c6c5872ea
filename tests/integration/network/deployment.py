"""A distributed deployment for tests: the hub in this process, agency nodes as processes."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from myna import network, registry
from myna.app import create_app
from myna.bench.harness import free_port
from myna.bootstrap import Container, build_container
from myna.network import transparency
from myna.network.models import SeenRequest
from myna.network.node import HttpTransport, HubTrust
from myna.platform.db import make_engine, unit_of_work
from myna.platform.settings import Settings
from myna.runtime import prepare_database
from tests.conftest import TEST_SETTINGS
from tests.integration.network.nodekit import NodeProcess, ServerThread, run_myna, start_node


def fresh_database(tmp: Path, name: str) -> str:
    """A fresh database: PostgreSQL when the suite runs there, else a SQLite file."""
    configured = os.environ.get("MYNA_TEST_DATABASE_URL", "")
    if not configured.startswith("postgresql"):
        return f"sqlite:///{tmp / f'{name}.db'}"
    base = make_url(configured)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    database = f"myna_test_{worker}_{os.getpid()}_{name}"  # this run's own
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
    transports: list[HttpTransport] = field(default_factory=list)
    hybrid: bool = False

    def hub_for(self, session: Session, settings: Settings) -> network.Hub:
        """A hub reaching the nodes named in ``settings`` (its pool closed at the end)."""
        remote = network.http_transport(settings)
        if remote is not None:
            self.transports.append(remote)
        return network.build_hub(session=session, settings=settings, remote=remote)

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
            *self.pq_args(agency),
        ]

    def pq_args(self, agency: str) -> list[str]:
        if not self.hybrid:
            return []
        return [
            "--pq-key",
            str(self.keys / agency / f"{agency}.mldsa65.key.pem"),
            "--pq-cert",
            str(self.keys / agency / f"{agency}.mldsa65.crt.pem"),
            "--pq-ca-chain",
            str(self.keys / agency / "pq-gov-chain.pem"),
        ]

    def start(self, agency: str, *, clock_offset_seconds: float = 0.0) -> NodeProcess:
        env = {**self.environment, "MYNA_DATA_DIR": str(self.tmp / agency)}
        log = self.tmp / f"{agency}-{len(self.nodes)}-{uuid.uuid4().hex[:8]}.log"
        return start_node(
            env,
            free_port(),
            *self.serve_args(agency),
            log=log,
            clock_offset_seconds=clock_offset_seconds,
        )

    def urls(self, **overrides: str) -> dict[str, str]:
        return {**{code: node.url for code, node in self.nodes.items()}, **overrides}

    def exchange(
        self, items: Sequence[str], nodes: dict[str, str], timeout: float = 5.0
    ) -> network.ExchangeOutcome:
        settings = self.settings.model_copy(
            update={"agency_nodes": nodes, "agency_timeout_seconds": timeout}
        )
        with unit_of_work(self.container.session_factory) as session:
            hub = self.hub_for(session, settings)
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


@contextmanager
def deploy(
    tmp: Path, nodes: Mapping[str, str], *, hybrid: bool = False, start_nodes: bool = True
) -> Iterator[Deployment]:
    """The hub (and portal) in this process, each agency of ``nodes`` as its own process.

    ``nodes`` maps agency codes to their names; each gets keys from the hub's government
    CA (``myna jpki org-issue``), a database of its own filled by ``myna agency load``,
    and runs as ``myna agency serve``. ``hybrid``: every side signs with ML-DSA-65 too
    and requires it (``MYNA_MESSAGE_SIGNATURE_POLICY=hybrid``). ``start_nodes=False``
    prepares the nodes without starting them (a test starts its own with ``start``).
    """
    policy = {"message_signatures": "hybrid", "message_signature_policy": "hybrid"}
    hub_database = fresh_database(tmp, "dist_hub")
    portal_port = free_port()
    settings = Settings(
        environment="test",
        data_dir=tmp / "hub",
        database_url=hub_database,
        portal_url=f"http://127.0.0.1:{portal_port}",
        log_json=False,
        tree_head_interval_seconds=3600,
        **TEST_SETTINGS,  # type: ignore[arg-type]
        **(policy if hybrid else {}),  # type: ignore[arg-type]
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
        **{f"MYNA_{name.upper()}": value for name, value in TEST_SETTINGS.items()},
        **({f"MYNA_{name.upper()}": value for name, value in policy.items()} if hybrid else {}),
    }
    hub_environment = {
        **environment,
        "MYNA_DATABASE_URL": hub_database,
        "MYNA_PORTAL_URL": settings.portal_url,
        "MYNA_DATA_DIR": str(tmp / "hub"),
    }
    keys = tmp / "keys"
    node_databases = {code: fresh_database(tmp, f"dist_{code.replace('-', '_')}") for code in nodes}
    for code, name in nodes.items():
        # The government CA lives with the hub: the agency's key and certificate are
        # made there, as an operator would, and recorded in the hub's JPKI tables.
        run_myna(hub_environment, "jpki", "org-issue", "--code", code, "--name", name,
                 "--key-out", str(keys / code), *(["--pq"] if hybrid else []))  # fmt: skip
        run_myna(environment, "agency", "load", "--agency", code, "--from-database",
                 hub_database, "--database-url", node_databases[code])  # fmt: skip
    portal = ServerThread(create_app(container), portal_port).start()
    # Issue the government CA's CRL once, before any exchange holds the hub's database.
    httpx.get(f"{settings.portal_url}/jpki/crl/gov.crl", timeout=10).raise_for_status()
    if hybrid:
        httpx.get(f"{settings.portal_url}/jpki/crl/pq-gov.crl", timeout=10).raise_for_status()
    deployment = Deployment(
        tmp, settings, container, taro.id, environment, keys, node_databases, hybrid=hybrid
    )
    try:
        for code in nodes if start_nodes else ():
            deployment.nodes[code] = deployment.start(code)
        yield deployment
    finally:
        for node in deployment.nodes.values():
            node.stop()
        portal.stop()
        for transport in deployment.transports:
            transport.close()
        container.engine.dispose()
