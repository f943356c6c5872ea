"""Backups of the database and their restore (``myna db backup`` / ``myna db restore``).

PostgreSQL is dumped with ``pg_dump`` in its custom format and restored with
``pg_restore`` in one transaction (all or nothing); SQLite is copied page by page with
SQLite's online backup API (``sqlite3.Connection.backup``), which reads a consistent
snapshot while the portal keeps writing and writes the target in one transaction. A
backup is written beside its destination under a temporary name and renamed when
complete, so a failed backup leaves no partial file.

What a backup does not hold — the exchange log's signing keys, the virtual cards and
the other files under the data directory, the deployment's secrets — is listed in
docs/operations.md; the commands remind the operator of it.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from myna.platform.db import make_engine
from myna.platform.errors import N_, MynaError

__all__ = [
    "BackupError",
    "BackupExistsError",
    "BackupFileMissingError",
    "BackupResult",
    "ClientTooOldError",
    "NotABackupError",
    "TargetNotEmptyError",
    "ToolFailedError",
    "ToolMissingError",
    "WrongKindError",
    "backup",
    "restore",
]

# Called with (done, total) as a backup or restore advances (pages, or tables).
OnProgress = Callable[[int, int], None]

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
SQLITE_PAGES_PER_STEP = 1024
# The table every Myna database has: a file without it is not a backup of Myna.
SCHEMA_TABLE = "alembic_version"
_PG_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")
_PG_TABLE_DATA = re.compile(r"^\d+;\s*\d+\s+\d+\s+TABLE DATA\s+(\S+)\s+(\S+)", re.MULTILINE)


class BackupError(MynaError, code="backup_failed"):
    """A backup or restore that could not be done (nothing was changed)."""

    message = N_("The backup or restore could not be done.")


class ToolMissingError(BackupError, code="tool_missing"):
    """pg_dump or pg_restore is not installed."""

    message = N_(
        "{tool} is not installed. Install the PostgreSQL client tools "
        "(Debian: apt-get install postgresql-client) and try again."
    )


class ToolFailedError(BackupError, code="tool_failed"):
    """pg_dump or pg_restore ended with an error."""

    message = N_("{tool} failed: {reason}")


class ClientTooOldError(BackupError, code="client_too_old"):
    """pg_dump older than the server refuses to dump it."""

    message = N_(
        "The PostgreSQL server is version {server}, but {tool} is version {client}. "
        "Install the client tools of version {server} or newer."
    )


class BackupExistsError(BackupError, code="backup_exists"):
    """The backup file already exists."""

    message = N_("{path} already exists. Choose another file, or add --force to replace it.")


class BackupFileMissingError(BackupError, code="backup_missing"):
    """The file to restore from does not exist."""

    message = N_("{path} does not exist.")


class NotABackupError(BackupError, code="not_a_backup"):
    """The file is not a backup of a Myna database."""

    message = N_("{path} is not a backup of a Myna database.")


class WrongKindError(BackupError, code="wrong_backup_kind"):
    """A SQLite backup for a PostgreSQL deployment, or the other way round."""

    message = N_(
        "{path} is a backup of a {found} database, but the configured database is {expected}."
    )


class TargetNotEmptyError(BackupError, code="target_not_empty"):
    """The database to restore into already holds tables."""

    message = N_(
        "The configured database already holds data. Add --force to replace it with the backup."
    )


class SourceMissingError(BackupError, code="database_missing"):
    """The SQLite file to back up does not exist."""

    message = N_("The database file {path} does not exist.")


@dataclass(frozen=True, slots=True)
class BackupResult:
    """What was written or restored, and anything the operator should know."""

    kind: str  # "sqlite" or "postgresql"
    path: Path
    size: int
    schema_revision: str | None
    notes: tuple[str, ...] = ()


def backup(
    database_url: str, out: Path, *, force: bool = False, on_progress: OnProgress | None = None
) -> BackupResult:
    """Write a backup of ``database_url`` to ``out`` (refused if it exists, unless ``force``)."""
    if out.exists() and not force:
        raise BackupExistsError(path=str(out))
    url = make_url(database_url)
    progress = on_progress or _quiet
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        if url.get_backend_name() == "sqlite":
            notes: tuple[str, ...] = ()
            _sqlite_backup(_sqlite_path(url), partial, progress)
        else:
            notes = _pg_backup(url, partial, progress)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(
        kind=_kind(url), path=out, size=out.stat().st_size, schema_revision=_revision_of(url),
        notes=notes,
    )  # fmt: skip


def restore(
    database_url: str, source: Path, *, force: bool = False, on_progress: OnProgress | None = None
) -> BackupResult:
    """Replace the database of ``database_url`` with the backup ``source``.

    Refused when the target already holds tables, unless ``force``; either way the
    restore is one transaction: it completes, or the target is left as it was.
    """
    if not source.is_file():
        raise BackupFileMissingError(path=str(source))
    url = make_url(database_url)
    expected = _kind(url)
    found = _kind_of_file(source)
    if found is None:
        raise NotABackupError(path=str(source))
    if found != expected:
        raise WrongKindError(path=str(source), found=_label(found), expected=_label(expected))
    progress = on_progress or _quiet
    if expected == "sqlite":
        _sqlite_restore(source, _sqlite_path(url), force=force, on_progress=progress)
        notes: tuple[str, ...] = ()
    else:
        notes = _pg_restore(url, source, force=force, on_progress=progress)
    return BackupResult(
        kind=expected, path=source, size=source.stat().st_size, schema_revision=_revision_of(url),
        notes=notes,
    )  # fmt: skip


def _quiet(_done: int, _total: int) -> None:
    return None


def _kind(url: URL) -> str:
    return "sqlite" if url.get_backend_name() == "sqlite" else "postgresql"


def _label(kind: str) -> str:
    return "SQLite" if kind == "sqlite" else "PostgreSQL"


def _kind_of_file(path: Path) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    return None


def _revision_of(url: URL) -> str | None:
    """The schema revision of the database behind ``url`` (None when not migrated)."""
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            if not engine.dialect.has_table(connection, SCHEMA_TABLE):
                return None
            found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return None if found is None else str(found)
    finally:
        engine.dispose()


# --- SQLite ------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    database = url.database or ""
    if not database or database == ":memory:":
        raise BackupError
    return Path(database)


@contextmanager
def _sqlite(path: Path, *, read_only: bool) -> Iterator[sqlite3.Connection]:
    if read_only:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    else:
        connection = sqlite3.connect(path)
    with closing(connection):
        yield connection


def _copy(source: sqlite3.Connection, target: sqlite3.Connection, on_progress: OnProgress) -> None:
    def step(_status: int, remaining: int, total: int) -> None:
        on_progress(total - remaining, total)

    source.backup(target, pages=SQLITE_PAGES_PER_STEP, progress=step)


def _sqlite_backup(path: Path, out: Path, on_progress: OnProgress) -> None:
    if not path.is_file():
        raise SourceMissingError(path=str(path))
    out.unlink(missing_ok=True)
    with _sqlite(path, read_only=True) as source, _sqlite(out, read_only=False) as target:
        _copy(source, target, on_progress)


def _sqlite_tables(connection: sqlite3.Connection) -> set[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {str(row[0]) for row in rows}


def _sqlite_restore(source: Path, target: Path, *, force: bool, on_progress: OnProgress) -> None:
    try:
        with _sqlite(source, read_only=True) as backup_file:
            if SCHEMA_TABLE not in _sqlite_tables(backup_file):
                raise NotABackupError(path=str(source))
    except sqlite3.DatabaseError as error:
        raise NotABackupError(path=str(source)) from error
    target.parent.mkdir(parents=True, exist_ok=True)
    with _sqlite(source, read_only=True) as backup_file, _sqlite(target, read_only=False) as db:
        if _sqlite_tables(db) and not force:
            raise TargetNotEmptyError
        # One write transaction on the target: a restore cut short leaves it as it was.
        _copy(backup_file, db, on_progress)


# --- PostgreSQL --------------------------------------------------------------------------


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ToolMissingError(tool=name)
    return found


def _environment(url: URL) -> dict[str, str]:
    """libpq's variables for ``url``: the password stays off the command line."""
    env = {**os.environ}
    for variable, value in (
        ("PGHOST", url.host),
        ("PGPORT", None if url.port is None else str(url.port)),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value:
            env[variable] = str(value)
    sslmode = url.query.get("sslmode")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = sslmode
    return env


def _client_major(tool: str) -> int:
    done = subprocess.run(  # noqa: S603 - the tool found on PATH, fixed arguments
        [tool, "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    found = _PG_VERSION.search(done.stdout)
    if found is None:
        raise ToolFailedError(tool=Path(tool).name, reason=done.stdout.strip() or "no version")
    return int(found.group(1))


def _server(url: URL) -> tuple[int, int]:
    """The server's major version and how many tables the public schema holds."""
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            number = int(connection.execute(text("SHOW server_version_num")).scalar_one())
            tables = int(
                connection.execute(
                    text(
                        "SELECT count(*) FROM information_schema.tables "
                        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
                    )
                ).scalar_one()
            )
    except Exception as error:
        raise ToolFailedError(tool="PostgreSQL", reason=type(error).__name__) from error
    finally:
        engine.dispose()
    return number // 10000, tables


def _versions(url: URL, tool: str) -> tuple[int, tuple[str, ...]]:
    """The table count; refuses a client older than the server, notes any other mismatch."""
    client = _client_major(tool)
    server, tables = _server(url)
    name = Path(tool).name
    if client < server:
        raise ClientTooOldError(tool=name, client=client, server=server)
    notes: tuple[str, ...] = ()
    if client != server:
        notes = (
            f"{name} is version {client}, the server version {server}: "
            f"the archive needs pg_restore {client} or newer.",
        )
    return tables, notes


def _run_with_progress(
    command: list[str], env: dict[str, str], marker: str, total: int, on_progress: OnProgress
) -> None:
    """Run a verbose pg_dump/pg_restore, advancing once per ``marker`` line it prints."""
    done = 0
    tail: list[str] = []
    on_progress(0, total)
    with subprocess.Popen(  # noqa: S603 - the tool found on PATH, arguments built here
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None  # noqa: S101 - piped above
        for line in process.stderr:
            if marker in line:
                done += 1
                on_progress(min(done, total), total)
            elif "error" in line.lower() or "fatal" in line.lower():
                tail.append(line.strip())
        code = process.wait()
    if code != 0:
        reason = tail[-1] if tail else f"exit status {code}"
        raise ToolFailedError(tool=Path(command[0]).name, reason=reason)
    on_progress(total, total)


def _pg_backup(url: URL, out: Path, on_progress: OnProgress) -> tuple[str, ...]:
    tool = _tool("pg_dump")
    tables, notes = _versions(url, tool)
    command = [tool, "--format=custom", "--verbose", "--no-owner", "--no-privileges"]
    command += [f"--file={out}", str(url.database)]
    _run_with_progress(
        command, _environment(url), "dumping contents of table", max(tables, 1), on_progress
    )
    return notes


def _archive_tables(tool: str, source: Path, env: dict[str, str]) -> list[str]:
    done = subprocess.run(  # noqa: S603 - the tool found on PATH, fixed arguments
        [tool, "--list", str(source)], capture_output=True, text=True, check=False, env=env,
        timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise NotABackupError(path=str(source))
    return [table for _schema, table in _PG_TABLE_DATA.findall(done.stdout)]


def _pg_restore(url: URL, source: Path, *, force: bool, on_progress: OnProgress) -> tuple[str, ...]:
    tool = _tool("pg_restore")
    env = _environment(url)
    tables = _archive_tables(tool, source, env)
    if SCHEMA_TABLE not in tables:
        raise NotABackupError(path=str(source))
    present, notes = _versions(url, tool)
    if present and not force:
        raise TargetNotEmptyError
    command = [tool, "--verbose", "--no-owner", "--no-privileges"]
    command += ["--single-transaction", "--exit-on-error"]
    if present:
        command += ["--clean", "--if-exists"]
    command += [f"--dbname={url.database}", str(source)]
    _run_with_progress(command, env, "processing data for table", len(tables), on_progress)
    return notes
