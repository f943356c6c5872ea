"""A worker killed with SIGKILL while it appends to the exchange log.

A child process over a SQLite file makes exchanges (self-information requests through
the in-process hub); each commits its log entries with the exchange. The child runs a
few to the end, then is killed right after the log was written but before the commit
(the hub's append is wrapped in the child only, so the package's own code runs as is).
After a restart: every committed exchange is in the log with all its entries, nothing
of the killed one is, the log verifies, and the next exchange appends after it.

A submission killed before its commit is tests/integration/applications/test_crash.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from myna import network, registry
from myna.bootstrap import build_container
from myna.network import transparency
from myna.platform.db import unit_of_work
from tests.faults.conftest import portal_environment, prepared

pytestmark = pytest.mark.slow

ITEMS = ["household", "resident-tax", "health-insurance"]
COMMITTED = 3

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from myna import network
    from myna.bootstrap import build_container
    from myna.network import hub as hub_module
    from myna.platform.db import unit_of_work
    from myna.platform.settings import get_settings

    resident_id, committed = int(sys.argv[1]), int(sys.argv[2])
    items = sys.argv[3].split(",")
    real_append = hub_module.append_entries

    def append_then_die(**kwargs):
        real_append(**kwargs)
        kwargs["session"].flush()
        print("appended, not committed", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    container = build_container(get_settings())
    for n in range(committed + 1):
        if n == committed:
            hub_module.append_entries = append_then_die
        with unit_of_work(container.session_factory) as session:
            hub = network.build_hub(session=session, settings=container.settings, remote=None)
            network.request_self_information(
                session=session, hub=hub, resident_id=resident_id, items=items
            )
        print("committed", flush=True)
    """
)


def test_a_worker_killed_mid_append_leaves_whole_exchanges_and_a_log_that_verifies(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'hub.db'}"
    settings = prepared(tmp_path, database_url)
    container = build_container(settings)
    with unit_of_work(container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"].id
        network.seed_agency_data(session=session, seed=1)
        before = transparency.tree_size(session=session)
    env = {**os.environ, **portal_environment(tmp_path, database_url)}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(taro), str(COMMITTED), ",".join(ITEMS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == -9, child.stderr
    said = [
        line
        for line in child.stdout.splitlines()
        if line in {"committed", "appended, not committed"}
    ]
    assert said == ["committed"] * COMMITTED + ["appended, not committed"]

    # The restart: a new composition root over the same file.
    container.engine.dispose()
    restarted = build_container(settings)
    with unit_of_work(restarted.session_factory) as session:
        # What the restarted publisher does first: integrate what was committed.
        restarted.publish_tree_head(session)
    with unit_of_work(restarted.session_factory) as session:
        size = transparency.tree_size(session=session)
        page = transparency.entries_for_subject(session=session, subject=str(taro), page_size=500)
        report = transparency.verify_log(
            session=session, public_key=restarted.log_signer.public_jwk
        )
    assert size - before == COMMITTED * len(ITEMS)
    # Each committed exchange is whole: every item, once per exchange.
    assert Counter(e.item for e in page.items) == dict.fromkeys(ITEMS, COMMITTED)
    assert report.ok, report.problems
    assert report.tree_size == size

    with unit_of_work(restarted.session_factory) as session:
        hub = network.build_hub(session=session, settings=settings, remote=None)
        network.request_self_information(session=session, hub=hub, resident_id=taro, items=ITEMS)
    with unit_of_work(restarted.session_factory) as session:
        restarted.publish_tree_head(session)
    with unit_of_work(restarted.session_factory) as session:
        assert transparency.tree_size(session=session) == size + len(ITEMS)
        after = transparency.verify_log(session=session, public_key=restarted.log_signer.public_jwk)
    assert after.ok, after.problems
    restarted.engine.dispose()
