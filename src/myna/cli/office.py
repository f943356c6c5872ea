"""``myna office``: back-office (申請管理) staff accounts and filing API clients."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from myna.cli.common import exit_on_error, migrated_container, migrated_session
from myna.office.roles import StaffRole
from myna.platform.db import unit_of_work
from myna.platform.i18n import gettext as _

app = typer.Typer(no_args_is_help=True, help="Back-office staff accounts (申請管理).")
console = Console()
errors = Console(stderr=True)


@app.command("add-staff")
def add_staff(
    municipality: Annotated[str, typer.Option(help="Local government code, e.g. 131016.")],
    login: Annotated[str, typer.Option(help="Login ID (letters, digits, . _ -).")],
    name: Annotated[str, typer.Option(help="Display name, e.g. 山本.")],
    role: Annotated[
        StaffRole, typer.Option(help="clerk, supervisor, admin or platform-admin.")
    ] = StaffRole.CLERK,
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="MYNA_OFFICE_PASSWORD",
            help="At least 12 characters (asked for when not given).",
        ),
    ] = "",
) -> None:
    """Create a staff account and print its TOTP provisioning URI, once."""
    from myna import registry  # noqa: PLC0415
    from myna.office import service as office  # noqa: PLC0415

    container = migrated_container()
    with exit_on_error(errors), unit_of_work(container.session_factory) as session:
        registry.ensure_municipalities(session=session)
        created = office.create_staff(
            session=session,
            settings=container.settings,
            municipality_code=municipality,
            login_id=login,
            display_name=name,
            role=role,
            password=password,
        )
    console.print(_("Created the staff account {login}.").format(login=created.staff.login_id))
    console.print(
        _("Add this to an authenticator app now; it is not shown again:"), highlight=False
    )
    console.print(created.provisioning_uri, highlight=False, soft_wrap=True)


@app.command("add-api-client")
def add_api_client(
    municipality: Annotated[str, typer.Option(help="Local government code, e.g. 131016.")],
    name: Annotated[str, typer.Option(help="What the client is, e.g. 千代田区 基幹系連携.")],
    jwk_file: Annotated[
        Path | None,
        typer.Option(help="The client's ES256 public key as a JWK (JSON), to register."),
    ] = None,
    generate: Annotated[
        bool,
        typer.Option(
            "--generate",
            help="Create a key pair, write the private JWK to --jwk-file (mode 0600) and "
            "register its public part (for the demo).",
        ),
    ] = False,
) -> None:
    """Register a municipality's filing API client and print its client_id."""
    from myna import registry  # noqa: PLC0415
    from myna.office import filings  # noqa: PLC0415

    if jwk_file is None:
        errors.print(_("Give --jwk-file: the public key to register, or where --generate writes."))
        raise typer.Exit(2)
    if generate and jwk_file.exists():
        errors.print(_("{path} exists already; choose a new file.").format(path=jwk_file))
        raise typer.Exit(1)
    public_jwk: dict[str, Any] = {}
    if not generate:
        try:
            public_jwk = json.loads(jwk_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            errors.print(_("{path} could not be read as a JSON JWK.").format(path=jwk_file))
            raise typer.Exit(1) from None
    with exit_on_error(errors), migrated_session() as session:
        registry.ensure_municipalities(session=session)
        if generate:
            client, private_jwk = filings.generate_client(
                session=session, municipality_code=municipality, name=name
            )
            # Created 0600 before anything is written: the private key is never readable
            # by others, even for a moment.
            descriptor = os.open(jwk_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(private_jwk, handle, indent=2)
        else:
            client = filings.register_client(
                session=session,
                municipality_code=municipality,
                name=name,
                public_jwk=public_jwk,
            )
    console.print(_("Registered the API client {name}.").format(name=client.name), highlight=False)
    if generate:
        console.print(
            _("The private key was written to {path}; keep it secret.").format(path=jwk_file),
            highlight=False,
        )
    console.print(client.client_id, highlight=False)


@app.command("code")
def show_code(
    login: Annotated[str, typer.Option(help="Login ID of a staff account.")],
) -> None:
    """Print the account's current one-time code — in a development deployment only.

    Stands in for the authenticator app in the demo; anywhere else it would turn two
    factors into one, so it refuses.
    """
    from myna.office import service as office  # noqa: PLC0415

    container = migrated_container()
    if container.settings.environment != "development":
        errors.print(_("One-time codes are shown only in a development deployment."))
        raise typer.Exit(1)
    with exit_on_error(errors), unit_of_work(container.session_factory) as session:
        code = office.current_code(session=session, settings=container.settings, login_id=login)
    console.print(code, highlight=False)


def _set_disabled(login: str, *, disabled: bool) -> None:
    from myna.office import service as office  # noqa: PLC0415

    container = migrated_container()
    with exit_on_error(errors), unit_of_work(container.session_factory) as session:
        staff = office.set_disabled(
            session=session, sessions=container.sessions, login_id=login, disabled=disabled
        )
    message = (
        _("Disabled the staff account {login}; its sessions have ended.")
        if disabled
        else _("Enabled the staff account {login} again.")
    )
    console.print(message.format(login=staff.login_id), highlight=False)


@app.command("disable-staff")
def disable_staff(
    login: Annotated[str, typer.Option(help="Login ID of a staff account.")],
) -> None:
    """Disable a staff account: no password, code or staff card logs it in; its sessions end."""
    _set_disabled(login, disabled=True)


@app.command("enable-staff")
def enable_staff(
    login: Annotated[str, typer.Option(help="Login ID of a staff account.")],
) -> None:
    """Enable a disabled staff account again."""
    _set_disabled(login, disabled=False)
