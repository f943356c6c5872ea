"""`myna jpki ...` commands: the J-LIS operator's console."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa

from myna.cli.common import exit_on_error, migrated_container, migrated_session
from myna.jpki import service, verifiers
from myna.jpki.domain import (
    AuthorityKind,
    JpkiError,
    RevocationReason,
    check_organization,
    parse_serial,
)
from myna.jpki.schemas import StatementRead
from myna.jpki.verifier_domain import VerifierKind
from myna.platform.db import unit_of_work
from myna.platform.errors import N_
from myna.platform.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from myna.platform.settings import Settings

app = typer.Typer(no_args_is_help=True, help="The JPKI certificate authorities (J-LIS role).")


class KeyFileExistsError(JpkiError, code="key_file_exists"):
    """``org-issue`` would overwrite a key or certificate file."""

    message = N_("{path} already exists. Move it away or choose another --key-out directory.")


class PassphraseMissingError(JpkiError, code="passphrase_missing"):
    """``--passphrase-env`` names an environment variable that is unset or empty."""

    message = N_(
        "The environment variable {name} is not set or is empty. Put the passphrase for "
        "the private key in it and try again."
    )


@app.command()
def init() -> None:
    """Create the root, signing, user-authentication and government CAs that are missing."""
    with migrated_session() as session:
        service.ensure_authorities(session=session, settings=get_settings())
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
    with exit_on_error(), migrated_session() as session:
        number = parse_serial(serial)
        record = service.revoke_certificate(session=session, serial=number, reason=reason)
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
    with exit_on_error(), migrated_session() as session:
        der = service.current_crl(session=session, settings=get_settings(), kind=kind)
    out.write_bytes(der)
    parsed = x509.load_der_x509_crl(der)
    number = parsed.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    typer.echo(f"CRL {kind.value} #{number}: {len(parsed)} revoked, written to {out}")


@app.command()
def status(
    serial: Annotated[str, typer.Argument(help="Decimal, 0x-hex or aa:bb:.. hex.")],
) -> None:
    """Show what was recorded about one certificate."""
    with exit_on_error(), migrated_session() as session:
        record = service.certificate_status(session=session, serial=parse_serial(serial))
    rows = {
        "serial": f"{record.serial:#x}",
        "kind": record.kind.value,
        "status": record.status.value,
        "not_before": record.not_before.isoformat(),
        "not_after": record.not_after.isoformat(),
        "card_id": record.card_id or "",
        "organization_code": record.organization_code or "",
        "revoked_at": record.revoked_at.isoformat() if record.revoked_at else "",
        "reason": record.revocation_reason.value if record.revocation_reason else "",
    }
    for key, value in rows.items():
        typer.echo(f"{key}\t{value}")


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 from the start; never overwrite (O_EXCL)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _pem(certificates: list[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def _issue_pq(
    session: Session, settings: Settings, code: str, name: str, key: mldsa.MLDSA65PrivateKey
) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """The ML-DSA-65 organisation certificate and its chain (pq-gov, pq-root)."""
    certificate = service.issue_organization_certificate(
        session=session,
        settings=settings,
        organization_code=code,
        organization_name=name,
        public_key=key.public_key(),
    )
    chain = [
        x509.load_der_x509_certificate(service.ca_certificate(session=session, kind=k))
        for k in (AuthorityKind.PQ_GOVERNMENT, AuthorityKind.PQ_ROOT)
    ]
    return certificate, chain


@app.command("org-issue")
def org_issue(
    code: Annotated[str, typer.Option(help="The organisation's code, e.g. nta; also the CN.")],
    name: Annotated[str, typer.Option(help="The organisation's name, e.g. 国税庁 (O=).")],
    key_out: Annotated[
        Path, typer.Option(help="Directory for <code>.key.pem, <code>.crt.pem, gov-chain.pem.")
    ],
    passphrase_env: Annotated[
        str | None,
        typer.Option(help="Encrypt the key with the passphrase in this environment variable."),
    ] = None,
    pq: Annotated[
        bool,
        typer.Option(
            "--pq",
            help="Also an ML-DSA-65 key and certificate from the post-quantum government CA "
            "(<code>.mldsa65.key.pem, <code>.mldsa65.crt.pem, pq-gov-chain.pem).",
        ),
    ] = False,
) -> None:
    """Generate a P-256 key and issue an organisation certificate from the government CA.

    For agency nodes run as their own processes: the key (PKCS#8 PEM, mode 0600,
    encrypted when --passphrase-env is given) and the certificate go to files. With
    --pq, an ML-DSA-65 key and certificate too, for hybrid messages (ADR 0010).
    """
    settings = get_settings()
    with exit_on_error():
        code, name = check_organization(code, name)
        passphrase = None
        if passphrase_env is not None:
            passphrase = os.environ.get(passphrase_env, "")
            if not passphrase:
                raise PassphraseMissingError(name=passphrase_env)
        key_out.mkdir(parents=True, exist_ok=True)
        key_path = key_out / f"{code}.key.pem"
        cert_path = key_out / f"{code}.crt.pem"
        pq_key_path = key_out / f"{code}.mldsa65.key.pem"
        pq_cert_path = key_out / f"{code}.mldsa65.crt.pem"
        for path in (key_path, cert_path, *((pq_key_path, pq_cert_path) if pq else ())):
            if path.exists():
                raise KeyFileExistsError(path=str(path))
        key = ec.generate_private_key(ec.SECP256R1())
        pq_key = mldsa.MLDSA65PrivateKey.generate() if pq else None
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase.encode())
            if passphrase
            else serialization.NoEncryption()
        )
        for path, private in ((key_path, key), (pq_key_path, pq_key)):
            if private is not None:
                _write_private(
                    path,
                    private.private_bytes(
                        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
                    ),
                )
        try:
            with migrated_session(settings) as session:
                service.ensure_authorities(session=session, settings=settings)
                certificate = service.issue_organization_certificate(
                    session=session,
                    settings=settings,
                    organization_code=code,
                    organization_name=name,
                    public_key=key.public_key(),
                )
                chain = [
                    x509.load_der_x509_certificate(service.ca_certificate(session=session, kind=k))
                    for k in (AuthorityKind.GOVERNMENT, AuthorityKind.ROOT)
                ]
                pq_issued = (
                    None if pq_key is None else _issue_pq(session, settings, code, name, pq_key)
                )
        except BaseException:
            key_path.unlink(missing_ok=True)
            pq_key_path.unlink(missing_ok=True)
            raise
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    chain_path = key_out / "gov-chain.pem"
    chain_path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain))
    if pq_issued is not None:
        pq_cert_path.write_bytes(_pem([pq_issued[0]]))
        (key_out / "pq-gov-chain.pem").write_bytes(_pem(pq_issued[1]))
    if passphrase is None:
        typer.echo(
            f"warning: {key_path} is not encrypted; keep it secret (mode 0600) "
            "or use --passphrase-env.",
            err=True,
        )
    typer.echo(f"serial\t{certificate.serial_number:#x}")
    typer.echo(f"subject\t{certificate.subject.rfc4514_string()}")
    typer.echo(f"not_after\t{certificate.not_valid_after_utc.isoformat()}")
    typer.echo(f"key\t{key_path}")
    typer.echo(f"certificate\t{cert_path}")
    typer.echo(f"chain\t{chain_path}")
    if pq_issued is not None:
        typer.echo(f"pq_serial\t{pq_issued[0].serial_number:#x}")
        typer.echo(f"pq_key\t{pq_key_path}")
        typer.echo(f"pq_certificate\t{pq_cert_path}")
        typer.echo(f"pq_chain\t{key_out / 'pq-gov-chain.pem'}")


# --- verifiers (署名検証者・利用者証明検証者) ---------------------------------------


@app.command("register-verifier")
def register_verifier(
    code: Annotated[str, typer.Option(help="The verifier's code, e.g. mirai-bank.")],
    name: Annotated[str, typer.Option(help="Its name, e.g. みらい銀行株式会社 (O=).")],
    kind: Annotated[VerifierKind, typer.Option(help="The certificates it was approved to check.")],
    out: Annotated[
        Path, typer.Option(help="Directory for <code>/: verifier.json, key, certificate.")
    ],
    platform: Annotated[
        str | None,
        typer.Option(help="A service provider's platform operator (a registered verifier)."),
    ] = None,
) -> None:
    """Register a verifier: a P-256 key made here, its government-CA certificate, its files."""
    from myna import runtime  # noqa: PLC0415 - the demo's and this command's one registration

    container = migrated_container()
    with exit_on_error(), unit_of_work(container.session_factory) as session:
        identity, folder = runtime.register_verifier(
            session,
            container.settings,
            code=code,
            name=name,
            kind=kind,
            platform=platform,
            directory=out,
        )
    found, certificate = identity, identity.certificate
    typer.echo(f"verifier\t{found.code}")
    typer.echo(f"organization\t{found.organization_code}")
    typer.echo(f"kind\t{found.kind}")
    typer.echo(f"platform\t{found.platform or ''}")
    typer.echo(f"serial\t{certificate.serial_number:#x}")
    typer.echo(f"not_after\t{certificate.not_valid_after_utc.isoformat()}")
    typer.echo(f"files\t{folder}")
    typer.echo(
        f"warning: {folder / 'key.pem'} is not encrypted; keep it secret (mode 0600).", err=True
    )


@app.command("suspend-verifier")
def suspend_verifier(code: Annotated[str, typer.Argument(help="The verifier's code.")]) -> None:
    """Stop a verifier's requests (and those of its service providers, for a platform)."""
    with exit_on_error(), migrated_session() as session:
        found = verifiers.suspend_verifier(session=session, code=code)
    typer.echo(f"{found.code}\tsuspended")


