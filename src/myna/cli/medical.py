"""``myna medical``: institutions of オンライン資格確認 and their counter."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from myna.cli.common import exit_on_error, migrated_container
from myna.platform.db import unit_of_work

app = typer.Typer(no_args_is_help=True, help="オンライン資格確認: institutions and their counter.")
console = Console()
errors = Console(stderr=True)


@app.command("register")
def register(
    code: Annotated[str, typer.Option(help="医療機関コード (10 digits, with its check digit).")],
    name: Annotated[str, typer.Option(help="The institution's name, e.g. みなと内科クリニック.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write its key and certificate (default: the data dir)."),
    ] = None,
) -> None:
    """Register a clinic or pharmacy: its key, its government-CA certificate, its files."""
    from myna import runtime  # noqa: PLC0415

    container = migrated_container()
    directory = out or container.settings.institution_dir
    with exit_on_error(errors), unit_of_work(container.session_factory) as session:
        folder = runtime.register_institution(session, container.settings, code, name, directory)
    console.print(f"Registered {code} {name}; key and certificate in {folder}")
