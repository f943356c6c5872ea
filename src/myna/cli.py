"""The ``myna`` command: demo, serve, seed, card, jpki, registry, bench."""

from __future__ import annotations

import typer

from myna.card.cli import app as card_app
from myna.jpki.cli import app as jpki_app
from myna.registry.cli import app as registry_app

app = typer.Typer(no_args_is_help=True, help="Myna: an open Mynaportal platform.")
app.add_typer(card_app, name="card", help="Virtual MyNumber cards (issue, info, sign, login).")
app.add_typer(jpki_app, name="jpki", help="The JPKI certificate authorities (J-LIS role).")
app.add_typer(registry_app, name="registry", help="The resident registry (住民基本台帳).")


def main() -> None:
    """Entry point of the ``myna`` console script."""
    app()
