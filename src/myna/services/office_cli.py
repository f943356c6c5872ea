"""``myna office``: back-office (申請管理) staff accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from myna.platform.db import unit_of_work
from myna.platform.errors import MynaError
from myna.platform.i18n import gettext as _
from myna.services.office import StaffRole

if TYPE_CHECKING:
    from myna.bootstrap import Container

app = typer.Typer(no_args_is_help=True, help="Back-office staff accounts (申請管理).")
console = Console()
errors = Console(stderr=True)


def _container() -> Container:
    """The configured deployment, migrated to the newest schema."""
    from myna.bootstrap import build_container  # noqa: PLC0415
    from myna.platform.migrate import upgrade_to_head  # noqa: PLC0415
    from myna.platform.settings import get_settings  # noqa: PLC0415

    container = build_container(get_settings())
    upgrade_to_head(container.engine)
    return container


@app.command("add-staff")
def add_staff(
    municipality: Annotated[str, typer.Option(help="Local government code, e.g. 131016.")],
    login: Annotated[str, typer.Option(help="Login ID (letters, digits, . _ -).")],
    name: Annotated[str, typer.Option(help="Display name, e.g. 山本.")],
    role: Annotated[StaffRole, typer.Option(help="clerk, supervisor or admin.")] = StaffRole.CLERK,
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
    from myna.services import office  # noqa: PLC0415

    container = _container()
    try:
        with unit_of_work(container.session_factory) as session:
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
    except MynaError as error:
        errors.print(error.localized())
        raise typer.Exit(1) from None
    console.print(_("Created the staff account {login}.").format(login=created.staff.login_id))
    console.print(
        _("Add this to an authenticator app now; it is not shown again:"), highlight=False
    )
    console.print(created.provisioning_uri, highlight=False, soft_wrap=True)
