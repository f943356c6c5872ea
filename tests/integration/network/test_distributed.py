"""Distributed mode: the hub and agency nodes as separate processes on 127.0.0.1.

A hub database with the personas and their agencies' records; the portal (serving the
government CA's CRL) in a thread; 千代田区 (muni-131016) and taro's health insurance
society (kenpo-minato-denki) each run as ``myna agency serve`` on a database of its own,
filled by ``myna agency load``, with keys from ``myna jpki org-issue``. The hub asks them
over HTTP with signed messages; a node that is down, hangs or signs with a wrong key
makes its items unavailable and is logged as such, never as a success.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from cryptography import x509

from myna import network
from myna.bench.harness import free_port
from myna.bootstrap import build_container
from myna.network.messages import Credential
from myna.network.node import AgencyNode, CrlCache, create_node_app
from tests.integration.network.deployment import Deployment, deploy
from tests.integration.network.nodekit import (
    ServerThread,
    new_p256_key,
    silent_listener,
    start_node,
)

# One worker builds this module's shared fixture once (make test runs --dist loadgroup).
pytestmark = pytest.mark.xdist_group("integration.network.test_distributed")

CHIYODA = "muni-131016"
MINATO = "kenpo-minato-denki"
NODES = {CHIYODA: "東京都千代田区", MINATO: "みなと電機健康保険組合"}
ITEMS = ["household", "resident-tax", "child-allowance", "health-insurance"]
SUCCESS, FAILED, TIMEOUT = (
    network.Outcome.SUCCESS,
    network.Outcome.FAILED,
    network.Outcome.TIMEOUT,
)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy(tmp_path_factory.mktemp("distributed"), NODES) as deployed:
        yield deployed


def _by_item(outcome: network.ExchangeOutcome) -> dict[str, network.ItemResult]:
    return {r.item: r for r in outcome.results}


def test_the_hub_gets_the_residents_records_from_two_agency_nodes_over_http(
    deployment: Deployment,
) -> None:
    before = deployment.logged()
    outcome = deployment.exchange(ITEMS, deployment.urls())

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
        outcome = deployment.exchange(ITEMS, deployment.urls(**{MINATO: server.url}))
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
        outcome = deployment.exchange(ITEMS, deployment.urls(**{CHIYODA: hanging}), timeout=0.5)

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
        working = deployment.exchange(ITEMS, deployment.urls(**{CHIYODA: node.url}))
        assert _by_item(working)["resident-tax"].outcome is SUCCESS
    finally:
        node.stop()
    before = deployment.logged()
    outcome = deployment.exchange(ITEMS, deployment.urls(**{CHIYODA: node.url}))

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