@app.command("resume-verifier")
def resume_verifier(code: Annotated[str, typer.Argument(help="The verifier's code.")]) -> None:
    """Let a suspended verifier ask again."""
    with exit_on_error(), migrated_session() as session:
        found = verifiers.resume_verifier(session=session, code=code)
    typer.echo(f"{found.code}\tactive")


@app.command("verifiers")
def list_verifiers() -> None:
    """The registered verifiers: code, kind, platform, state, name."""
    with exit_on_error(), migrated_session() as session:
        found = verifiers.list_verifiers(session=session)
    for item in found:
        state = "suspended" if item.suspended else "active"
        typer.echo(f"{item.code}\t{item.kind.value}\t{item.platform or ''}\t{state}\t{item.name}")


@app.command()
def statement(
    verifier: Annotated[str, typer.Option(help="The verifier's code.")],
    month: Annotated[str, typer.Option(help="The month in Japan, YYYY-MM.")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the statement as the API returns it.")
    ] = False,
) -> None:
    """A verifier's monthly statement (請求明細): items, counts and amounts in yen."""
    with exit_on_error(), migrated_session() as session:
        found = StatementRead.of(verifiers.statement(session=session, code=verifier, month=month))
    if json_output:
        typer.echo(found.model_dump_json(indent=2))
        return
    typer.echo(f"verifier\t{found.verifier}\t{found.name}")
    typer.echo(f"month\t{found.month}{'' if found.final else ' (so far)'}")
    typer.echo(f"billed_to\t{found.billed_to}")
    for line in found.lines:
        typer.echo(
            f"{line.item.value}\t{line.label}\t{line.count}\t× {line.unit_price_yen}円\t"
            f"{line.amount_yen}円"
        )
    for provider in found.service_providers:
        for line in provider.lines:
            typer.echo(
                f"{provider.code}:{line.item.value}\t{line.label}\t{line.count}\t"
                f"× {line.unit_price_yen}円\t{line.amount_yen}円"
            )
    typer.echo(f"total\t{found.total_yen}円")
