"""`myna card login`: the card login from a terminal, over the public protocol."""

from __future__ import annotations

from typing import Annotated

import httpx
import typer
from rich.console import Console

from myna import card
from myna.platform import i18n
from myna.platform.errors import MynaError
from myna.platform.i18n import gettext as _
from myna.platform.settings import get_settings
from myna.reader import client


def card_login(
    card_id: Annotated[str, typer.Argument(help="The card to log in with (see `myna card list`).")],
    portal: Annotated[str, typer.Option(help="Portal URL; MYNA_PORTAL_URL by default.")] = "",
    pin: Annotated[
        str, typer.Option(prompt=True, hide_input=True, help="The 4-digit user authentication PIN.")
    ] = "",
) -> None:
    """Log in to the portal with a card: challenge, PIN, signature, session."""
    console = Console()
    settings = get_settings()
    i18n.set_locale(i18n.negotiate(None, None))
    portal_url = (portal or settings.portal_url).rstrip("/")
    reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    try:
        session = reader.open_session(card_id, "auth", pin)
        with httpx.Client(timeout=10.0) as http:
            result = client.login(http, portal_url, session)
    except MynaError as exc:
        console.print(f"[red]{exc.localized()}[/red]")
        raise typer.Exit(code=1) from exc
    except httpx.HTTPError as exc:
        message = _("The portal could not be reached. Check that it is running: {url}")
        console.print(f"[red]{message.format(url=portal_url)}[/red]")
        raise typer.Exit(code=1) from exc
    resident = result.resident
    logged_in = _("Logged in")
    console.print(f"[green]{logged_in}[/green]: {resident['name']} ({resident['name_kana']})")
    if resident.get("certificate_not_after"):
        label = _("User authentication certificate valid until")
        console.print(f"{label}: {resident['certificate_not_after']}")
