"""Distributed mode under the hybrid policy: the hub and a real agency node process both
sign with ES256 and ML-DSA-65 and require both (ADR 0010)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from myna import network
from myna.bench.harness import free_port
from myna.network.domain import ProviderQuery, new_request_id
from myna.network.messages import PQ_HEADER
from myna.platform.db import unit_of_work, utcnow
from myna.platform.encoding import b64url_decode
from tests.integration.network.deployment import Deployment, deploy
from tests.integration.network.nodekit import start_node

# One worker builds this module's shared fixture once (make test runs --dist loadgroup).
pytestmark = pytest.mark.xdist_group("integration.network.test_distributed_hybrid")

CHIYODA = "muni-131016"
NODES = {CHIYODA: "東京都千代田区"}
ITEMS = ["household", "resident-tax"]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy(tmp_path_factory.mktemp("hybrid"), NODES, hybrid=True) as deployed:
        yield deployed


def _query(deployment: Deployment) -> ProviderQuery:
    return ProviderQuery(
        request_id=new_request_id(),
        requester="nta",
        procedure="self-disclosure",
        provider=CHIYODA,
        link_code="A" * 32,
        items=("household",),
        issued_at=utcnow() - timedelta(seconds=1),
    )


def test_the_hub_and_a_node_exchange_hybrid_messages(deployment: Deployment) -> None:
    before = deployment.logged()
    outcome = deployment.exchange(ITEMS, deployment.urls())
    assert {r.outcome for r in outcome.results} == {network.Outcome.SUCCESS}
    assert outcome.request_id in deployment.answered_by_node(CHIYODA)
    new = deployment.logged() - before
    assert new == Counter(
        {(r.provider, r.item, network.Outcome.SUCCESS): 1 for r in outcome.results}
    )


def test_the_node_answers_with_an_ml_dsa_65_signature_beside_es256(deployment: Deployment) -> None:
    with unit_of_work(deployment.container.session_factory) as session:
        hub = network.credential_for(
            session=session, settings=deployment.settings, code=network.HUB
        )
    assert hub.pq is not None
    transport = network.http_transport(
        deployment.settings.model_copy(update={"agency_nodes": deployment.urls()})
    )
    assert transport is not None
    deployment.transports.append(transport)
    answer = transport.query(CHIYODA, network.sign(_query(deployment).to_json(), hub))
    header = json.loads(b64url_decode(answer.split(".", maxsplit=1)[0]))
    assert header["alg"] == "ES256"
    pq_header = json.loads(b64url_decode(header[PQ_HEADER].split(".", maxsplit=1)[0]))
    assert pq_header == {**pq_header, "alg": "ML-DSA-65", "kid": CHIYODA}
    # The hub opens it under its hybrid policy, the node's post-quantum certificate
    # checked against the hub's JPKI tables.
    with unit_of_work(deployment.container.session_factory) as session:
        opened = network.open_signed(
            answer, session=session, settings=deployment.settings, policy="hybrid"
        )
    assert opened.sender == CHIYODA


def test_the_node_refuses_a_hub_message_without_ml_dsa(deployment: Deployment) -> None:
    with unit_of_work(deployment.container.session_factory) as session:
        hub = network.credential_for(
            session=session, settings=deployment.settings, code=network.HUB
        )
    classic = network.Credential(hub.code, hub.certificate, hub.private_key)
    transport = network.http_transport(
        deployment.settings.model_copy(update={"agency_nodes": deployment.urls()})
    )
    assert transport is not None
    deployment.transports.append(transport)
    with pytest.raises(network.ExchangeError) as error:
        transport.query(CHIYODA, network.sign(_query(deployment).to_json(), classic))
    assert "missing_pq_signature" in str(error.value.localized())


def test_a_node_refuses_to_start_hybrid_without_the_post_quantum_chain(
    deployment: Deployment, tmp_path_factory: pytest.TempPathFactory
) -> None:
    arguments = deployment.serve_args(CHIYODA)
    cut = arguments.index("--pq-ca-chain")
    del arguments[cut : cut + 2]
    log = tmp_path_factory.mktemp("refused") / "node.log"
    env = {**deployment.environment, "MYNA_DATA_DIR": str(log.parent)}
    with pytest.raises(RuntimeError, match="--pq-ca-chain"):
        start_node(env, free_port(), *arguments, log=log)
