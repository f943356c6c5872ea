"""`myna db backup` / `myna db restore`: a restored system's exchange log still verifies,
and the next signed head after the restore is consistent with the heads before it.

On SQLite always; on PostgreSQL in the suite's PostgreSQL pass (``MYNA_TEST_DATABASE_URL``),
in two databases of its own, created and dropped here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from myna.bootstrap import build_container
from myna.cli import app as myna
from myna.cli.transparency import app as log_cli
from myna.network import transparency as tlog
from myna.platform import backup
from myna.platform.db import make_engine, unit_of_work
from myna.platform.migrate import upgrade_to_head
from myna.platform.settings import get_settings
from tests.integration.transparency.conftest import exchange

runner = CliRunner()


def _postgres_base() -> str | None:
    configured = os.environ.get("MYNA_TEST_DATABASE_URL", "")
    return configured if configured.startswith("postgresql") else None


def _create(base: str, name: str) -> str:
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def _drop(base: str, name: str) -> None:
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty databases: the running system's, and the one it is restored into."""
    base = _postgres_base()
    if base is None:
        yield f"sqlite:///{tmp_path / 'live.db'}", f"sqlite:///{tmp_path / 'restored.db'}"
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    names = [f"myna_backup_{worker}_live", f"myna_backup_{worker}_restored"]
    urls = [_create(base, name) for name in names]
    yield urls[0], urls[1]
    for name in names:
        _drop(base, name)


def _use(monkeypatch: pytest.MonkeyPatch, data_dir: Path, url: str) -> None:
    monkeypatch.setenv("MYNA_ENVIRONMENT", "development")
    monkeypatch.setenv("MYNA_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MYNA_DATABASE_URL", url)
    get_settings.cache_clear()


