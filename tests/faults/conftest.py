"""What the fault tests share: a portal's environment for a subprocess, and PostgreSQL.

Every test here runs real processes (the portal, agency nodes, a worker killed with
SIGKILL) and is marked ``slow``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from myna.bootstrap import build_container
from myna.platform.settings import Settings
from myna.runtime import prepare_database
from tests.conftest import TEST_SETTINGS

POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def portal_environment(data_dir: Path, database_url: str, **more: str) -> dict[str, str]:
    """The environment a portal subprocess is started with (secrets as the tests')."""
    return {
        "MYNA_ENVIRONMENT": "test",
        "MYNA_LOG_JSON": "false",
        "MYNA_LOG_LEVEL": "WARNING",
        "MYNA_DATA_DIR": str(data_dir),
        "MYNA_DATABASE_URL": database_url,
        "MYNA_TREE_HEAD_INTERVAL_SECONDS": "3600",
        **{f"MYNA_{name.upper()}": value for name, value in TEST_SETTINGS.items()},
        **more,
    }


def prepared(data_dir: Path, database_url: str) -> Settings:
    """Settings over ``database_url``, its schema migrated to the head."""
    settings = Settings(
        environment="test",
        data_dir=data_dir,
        database_url=database_url,
        log_json=False,
        tree_head_interval_seconds=3600,
        **TEST_SETTINGS,  # type: ignore[arg-type]
    )
    container = build_container(settings)
    prepare_database(container)
    container.engine.dispose()
    return settings


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database of its own (dropped after); skipped without a server."""
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL at 127.0.0.1:5432")
    name = f"myna_fault_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
