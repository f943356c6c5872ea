"""Agency nodes failing under the hub: killed while answering, or with a drifted clock.

The hub runs in this process and answers for taro's health insurance society itself;
千代田区 runs as a ``myna agency serve`` process started by each test
(tests/integration/network/deployment.py). A node killed
in the middle of an exchange, or one whose clock is minutes off, gives the resident a
partial answer naming what is missing, and the exchange log records a failure for
that node, never a success.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from myna import network
from tests.integration.network.deployment import Deployment, deploy

# One worker builds this module's shared fixture once (make test runs --dist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("faults.test_agency_nodes")]

CHIYODA = "muni-131016"
NODES = {CHIYODA: "東京都千代田区"}  # the insurer answers in the hub's process
ITEMS = ["household", "resident-tax", "health-insurance"]
CHIYODA_ITEMS = ["household", "resident-tax"]
SUCCESS, FAILED = network.Outcome.SUCCESS, network.Outcome.FAILED
ESTABLISHED = "01"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy(tmp_path_factory.mktemp("faults-nodes"), NODES, start_nodes=False) as deployed:
        yield deployed


def _by_item(outcome: network.ExchangeOutcome) -> dict[str, network.ItemResult]:
    return {r.item: r for r in outcome.results}


def _request_waiting_at(port: int) -> bool:
    """Whether a connection to ``port`` holds bytes its (stopped) server has not read."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, queues = fields[1], fields[3], fields[4]
        waiting = int(queues.split(":")[1], 16)
        if int(local.split(":")[1], 16) == port and state == ESTABLISHED and waiting > 0:
            return True
    return False


def test_a_node_killed_mid_exchange_leaves_a_partial_answer_and_no_success(
    deployment: Deployment,
) -> None:
    node = deployment.start(CHIYODA)
    port = int(node.url.rsplit(":", 1)[1])
    before = deployment.logged()
    # Frozen, the node still accepts (the kernel does) and receives the hub's query;
    # it is killed once the query is there, before it can answer.
    os.kill(node.process.pid, signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            running = pool.submit(deployment.exchange, ITEMS, {CHIYODA: node.url}, 30.0)
            deadline = time.monotonic() + 20
            while not _request_waiting_at(port):
                assert time.monotonic() < deadline, "the hub's query never reached the node"
                assert not running.done(), "the exchange ended before the node was killed"
                time.sleep(0.02)
            node.process.kill()
            node.process.wait(timeout=10)
            outcome = running.result(timeout=30)
    finally:
        if node.process.poll() is None:
            node.process.kill()
            node.process.wait()

    results = _by_item(outcome)
    for item in CHIYODA_ITEMS:
        assert results[item].provider == CHIYODA
        assert results[item].outcome is FAILED
        assert results[item].detail == "unreachable"
        assert results[item].records == ()
    # The other source answered: a partial answer, naming what is missing.
    assert results["health-insurance"].outcome is SUCCESS
    assert results["health-insurance"].records
    assert outcome.unavailable_items() == CHIYODA_ITEMS
    new = deployment.logged() - before
    for item in CHIYODA_ITEMS:
        assert new[(CHIYODA, item, FAILED)] == 1
    assert not any(provider == CHIYODA and result is SUCCESS for provider, _, result in new)


def test_a_node_whose_clock_is_minutes_off_refuses_the_query_as_stale(
    deployment: Deployment, capsys: pytest.CaptureFixture[str]
) -> None:
    # Ten minutes ahead: past the five minutes of skew a message may have.
    node = deployment.start(CHIYODA, clock_offset_seconds=600)
    try:
        before = deployment.logged()
        capsys.readouterr()
        outcome = deployment.exchange(ITEMS, {CHIYODA: node.url})
        hub_log = capsys.readouterr().out
    finally:
        node.stop()

    results = _by_item(outcome)
    for item in CHIYODA_ITEMS:
        assert results[item].outcome is FAILED
        assert results[item].detail == "provider_refused"
        assert results[item].records == ()
    assert results["health-insurance"].outcome is SUCCESS
    assert outcome.unavailable_items() == CHIYODA_ITEMS
    # The operator sees why: the node's own error code, in the hub's log.
    assert "node_refused" in hub_log
    assert "stale_message" in hub_log
    new = deployment.logged() - before
    for item in CHIYODA_ITEMS:
        assert new[(CHIYODA, item, FAILED)] == 1
    assert not any(provider == CHIYODA and result is SUCCESS for provider, _, result in new)
