"""`myna card login`: the card login from a terminal, over the public protocol.

The card is a virtual one (Myna's card files, the default) or one on a PC/SC reader
(``--reader pcsc``): a physical MyNumber card, or a virtual card placed on vpcd's
reader. Both answer the same login challenge through the ``CardReader`` port.
"""

from __future__ import annotations

from contextlib import ExitStack
from enum import StrEnum
from typing import Annotated

import httpx
import typer
from rich.console import Console

from myna import card
from myna.platform import i18n
from myna.platform.errors import N_, MynaError
from myna.platform.i18n import gettext as _
from myna.platform.settings import Settings, get_settings
from myna.reader import client


class ReaderKind(StrEnum):
    """Where the card is: Myna's card files, or a PC/SC reader."""

    VIRTUAL = "virtual"
    PCSC = "pcsc"


class CardIdRequiredError(MynaError, code="card_id_required"):
    """The virtual reader holds many cards: the command must name one."""

    message = N_("Name the card to log in with: myna card login CARD_ID (see myna card list).")


def _open_session(
    stack: ExitStack,
    settings: Settings,
    *,
    kind: ReaderKind,
    card_id: str | None,
    pcsc_reader: str | None,
    pin: str,
) -> card.CardSession:
    """Verify ``pin`` on the chosen card and open its user-authentication session."""
    if kind is ReaderKind.PCSC:
        transport = stack.enter_context(card.PcscTransport(pcsc_reader))
        apdu_reader = card.ApduCardReader(transport)
        return apdu_reader.open_session(card_id or apdu_reader.current_card_id(), "auth", pin)
    if card_id is None:
        raise CardIdRequiredError
    reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    return reader.open_session(card_id, "auth", pin)


def card_login(
    card_id: Annotated[
        str | None,
        typer.Argument(
            metavar="CARD_ID",
            help="The card to log in with (see `myna card list`); with --reader pcsc, "
            "the card on the reader unless given.",
            show_default=False,
        ),
    ] = None,
    portal: Annotated[str, typer.Option(help="Portal URL; MYNA_PORTAL_URL by default.")] = "",
    pin: Annotated[
        str, typer.Option(prompt=True, hide_input=True, help="The 4-digit user authentication PIN.")
    ] = "",
    reader: Annotated[
        ReaderKind,
        typer.Option(
            "--reader",
            help="virtual: Myna's virtual cards; pcsc: a MyNumber card on a PC/SC reader.",
        ),
    ] = ReaderKind.VIRTUAL,
    pcsc_reader: Annotated[
        str | None,
        typer.Option(help="With --reader pcsc: the reader's name; the first with a card if not."),
    ] = None,
) -> None:
    """Log in to the portal with a card: challenge, PIN, signature, session."""
    console = Console()
    settings = get_settings()
    i18n.set_locale(i18n.negotiate(None, None))
    portal_url = (portal or settings.portal_url).rstrip("/")
    try:
        with ExitStack() as stack:
            session = _open_session(
                stack, settings, kind=reader, card_id=card_id, pcsc_reader=pcsc_reader, pin=pin
            )
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
