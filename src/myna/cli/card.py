"""``myna card ...``: issue, list, inspect and use virtual MyNumber cards.

Errors people can cause (a wrong PIN, a locked card, an unknown card) print their
localized message and exit with status 1, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from myna.card.chip import JpkiChip
from myna.card.domain import KeyKind
from myna.card.service import JST, issue_card, reissue_signing, report_lost, reset_pin
from myna.card.virtual import VirtualCardReader
from myna.card.vpcd import VPCD_HOST, VPCD_PORT, VpcdCard
from myna.cli.common import exit_on_error
from myna.platform import i18n
from myna.platform.errors import N_, MynaError
from myna.platform.logging import configure_logging
from myna.platform.settings import Settings, get_settings

app = typer.Typer(
    no_args_is_help=True,
    help="Virtual MyNumber cards (マイナンバーカード): issue, list, info, sign, reset-pin, vpcd.",
)

# No markup: names, addresses and paths are printed as they are.
console = Console(markup=False, highlight=False, soft_wrap=True)
error_console = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)

_ = i18n.gettext


class PersonaNotFoundError(MynaError, code="persona_not_found", status_code=404):
    """``--persona`` names no demo persona."""

    message = N_("There is no persona {persona}. Choose one of: {choices}.")


class VpcdUnreachableError(MynaError, code="vpcd_unreachable", status_code=503):
    """Nothing listens where vpcd should: pcscd is not running with vsmartcard's driver."""

    message = N_(
        "vpcd does not answer on {address}. Start pcscd with vsmartcard's virtual reader "
        "(Debian: vsmartcard-vpcd) and try again."
    )


class ChooseOneResidentError(MynaError, code="choose_one_resident"):
    """Not exactly one of --persona, --resident-id and --my-number was given."""

    message = N_("Name the resident with exactly one of --persona, --resident-id or --my-number.")


def _settings() -> Settings:
    settings = get_settings()
    i18n.set_locale(settings.default_locale)
    # The command's own output says what happened; only warnings go to the log (stderr).
    configure_logging(level="WARNING", json=settings.log_json)
    return settings


def _friendly_errors() -> AbstractContextManager[None]:
    """Print a ``MynaError`` in the reader's language and exit 1."""
    return exit_on_error(error_console, style="red")


def _secret(prompt: str, description: str, *, confirm: bool = True) -> Any:
    """An option typed without echo, asked for when not given (twice when it is set)."""
    return typer.Option(
        prompt=prompt,
        hide_input=True,
        show_default=False,
        confirmation_prompt=confirm,
        help=description,
    )


@contextmanager
def _database(settings: Settings) -> Iterator[Session]:
    """A migrated database session that commits on success."""
    # Imported here so `myna card list` and `sign` never touch the database.
    from myna.bootstrap import build_container  # noqa: PLC0415
    from myna.platform.db import unit_of_work  # noqa: PLC0415
    from myna.platform.migrate import upgrade_to_head  # noqa: PLC0415

    container = build_container(settings)
    try:
        upgrade_to_head(container.engine)
        with unit_of_work(container.session_factory) as session:
            yield session
    finally:
        container.engine.dispose()


def _field(label: str, value: str, *, indent: str = "") -> str:
    """One ``label: value`` line (labels are translated where they are written)."""
    return f"{indent}{label}: {value}"


def _day(day: date) -> str:
    """A date in 和暦 (or with its era in English) and ISO 8601."""
    return f"{i18n.format_date(day)} ({day.isoformat()})"


def _moment(moment: datetime) -> str:
    """A certificate time: the JST day in 和暦 and the exact UTC time in ISO 8601."""
    return f"{i18n.format_date(moment.astimezone(JST).date())} ({moment.isoformat()})"


def _resident_id(
    session: Session, persona: str | None, resident_id: int | None, my_number: str | None
) -> int:
    from myna import registry  # noqa: PLC0415 - only issuance needs the registry

    if sum(value is not None for value in (persona, resident_id, my_number)) != 1:
        raise ChooseOneResidentError
    if persona is not None:
        personas = registry.ensure_personas(session=session)
        if persona not in personas:
            raise PersonaNotFoundError(persona=persona, choices=", ".join(sorted(personas)))
        return int(personas[persona].id)
    if my_number is not None:
        return int(registry.find_resident_by_my_number(session=session, my_number=my_number).id)
    assert resident_id is not None  # noqa: S101 - exactly one was given, checked above
    return resident_id


