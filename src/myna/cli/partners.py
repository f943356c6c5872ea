"""``myna partners``: register, review, suspend and resume organisations; rotate their keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from myna.cli.common import exit_on_error, migrated_session
from myna.partners.domain import OrganizationStatus, RegisteredClient, RequestedScope
from myna.platform.i18n import gettext as _

app = typer.Typer(
    no_args_is_help=True, help="Organisations using the Mynaportal API (連携する民間事業者)."
)
console = Console()
errors = Console(stderr=True)
ClientId = Annotated[str, typer.Argument(help="The organisation's client_id (org-...).")]
Note = Annotated[str, typer.Option(help="Why; kept with the registration.")]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        errors.print(_("{path} could not be read as JSON.").format(path=path), highlight=False)
        raise typer.Exit(1) from None


def _show(client: RegisteredClient) -> None:
    from myna.partners.organizations import status_label  # noqa: PLC0415

    console.print(
        f"{client.client_id}  {status_label(client.status)}  {client.name}", highlight=False
    )
    if client.approved_scopes:
        console.print("  " + " ".join(client.approved_scopes), highlight=False)


def _run(change: Any) -> RegisteredClient:
    """Apply one change in a unit of work; an error is printed, never a stack trace."""
    with exit_on_error(errors, highlight=False), migrated_session() as session:
        result: RegisteredClient = change(session)
    return result


@app.command("register")
def register(
    document: Annotated[
        Path,
        typer.Argument(
            help="The registration as JSON, the same body as POST /api/partners/organizations."
        ),
    ],
) -> None:
    """Register an organisation (it waits for review) and print its client_id."""
    from myna.partners import organizations  # noqa: PLC0415

    body = _read_json(document)
    if not isinstance(body, dict):
        errors.print(_("The registration must be a JSON object."))
        raise typer.Exit(1)
    scopes = body.get("requested_scopes")
    requested = [
        RequestedScope(scope=str(s.get("scope", "")), reason=str(s.get("reason", "")))
        for s in (scopes if isinstance(scopes, list) else [])
        if isinstance(s, dict)
    ]
    uris = body.get("redirect_uris")
    created = _run(
        lambda session: organizations.register_organization(
            session=session,
            name=str(body.get("name", "")),
            purpose=str(body.get("purpose", "")),
            contact=str(body.get("contact", "")),
            retention=str(body.get("retention", "")),
            redirect_uris=[str(u) for u in uris] if isinstance(uris, list) else [],
            jwks=body.get("jwks"),
            jwks_uri=body.get("jwks_uri"),
            requested_scopes=requested,
        )
    )
    console.print(
        _("Registered {name}; it waits for review.").format(name=created.name), highlight=False
    )
    console.print(created.client_id, highlight=False)


@app.command("review")
def review(
    client_id: ClientId,
    approve: Annotated[
        bool, typer.Option("--approve/--reject", help="Approve, or reject with a --note.")
    ],
    scope: Annotated[
        list[str] | None,
        typer.Option(help="A scope to approve (repeat); all requested ones when not given."),
    ] = None,
    note: Note = "",
) -> None:
    """Approve an organisation for some of the scopes it asked for, or reject it."""
    from myna.partners import organizations  # noqa: PLC0415

    def change(session: Any) -> RegisteredClient:
        chosen = scope
        if approve and not chosen:
            asked = organizations.get_client(session=session, client_id=client_id)
            chosen = [s.scope for s in asked.requested_scopes]
        return organizations.review(
            session=session,
            client_id=client_id,
            approve=approve,
            scopes=chosen or [],
            note=note,
        )

    _show(_run(change))


@app.command("suspend")
def suspend(client_id: ClientId, note: Note = "") -> None:
    """Suspend an approved organisation; its access tokens stop working at once."""
    from myna.partners import organizations  # noqa: PLC0415

    _show(
        _run(lambda session: organizations.suspend(session=session, client_id=client_id, note=note))
    )


@app.command("resume")
def resume(client_id: ClientId, note: Note = "") -> None:
    """Let a suspended organisation work again."""
    from myna.partners import organizations  # noqa: PLC0415

    _show(
        _run(lambda session: organizations.resume(session=session, client_id=client_id, note=note))
    )


@app.command("rotate-keys")
def rotate_keys(
    client_id: ClientId,
    jwks_file: Annotated[
        Path, typer.Option(help="The new public keys as a JWK Set (JSON), replacing the old.")
    ],
) -> None:
    """Replace an organisation's public signing keys."""
    from myna.partners import organizations  # noqa: PLC0415

    jwks = _read_json(jwks_file)
    _show(
        _run(
            # A fresh cache: this process has fetched nothing; a server's own cache
            # keeps a dropped jwks_uri's set at most JWKS_CACHE_SECONDS.
            lambda session: organizations.rotate_keys(
                session=session, cache=organizations.JwksCache(), client_id=client_id, jwks=jwks
            )
        )
    )


@app.command("list")
def list_organizations(
    status: Annotated[
        OrganizationStatus | None, typer.Option(help="Only pending, approved, ...")
    ] = None,
) -> None:
    """The registered organisations with their state and approved scopes."""
    from myna.partners import organizations  # noqa: PLC0415

    with migrated_session() as session:
        found = organizations.list_organizations(session=session, status=status)
    if not found:
        console.print(_("No organisation is registered."))
    for client in found:
        _show(client)
