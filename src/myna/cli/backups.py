"""`myna db backup` and `myna db restore`: the database with a progress bar, and what else
to keep (the data directory's keys and cards, the secrets) — docs/operations.md."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeElapsedColumn

from myna.cli.common import exit_on_error
from myna.platform import backup
from myna.platform.readiness import schema_head
from myna.platform.settings import Settings, get_settings

# What lives under MYNA_DATA_DIR beside the database and is not in its backup.
DATA_DIR_ENTRIES = (
    ("keys", "the exchange log's signing keys (ES256, ML-DSA-65)"),
    ("cards", "the virtual MyNumber cards"),
    ("institutions", "clinics' and pharmacies' keys and certificates"),
    ("senders", "民間送達 senders' keys and certificates"),
    ("verifiers", "JPKI verifiers' keys and certificates"),
)


@contextmanager
def _bar(console: Console, description: str) -> Iterator[Callable[[int, int], None]]:
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


def _remind(console: Console, settings: Settings) -> None:
    console.print(
        f"Not in the database backup — keep these too, from {settings.data_dir.resolve()}:"
    )
    for name, what in DATA_DIR_ENTRIES:
        console.print(f"  {name}/  {what}")
    console.print(
        "  and the secrets MYNA_SECRET_KEY, MYNA_CARD_SECRET, MYNA_CA_SECRET "
        "(the stored keys are encrypted with them)."
    )


def run_backup(*, out: Path, force: bool) -> None:
    """Back up the configured database to ``out``."""
    settings = get_settings()
    console = Console(stderr=True)
    with exit_on_error(console, style="bold red"), _bar(console, "backup") as advance:
        result = backup.backup(
            settings.effective_database_url, out, force=force, on_progress=advance
        )
    for note in result.notes:
        console.print(f"[yellow]{note}[/yellow]")
    typer.echo(
        f"Backed up the {result.kind} database (schema {result.schema_revision}) "
        f"to {result.path} ({result.size:,} bytes)."
    )
    _remind(console, settings)


def run_restore(*, source: Path, force: bool) -> None:
    """Replace the configured database with the backup ``source``."""
    settings = get_settings()
    console = Console(stderr=True)
    with exit_on_error(console, style="bold red"), _bar(console, "restore") as advance:
        result = backup.restore(
            settings.effective_database_url, source, force=force, on_progress=advance
        )
    for note in result.notes:
        console.print(f"[yellow]{note}[/yellow]")
    typer.echo(
        f"Restored the {result.kind} database from {source} (schema {result.schema_revision})."
    )
    if result.schema_revision != schema_head():
        typer.echo("The backup's schema is older than this version: run `myna db upgrade`.")
    _remind(console, settings)
