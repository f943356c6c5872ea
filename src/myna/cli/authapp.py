"""``myna authapp``: register businesses with the authentication app (デジタル認証アプリ)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from myna.cli.common import exit_on_error, migrated_session
from myna.platform.i18n import gettext as _

app = typer.Typer(
    no_args_is_help=True,
    help="The authentication app (デジタル認証アプリ): its business clients.",
)
console = Console()
errors = Console(stderr=True)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        errors.print(_("{path} could not be read as JSON.").format(path=path), highlight=False)
        raise typer.Exit(1) from None


@app.command("register-client")
def register_client(
    name: Annotated[str, typer.Option(help="The business's name, shown to residents.")],
    redirect_uri: Annotated[
        list[str], typer.Option(help="A redirect URI (exact; repeat for several).")
    ],
    jwks: Annotated[
        Path,
        typer.Option(help="Public JWKS: a signing key (use: sig) and an EC encryption key."),
    ],
    scope: Annotated[
        list[str] | None,
        typer.Option(help="A scope it may ask for (repeat); default: all of them."),
    ] = None,
) -> None:
    """Register a business (or update the one of the same name) and print its client_id."""
    from myna import authapp  # noqa: PLC0415
    from myna.authapp.domain import ALL_SCOPES  # noqa: PLC0415

    key_set = _read_json(jwks)
    with exit_on_error(errors, highlight=False), migrated_session() as session:
        client = authapp.register_client(
            session=session,
            name=name,
            redirect_uris=redirect_uri,
            jwks=key_set,
            scopes=scope or list(ALL_SCOPES),
        )
    table = Table(title="デジタル認証アプリ / client", show_header=False)
    table.add_row("client_id", client.client_id)
    table.add_row("name", client.name)
    table.add_row("redirect_uris", "\n".join(client.redirect_uris))
    table.add_row("scopes", " ".join(client.scopes))
    table.add_row("keys", ", ".join(f"{k['kid']} ({k['use']})" for k in client.jwks["keys"]))
    console.print(table)


@app.command("clients")
def clients() -> None:
    """List the registered businesses."""
    from myna import authapp  # noqa: PLC0415

    with migrated_session() as session:
        found = authapp.list_clients(session=session)
    table = Table(title="デジタル認証アプリ / clients")
    for column in ("client_id", "name", "scopes"):
        table.add_column(column)
    for client in found:
        table.add_row(client.client_id, client.name, " ".join(client.scopes))
    console.print(table)