@app.command("issue")
def issue_command(
    persona: Annotated[
        str | None, typer.Option(help="A demo persona: taro, hanako, haruto, misaki, ichiro.")
    ] = None,
    resident_id: Annotated[int | None, typer.Option(help="The resident's registry id.")] = None,
    my_number: Annotated[str | None, typer.Option(help="The resident's MyNumber.")] = None,
    pin: Annotated[
        str,
        _secret(
            "PIN / 利用者証明用パスワード (4 digits)",
            "User authentication PIN (利用者証明用パスワード): 4 digits.",
        ),
    ] = "",
    password: Annotated[
        str,
        _secret(
            "Signing password / 署名用パスワード (6-16 A-Z 0-9)",
            "Signing password (署名用パスワード): 6-16 of A-Z and 0-9.",
        ),
    ] = "",
) -> None:
    """Issue a card with both JPKI certificates to a resident (交付)."""
    settings = _settings()
    with _friendly_errors(), _database(settings) as session:
        summary = issue_card(
            session=session,
            settings=settings,
            resident_id=_resident_id(session, persona, resident_id, my_number),
            pin=pin,
            password=password,
        )
    console.print(_("Card issued: {card_id}").format(card_id=summary.card_id))
    console.print(_field(_("Holder"), f"{summary.holder_name} / {summary.municipality}"))
    console.print(_field(_("Card valid until"), _day(summary.expires_on)))


@app.command("list")
def list_command() -> None:
    """List the cards in the virtual reader."""
    settings = _settings()
    cards = VirtualCardReader.from_settings(settings).list_cards()
    if not cards:
        console.print(
            _("There are no cards in the reader. Issue one with: myna card issue --persona taro")
        )
        return
    table = Table(title=_("Cards in the reader"))
    # The id is what people copy into the next command: never cut it.
    table.add_column(_("Card id"), no_wrap=True, min_width=len(cards[0].card_id))
    for heading in (
        _("Holder"),
        _("Municipality"),
        _("Card valid until"),
        _("PIN"),
        _("Signing password"),
    ):
        table.add_column(heading)
    for summary in cards:
        table.add_row(
            summary.card_id,
            summary.holder_name,
            summary.municipality,
            i18n.format_date(summary.expires_on),
            _state(summary.auth_locked, summary.auth_tries_left),
            _state(summary.sign_locked, summary.sign_tries_left),
        )
    console.print(table)


def _state(locked: bool, tries_left: int) -> str:
    if locked:
        return _("Locked")
    return _("{n} tries left").format(n=tries_left)


@app.command("info")
def info_command(
    card_id: Annotated[str, typer.Argument(help="The card id (see `myna card list`).")],
) -> None:
    """Show a card's face, its certificates and its PIN states."""
    settings = _settings()
    with _friendly_errors():
        card = VirtualCardReader.from_settings(settings).load(card_id)
    surface = card.surface
    console.print(_field(_("Card id"), card.card_id))
    console.print(_field(_("Holder"), f"{surface.holder_name} ({surface.holder_name_kana})"))
    console.print(_field(_("Address"), surface.address))
    console.print(_field(_("Date of birth"), _day(surface.birth_date)))
    console.print(
        _field(_("Municipality"), f"{surface.municipality_name} ({surface.municipality_code})")
    )
    console.print(_field(_("Card valid until"), _day(surface.expires_on)))
    titles = {
        KeyKind.AUTH: _("User authentication certificate (利用者証明用電子証明書)"),
        KeyKind.SIGN: _("Signing certificate (署名用電子証明書)"),
    }
    for kind, application in card.applications.items():
        certificate = application.certificate
        counter = application.counter
        console.print()
        console.print(titles[kind], style="bold")
        console.print(_field(_("Serial number"), f"{certificate.serial_number:X}", indent="  "))
        console.print(
            _field(_("Valid from"), _moment(certificate.not_valid_before_utc), indent="  ")
        )
        console.print(
            _field(_("Valid until"), _moment(certificate.not_valid_after_utc), indent="  ")
        )
        state = _state(counter.locked, counter.remaining)
        console.print(
            _field(_("PIN state"), f"{state} ({counter.failures}/{counter.limit})", indent="  ")
        )


