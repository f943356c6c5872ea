"""`myna jpki ...` commands: the J-LIS operator's console."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509

from myna.bootstrap import Container, build_container
from myna.jpki import service
from myna.jpki.domain import AuthorityKind, RevocationReason, parse_serial
from myna.platform.db import unit_of_work
from myna.platform.errors import MynaError
from myna.platform.migrate import upgrade_to_head
from myna.platform.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="The JPKI certificate authorities (J-LIS role).")


def _container() -> Container:
    container = build_container(get_settings())
    upgrade_to_head(container.engine)
    return container


def _fail(error: MynaError) -> typer.Exit:
    typer.echo(f"{error.code}: {error.localized()}", err=True)
    return typer.Exit(code=1)


@app.command()
def init() -> None:
    """Create the root, signing and user-authentication CAs (does nothing if they exist)."""
    container = _container()
    with unit_of_work(container.session_factory) as session:
        service.ensure_authorities(session=session, settings=container.settings)
        authorities = service.list_authorities(session=session)
    for authority in authorities:
        typer.echo(
            f"{authority.kind.value}\t{authority.subject}\tsha256:{authority.sha256_fingerprint}"
        )


@app.command()
def revoke(
    serial: Annotated[str, typer.Argument(help="Decimal, 0x-hex or aa:bb:.. hex.")],
    reason: Annotated[RevocationReason, typer.Option(help="Why the certificate is revoked.")],
) -> None:
    """Revoke one certificate (失効)."""
    container = _container()
    try:
        number = parse_serial(serial)
        with unit_of_work(container.session_factory) as session:
            record = service.revoke_certificate(session=session, serial=number, reason=reason)
    except MynaError as error:
        raise _fail(error) from error
    typer.echo(
        f"{record.serial:#x}\t{record.kind.value}\t{record.status.value}\t"
        f"{record.revocation_reason.value if record.revocation_reason else ''}"
    )


@app.command()
def crl(
    out: Annotated[Path, typer.Option(help="Where to write the CRL (DER).")],
    kind: Annotated[AuthorityKind, typer.Option(help="Whose CRL.")] = AuthorityKind.SIGN,
) -> None:
    """Write a CA's current CRL (DER) to a file."""
    container = _container()
    try:
        with unit_of_work(container.session_factory) as session:
            der = service.current_crl(session=session, settings=container.settings, kind=kind)
    except MynaError as error:
        raise _fail(error) from error
    out.write_bytes(der)
    parsed = x509.load_der_x509_crl(der)
    number = parsed.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    typer.echo(f"CRL {kind.value} #{number}: {len(parsed)} revoked, written to {out}")


@app.command()
def status(
    serial: Annotated[str, typer.Argument(help="Decimal, 0x-hex or aa:bb:.. hex.")],
) -> None:
    """Show what was recorded about one certificate."""
    container = _container()
    try:
        number = parse_serial(serial)
        with unit_of_work(container.session_factory) as session:
            record = service.certificate_status(session=session, serial=number)
    except MynaError as error:
        raise _fail(error) from error
    rows = {
        "serial": f"{record.serial:#x}",
        "kind": record.kind.value,
        "status": record.status.value,
        "not_before": record.not_before.isoformat(),
        "not_after": record.not_after.isoformat(),
        "card_id": record.card_id,
        "revoked_at": record.revoked_at.isoformat() if record.revoked_at else "",
        "reason": record.revocation_reason.value if record.revocation_reason else "",
    }
    for key, value in rows.items():
        typer.echo(f"{key}\t{value}")
