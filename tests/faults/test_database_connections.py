"""PostgreSQL cutting the portal's connections while it serves.

The portal runs as its own process over a fresh database. A request is made to wait
inside the database (the test holds a lock on the table it writes), then every
connection of the portal is terminated (``pg_terminate_backend``), as a database
restart or a failover would. That request must get a clear 503, not a 500 with a
trace, and the next ones must succeed without restarting Myna.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest

from myna.bench.harness import portal_process
from tests.faults.conftest import POSTGRES, portal_environment, prepared

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

LATER = "しばらくしてから"


def _waiting_on_a_lock(admin: psycopg.Connection, database: str) -> bool:
    row = admin.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
        (database,),
    ).fetchone()
    return row is not None and row[0] > 0


def test_connections_cut_mid_request_answer_503_and_the_portal_recovers(
    tmp_path: Path, postgres_database: str
) -> None:
    database = postgres_database.rsplit("/", 1)[1]
    prepared(tmp_path, postgres_database)
    env = portal_environment(tmp_path, postgres_database)
    plain = postgres_database.replace("+psycopg", "")
    with (
        portal_process(env, workers=1) as url,
        httpx.Client(base_url=url, timeout=30) as client,
        psycopg.connect(POSTGRES, autocommit=True) as admin,
        psycopg.connect(plain) as locker,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        assert client.post("/api/login/challenges").status_code == 201
        locker.execute("LOCK TABLE login_challenges IN ACCESS EXCLUSIVE MODE")
        waiting = pool.submit(client.post, "/api/login/challenges")
        deadline = time.monotonic() + 20
        while not _waiting_on_a_lock(admin, database):
            assert time.monotonic() < deadline, "the request never reached the database"
            assert not waiting.done(), waiting.result()
            time.sleep(0.02)
        cut = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> %s",
            (database, locker.info.backend_pid),
        ).fetchone()
        assert cut is not None
        assert cut[0] >= 1
        answer = waiting.result(timeout=30)
        locker.rollback()

        assert answer.status_code == 503
        assert answer.json()["error"] == "database_unavailable"
        assert LATER in answer.json()["message"]
        assert "Traceback" not in answer.text
        # The same process serves again: the dead connections are replaced.
        for _ in range(3):
            assert client.post("/api/login/challenges").status_code == 201
