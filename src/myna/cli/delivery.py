"""``myna delivery``: senders of 民間送達 (insurers, employers, funds) and their keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from myna.cli.common import exit_on_error, migrated_container
from myna.platform.db import unit_of_work

app = typer.Typer(no_args_is_help=True, help="民間送達: senders and their signing keys.")
console = Console()
errors = Console(stderr=True)


@app.command("register-sender")
def register_sender(
    code: Annotated[str, typer.Option(help="The sender's code, e.g. sakura-life.")],
    name: Annotated[str, typer.Option(help="The sender's name, e.g. さくら生命保険株式会社.")],
    kind: Annotated[
        str,
        typer.Option(
            help="life-insurer, non-life-insurer, employer, municipality or pension-fund."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write its key and certificate (default: the data dir)."),
    ] = None,
) -> None:
    """Register a sender: its key, its government-CA certificate (ds-<code>), its files."""
    from myna import runtime  # noqa: PLC0415

    container = migrated_container()
    directory = out or container.settings.sender_dir
    with exit_on_error(errors), unit_of_work(container.session_factory) as session:
        identity = runtime.register_sender(session, container.settings, code, name, kind, directory)
    console.print(
        f"Registered {identity.code} ({identity.organization_code}) {identity.name}; "
        f"key and certificate in {directory / identity.code}"
    )
