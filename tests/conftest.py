"""Shared fixtures: one migrated database per run, a rolled-back transaction per test.

The database is SQLite by default; set ``MYNA_TEST_DATABASE_URL`` to a PostgreSQL
URL (``make test`` does, for a second pass) to run the same suite there. Each
pytest-xdist worker gets a database of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from cryptography.hazmat.primitives.asymmetric import mldsa, rsa
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from myna.bootstrap import Container, build_container, session_caches
from myna.card import service as card_service
from myna.jpki import service as jpki_service
from myna.jpki.domain import AuthorityKind
from myna.jpki.profile import CaPrivateKey
from myna.platform import i18n
from myna.platform.db import make_engine
from myna.platform.migrate import upgrade_to_head
from myna.platform.settings import Settings

# What every test deployment is given, as settings or as MYNA_ variables of a process:
# its own secrets, and the lowest scrypt cost readers accept for new card PIN verifiers
# and staff password records (2^10: the same code, a sixteenth of the default's CPU).
TEST_SETTINGS = {
    "secret_key": "test-secret-key-not-for-production",
    "card_secret": "test-card-secret-not-for-production",
    "ca_secret": "test-ca-secret-not-for-production",
    "card_pin_work_factor": "10",
    "staff_password_work_factor": "10",
}


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _admin(url: str) -> Engine:
    return make_engine(
        make_url(url).render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )


def _postgres_database(url: str) -> tuple[str, str]:
    """Create a fresh database for this run's worker next to ``url``'s: its URL and name.

    Named by the xdist worker and the process, so two runs on one server (a second
    checkout, a CI job beside a developer's) never drop each other's database.
    """
    name = f"myna_test_{_worker()}_{os.getpid()}"
    admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


@pytest.fixture(scope="session", autouse=True)
def _drop_this_runs_node_databases() -> Iterator[None]:
    """Drop, at the end, the databases this test process made for its agency nodes.

    ``tests.integration.network.deployment.fresh_database`` names them after the worker
    and the process (``myna_test_<worker>_<pid>_<name>``); without this they stayed on
    the server after every PostgreSQL run, about 230 MB a run.
    """
    yield
    configured = os.environ.get("MYNA_TEST_DATABASE_URL", "")
    if not configured.startswith("postgresql"):
        return
    prefix = f"myna_test_{_worker()}_{os.getpid()}_"
    admin = _admin(configured)
    with admin.connect() as conn:
        names = conn.execute(
            text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
            {"prefix": prefix},
        ).scalars()
        for name in list(names):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("MYNA_TEST_DATABASE_URL", "")
    if not configured.startswith("postgresql"):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'myna-test.db'}"
        return
    url, name = _postgres_database(configured)
    yield url
    admin = _admin(configured)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection whose outer transaction is rolled back after the test."""
    with engine.connect() as conn:
        transaction = conn.begin()
        yield conn
        if transaction.is_active:
            transaction.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions that commit into savepoints of the test's transaction."""
    return sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info=session_caches(),  # this test's own, as a process's container has them
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path / "var",
        portal_url="http://testserver",
        log_json=False,
        # Tests publish tree heads themselves; a background publisher would share the
        # test's connection from another thread.
        tree_head_interval_seconds=3600,
        **TEST_SETTINGS,  # type: ignore[arg-type]
    )


@pytest.fixture
def container(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Container:
    """The composition root, built as in production, over the test's transaction."""
    built = build_container(settings, engine=engine)
    built.session_factory = session_factory
    return built


@pytest.fixture(autouse=True)
def _japanese_by_default() -> Iterator[None]:
    """Each test starts in the default locale, whatever the previous one chose."""
    i18n.set_locale(i18n.DEFAULT_LOCALE)
    yield
    i18n.set_locale(i18n.DEFAULT_LOCALE)


@pytest.fixture(scope="session")
def _logging_at_start() -> dict[str, Any]:
    """The logging configuration the run started with."""
    configured = structlog.get_config()
    return {**configured, "processors": list(configured["processors"])}


@pytest.fixture(autouse=True)
def _logging_as_at_start(_logging_at_start: dict[str, Any]) -> Iterator[None]:
    """Each test starts, and leaves, with the logging configuration the run started with.

    A command run in-process (the CLI, a benchmark) configures structlog for itself, at
    level WARNING for instance — also from a module's fixture, before any test of it;
    left in place, a later test on the same worker would no longer see the INFO records
    it captures.
    """
    structlog.configure(**_logging_at_start)
    yield
    structlog.configure(**_logging_at_start)


def new_ca_key(kind: AuthorityKind) -> CaPrivateKey:
    """A CA key of the kind's hierarchy: ML-DSA-65 for the post-quantum CAs, else RSA-2048."""
    if kind.post_quantum:
        return mldsa.MLDSA65PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def pooled_ca_keys() -> dict[AuthorityKind, CaPrivateKey]:
    """One key per CA kind for the whole run: RSA key generation is the slow part."""
    return {kind: new_ca_key(kind) for kind in AuthorityKind}


@pytest.fixture(autouse=True)
def _pooled_ca_keys(
    monkeypatch: pytest.MonkeyPatch, pooled_ca_keys: dict[AuthorityKind, CaPrivateKey]
) -> None:
    """Each test's certificate authorities are new (serials, certificates, database rows)
    but share the run's CA keys, made once (the CAs of different kinds never share one)."""
    monkeypatch.setattr(jpki_service, "_new_key", lambda kind: pooled_ca_keys[kind])


# Distinct chip keys handed out in turn: no two of the last dozen cards share a key, so
# a test that tells one card's signature from another's still can.
CHIP_KEY_POOL = 24


@pytest.fixture(scope="session")
def pooled_chip_keys() -> list[rsa.RSAPrivateKey]:
    """Chip keys made once per run (two per card are otherwise made at each issuance)."""
    return [
        rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(CHIP_KEY_POOL)
    ]


@pytest.fixture(autouse=True)
def _pooled_chip_keys(
    monkeypatch: pytest.MonkeyPatch, pooled_chip_keys: list[rsa.RSAPrivateKey]
) -> None:
    turn = iter(pooled_chip_keys * 4)  # a test issuing more than 48 cards fails loudly
    monkeypatch.setattr(card_service, "generate_chip_key", lambda: next(turn))