@app.command("sign")
def sign_command(
    card_id: Annotated[str, typer.Argument(help="The card id.")],
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The file to sign.")
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the signature; FILE.p7s by default."),
    ] = None,
    password: Annotated[
        str,
        _secret(
            "Signing password / 署名用パスワード",
            "Signing password (署名用パスワード).",
            confirm=False,
        ),
    ] = "",
) -> None:
    """Sign FILE with the signing key: a detached CMS SignedData (RFC 5652), DER."""
    settings = _settings()
    target = out or file.with_name(file.name + ".p7s")
    content = file.read_bytes()
    with _friendly_errors():
        session = VirtualCardReader.from_settings(settings).open_session(
            card_id, KeyKind.SIGN, password
        )
        signature = session.sign_cms(content)
    target.write_bytes(signature)
    console.print(
        _("Signed {file}: {out} (certificate serial {serial})").format(
            file=file, out=target, serial=f"{session.certificate.serial_number:X}"
        )
    )


@app.command("reset-pin")
def reset_pin_command(
    card_id: Annotated[str, typer.Argument(help="The card id.")],
    kind: Annotated[
        KeyKind, typer.Option(help="auth: the 4-digit PIN; sign: the signing password.")
    ],
    new_pin: Annotated[
        str,
        _secret(
            "New PIN or password / 新しい暗証番号",
            "The new PIN (auth) or signing password (sign).",
        ),
    ] = "",
) -> None:
    """The municipality's reset (初期化): set a new PIN or password and unlock it."""
    settings = _settings()
    with _friendly_errors():
        reset_pin(settings=settings, card_id=card_id, kind=kind, new_secret=new_pin)
    if kind is KeyKind.AUTH:
        console.print(_("The PIN is reset and unlocked."))
    else:
        console.print(_("The signing password is reset and unlocked."))


@app.command("reissue-signing")
def reissue_signing_command(
    card_id: Annotated[str, typer.Argument(help="The card id.")],
    password: Annotated[
        str,
        _secret(
            "New signing password / 新しい署名用パスワード",
            "The new signing password (6 to 16 letters and digits), set by the holder.",
        ),
    ] = "",
) -> None:
    """Re-issue the signing certificate onto the card after the basic 4 info changed."""
    settings = _settings()
    with _friendly_errors(), _database(settings) as session:
        reissue_signing(session=session, settings=settings, card_id=card_id, password=password)
    reader = VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    certificate = reader.read_certificate(card_id, KeyKind.SIGN)
    console.print(_("A new signing certificate is on the card; the previous one is revoked."))
    console.print(_field(_("Serial number"), f"{certificate.serial_number:X}"))
    console.print(_field(_("Valid until"), _moment(certificate.not_valid_after_utc)))


@app.command("report-lost")
def report_lost_command(
    card_id: Annotated[str, typer.Argument(help="The card id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Report a card lost: revoke both of its certificates (cannot be undone)."""
    settings = _settings()
    if not yes:
        typer.confirm(
            _("Revoke both certificates of this card? This cannot be undone."), abort=True
        )
    with _friendly_errors(), _database(settings) as session:
        report_lost(session=session, settings=settings, card_id=card_id)
    console.print(_("Both certificates of the card are revoked."))


@app.command("vpcd")
def vpcd_command(
    card_id: Annotated[str, typer.Argument(help="The card id (see `myna card list`).")],
    host: Annotated[str, typer.Option(help="Where vpcd waits for its virtual card.")] = VPCD_HOST,
    port: Annotated[int, typer.Option(help="vpcd's port (its reader.conf CHANNELID).")] = VPCD_PORT,
) -> None:
    """Put a card on vpcd's PC/SC reader (vsmartcard) until Ctrl-C or pcscd stops."""
    settings = _settings()
    reader = VirtualCardReader.from_settings(settings)
    with _friendly_errors():
        reader.load(card_id)
        card = VpcdCard(JpkiChip(reader, card_id), host=host, port=port)
        try:
            card.insert()
        except OSError as exc:
            raise VpcdUnreachableError(address=f"{host}:{port}") from exc
    console.print(
        _("The card {card_id} is on vpcd's reader. Press Ctrl-C to take it off.").format(
            card_id=card_id
        )
    )
    try:
        card.wait()
    except KeyboardInterrupt:
        pass
    finally:
        card.remove()
    console.print(_("The card is off the reader."))