def _myna(*args: str, code: int = 0) -> str:
    result = runner.invoke(myna, list(args))
    assert result.exit_code == code, result.output
    # The console wraps long lines (paths): compare the text without its white space.
    return "".join(result.output.split())


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_restored_log_verifies_and_keeps_growing_consistently(
    databases: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live, restored = databases
    data_dir = tmp_path / "var"
    _use(monkeypatch, data_dir, live)
    container = build_container(get_settings())
    upgrade_to_head(container.engine)
    with unit_of_work(container.session_factory) as session:
        tlog.append(session=session, entries=exchange(5))
        container.publish_tree_head(session)
        tlog.append(session=session, entries=exchange(7, subject="1002"))
        last_before = container.publish_tree_head(session)
    container.engine.dispose()
    assert last_before.tree_size == 12

    archive = tmp_path / "backups" / "myna.backup"
    output = _myna("db", "backup", "--out", str(archive))
    assert "Backedup" in output
    assert "keys/" in output
    assert "cards/" in output
    assert archive.is_file()
    # The same file again is refused, and left as it was.
    before = archive.read_bytes()
    assert "はすでに存在します" in _myna("db", "backup", "--out", str(archive), code=1)
    assert archive.read_bytes() == before

    # The live system carries on after the backup; that is lost with the restore.
    live_container = build_container(get_settings())
    with unit_of_work(live_container.session_factory) as session:
        tlog.append(session=session, entries=exchange(3, subject="1003"))
    live_container.engine.dispose()

    # Restored elsewhere, with the same data directory (its log keys) beside it.
    _use(monkeypatch, data_dir, restored)
    assert "Restored" in _myna("db", "restore", "--from", str(archive))
    key = str(data_dir / "keys" / "exchange-log.pem")
    verified = runner.invoke(log_cli, ["verify", "--database", "--key", key])
    assert verified.exit_code == 0, verified.output
    assert "OK: the log of 12 entries verifies." in verified.output

    container = build_container(get_settings())
    with unit_of_work(container.session_factory) as session:
        assert tlog.tree_size(session=session) == 12
        assert tlog.latest_tree_head(session=session) == last_before
        tlog.append(session=session, entries=exchange(4, subject="1004"))
        after = container.publish_tree_head(session)
        proof = tlog.consistency_proof(
            session=session, first=last_before.tree_size, second=after.tree_size
        )
        report = tlog.verify_log(session=session, public_key=container.log_signer.public_jwk)
    container.engine.dispose()
    assert after.tree_size == 16
    # A monitor holding the last head from before the backup accepts the new one.
    keys = tlog.LogPublicKeys(tlog.public_key(container.log_signer.public_jwk))
    keys.verify(after, "classic")
    tlog.verify_heads_consistent(first=last_before, second=after, proof=proof)
    # ... and refuses a head from a log that forked: the entries lost with the restore.
    forged = tlog.ConsistencyProof(
        first=proof.first, second=proof.second, path=(bytes(32), *proof.path[1:])
    )
    with pytest.raises(tlog.ProofVerificationError):
        tlog.verify_heads_consistent(first=last_before, second=after, proof=forged)
    assert report.ok, report.problems
    assert report.consistency_checked >= 2


def test_restoring_over_data_needs_force(
    databases: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live, _restored = databases
    data_dir = tmp_path / "var"
    _use(monkeypatch, data_dir, live)
    container = build_container(get_settings())
    upgrade_to_head(container.engine)
    with unit_of_work(container.session_factory) as session:
        tlog.append(session=session, entries=exchange(3))
    container.engine.dispose()
    archive = tmp_path / "myna.backup"
    _myna("db", "backup", "--out", str(archive))
    container = build_container(get_settings())
    with unit_of_work(container.session_factory) as session:
        tlog.append(session=session, entries=exchange(2))
    container.engine.dispose()

    refused = _myna("db", "restore", "--from", str(archive), code=1)
    assert "すでにデータがあります" in refused
    assert "--force" in refused
    container = build_container(get_settings())
    with unit_of_work(container.session_factory) as session:
        assert tlog.log_status(session=session).entries == 5  # untouched
    container.engine.dispose()

    _myna("db", "restore", "--from", str(archive), "--force")
    container = build_container(get_settings())
    with unit_of_work(container.session_factory) as session:
        assert tlog.log_status(session=session).entries == 3
    container.engine.dispose()


def test_files_that_are_not_backups_are_refused(
    databases: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _live, restored = databases
    _use(monkeypatch, tmp_path / "var", restored)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n", encoding="utf-8")
    refused = _myna("db", "restore", "--from", str(notes), code=1)
    assert f"{notes}はMynaのデータベースのバックアップではありません" in refused
    missing = tmp_path / "missing.backup"
    assert f"{missing}は存在しません" in _myna("db", "restore", "--from", str(missing), code=1)
    # The other backend's backup: named as such.
    other = tmp_path / "other.backup"
    other.write_bytes(
        backup.PG_MAGIC + b"\x01" * 64
        if make_url(restored).get_backend_name() == "sqlite"
        else backup.SQLITE_MAGIC + b"\x00" * 84
    )
    with pytest.raises(backup.WrongKindError):
        backup.restore(restored, other)


def test_a_sqlite_file_without_myna_schema_is_not_a_backup(tmp_path: Path) -> None:
    stranger = tmp_path / "stranger.db"
    engine = make_engine(f"sqlite:///{stranger}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    with pytest.raises(backup.NotABackupError):
        backup.restore(f"sqlite:///{tmp_path / 'target.db'}", stranger)


def test_without_the_postgresql_client_the_tools_are_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    url = "postgresql+psycopg://myna@127.0.0.1:5432/myna"
    with pytest.raises(backup.ToolMissingError) as refused:
        backup.backup(url, tmp_path / "out.backup")
    assert refused.value.params == {"tool": "pg_dump"}
    assert not (tmp_path / "out.backup").exists()
    archive = tmp_path / "in.backup"
    archive.write_bytes(backup.PG_MAGIC + b"\x00" * 64)
    with pytest.raises(backup.ToolMissingError) as refused:
        backup.restore(url, archive)
    assert refused.value.params == {"tool": "pg_restore"}


def test_progress_is_reported_until_complete(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    engine.dispose()
    seen: list[tuple[int, int]] = []
    result = backup.backup(
        url, tmp_path / "copy.backup", on_progress=lambda d, t: seen.append((d, t))
    )
    assert seen
    assert seen[-1][0] == seen[-1][1] > 0
    assert result.schema_revision is not None
    assert json.dumps(result.kind) == '"sqlite"'


def test_a_client_older_than_the_server_is_refused_a_newer_one_noted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = make_url("postgresql+psycopg://myna@127.0.0.1:5432/myna")
    monkeypatch.setattr(backup, "_server", lambda _url: (16, 40))
    monkeypatch.setattr(backup, "_client_major", lambda _tool: 15)
    with pytest.raises(backup.ClientTooOldError) as refused:
        backup._versions(url, "/usr/bin/pg_dump")
    assert refused.value.params == {"tool": "pg_dump", "client": 15, "server": 16}
    monkeypatch.setattr(backup, "_client_major", lambda _tool: 17)
    tables, notes = backup._versions(url, "/usr/bin/pg_dump")
    assert tables == 40
    assert notes == (
        "pg_dump is version 17, the server version 16: the archive needs pg_restore 17 or newer.",
    )
    monkeypatch.setattr(backup, "_client_major", lambda _tool: 16)
    assert backup._versions(url, "/usr/bin/pg_dump") == (40, ())
