"""The benchmarks' PostgreSQL CPU: each backend of the database, read from this host's /proc.

In the PostgreSQL pass (the benchmarks' own tests make SQLite files and run once, in the
SQLite pass; this one needs the server).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from myna.bench import harness

pytestmark = pytest.mark.postgres


def test_the_cpu_of_the_databases_backends_is_read_and_a_busy_one_grows(
    engine: Engine, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (MYNA_TEST_DATABASE_URL)")
    with engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        before = harness.database_backends(database_url)
        assert before is not None
        assert pid in before
        # About half a second of the backend's CPU, none of this process's.
        connection.execute(text("SELECT count(*) FROM generate_series(1, 5000000)")).scalar_one()
        after = harness.database_backends(database_url)
    assert after is not None
    assert after[pid] - before[pid] >= 0.1
    spent = harness.backends_cpu_between(before, after)
    assert spent is not None
    assert spent >= 0.1
    # The reading's own connection is not one of the backends it reports.
    assert len(after) == len(before)
