"""`myna agency ...` commands: run an agency node (中間サーバー) of the distributed mode.

``serve`` starts one agency's node on its own database; ``load`` fills that database
with the agency's records from an embedded database (docs/network.md, step by step).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from myna.cli.common import exit_on_error, migrated_session
from myna.platform.settings import Settings, get_settings

if TYPE_CHECKING:
    from myna.network.messages import Credential, PqCredential

app = typer.Typer(no_args_is_help=True, help="Agency nodes (中間サーバー) in distributed mode.")

Agency = Annotated[str, typer.Option(help="The agency code, e.g. muni-131016.")]
DatabaseUrl = Annotated[
    str, typer.Option(help="The node's own database (default: MYNA_DATABASE_URL).")
]


def _settings(database_url: str) -> Settings:
    settings = get_settings()
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


Key = Annotated[Path, typer.Option(help="The agency's private key (PKCS#8 PEM).")]
Cert = Annotated[Path, typer.Option(help="The agency's certificate (PEM) from org-issue.")]
PassphraseEnv = Annotated[
    str | None, typer.Option(help="Environment variable holding the key's passphrase.")
]


def _credential(agency: str, key: Path, cert: Path, passphrase_env: str | None) -> Credential:
    """The agency's signing credential from its key and certificate files."""
    from cryptography import x509  # noqa: PLC0415 - keep `myna --help` fast
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415

    from myna.network import node  # noqa: PLC0415
    from myna.network.messages import Credential  # noqa: PLC0415

    passphrase = os.environ.get(passphrase_env, "").encode() if passphrase_env else None
    try:
        private_key = serialization.load_pem_private_key(
            key.read_bytes(), password=passphrase or None
        )
        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise node.NodeConfigurationError(reason=str(exc)) from exc
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        raise node.NodeConfigurationError(reason="the key is not an EC P-256 key")
    return Credential(code=agency, certificate=certificate, private_key=private_key)


def _pq_credential(key: Path, cert: Path, passphrase_env: str | None) -> PqCredential:
    """The agency's ML-DSA-65 key and certificate from the post-quantum government CA."""
    from cryptography import x509  # noqa: PLC0415 - keep `myna --help` fast
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import mldsa  # noqa: PLC0415

    from myna.network import node  # noqa: PLC0415
    from myna.network.messages import PqCredential  # noqa: PLC0415

    passphrase = os.environ.get(passphrase_env, "").encode() if passphrase_env else None
    try:
        private_key = serialization.load_pem_private_key(
            key.read_bytes(), password=passphrase or None
        )
        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise node.NodeConfigurationError(reason=str(exc)) from exc
    if not isinstance(private_key, mldsa.MLDSA65PrivateKey):
        raise node.NodeConfigurationError(reason="the --pq-key is not an ML-DSA-65 key")
    return PqCredential(certificate=certificate, private_key=private_key)


@app.command()
def serve(
    agency: Agency,
    key: Key,
    cert: Cert,
    ca_chain: Annotated[
        Path, typer.Option(help="The government CA and root (gov-chain.pem from org-issue).")
    ],
    database_url: DatabaseUrl = "",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 9100,
    crl_url: Annotated[
        str, typer.Option(help="The government CA's CRL (default: from the certificate).")
    ] = "",
    passphrase_env: PassphraseEnv = None,
    pq_key: Annotated[
        Path | None,
        typer.Option(help="The agency's ML-DSA-65 key (PKCS#8 PEM): sign hybrid messages."),
    ] = None,
    pq_cert: Annotated[
        Path | None,
        typer.Option(help="Its certificate from the post-quantum government CA (PEM)."),
    ] = None,
    pq_ca_chain: Annotated[
        Path | None,
        typer.Option(help="The post-quantum government CA and root (pq-gov-chain.pem)."),
    ] = None,
    pq_crl_url: Annotated[
        str, typer.Option(help="The post-quantum government CA's CRL (default: from --pq-cert).")
    ] = "",
) -> None:
    """Start one agency's node: migrate its database, check its key, answer the hub.

    With --pq-key and --pq-cert its answers and receipts carry an ML-DSA-65 signature
    too; with --pq-ca-chain it can check the hub's, as MYNA_MESSAGE_SIGNATURE_POLICY
    (hybrid or post-quantum) requires.
    """
    import httpx  # noqa: PLC0415 - keep `myna --help` fast
    import uvicorn  # noqa: PLC0415

    from myna.bootstrap import build_container  # noqa: PLC0415
    from myna.network import node  # noqa: PLC0415
    from myna.platform.logging import configure_logging  # noqa: PLC0415
    from myna.platform.migrate import upgrade_to_head  # noqa: PLC0415
    from myna.platform.web import SERVER_OPTIONS  # noqa: PLC0415

    settings = _settings(database_url)
    configure_logging(level=settings.log_level, json=settings.log_json)
    with exit_on_error():
        credential = _credential(agency, key, cert, passphrase_env)
        if (pq_key is None) != (pq_cert is None):
            raise node.NodeConfigurationError(reason="--pq-key and --pq-cert go together")
        if pq_key is not None and pq_cert is not None:
            credential = replace(credential, pq=_pq_credential(pq_key, pq_cert, passphrase_env))
        if settings.message_signatures == "hybrid" and credential.pq is None:
            raise node.NodeConfigurationError(
                reason="MYNA_MESSAGE_SIGNATURES=hybrid needs --pq-key and --pq-cert"
            )
        try:
            trust = node.HubTrust.from_pem(ca_chain.read_bytes())
            if pq_ca_chain is not None:
                trust = trust.with_pq(pq_ca_chain.read_bytes())
        except (OSError, ValueError, TypeError) as exc:
            raise node.NodeConfigurationError(reason=str(exc)) from exc
        client = httpx.Client(timeout=settings.agency_timeout_seconds, trust_env=False)
        pq_revocation = None
        if pq_ca_chain is not None:
            if not pq_crl_url and credential.pq is None:
                raise node.NodeConfigurationError(
                    reason="--pq-ca-chain needs --pq-crl-url or --pq-cert"
                )
            own = credential.pq
            pq_revocation = node.CrlCache(
                url=(pq_crl_url or node.crl_url_of(own.certificate)) if own else pq_crl_url,
                client=client,
            )
        agency_node = node.AgencyNode(
            agency_code=agency,
            credential=credential,
            trust=trust,
            revocation=node.CrlCache(
                url=crl_url or node.crl_url_of(credential.certificate),
                client=client,
            ),
            pq_revocation=pq_revocation,
            policy=settings.message_signature_policy,
        )
        node.check_own_credential(agency_node)
    container = build_container(settings)
    upgrade_to_head(container.engine)
    typer.echo(f"agency node {agency} on http://{host}:{port}", err=True)
    uvicorn.run(
        node.create_node_app(container, agency_node),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        **SERVER_OPTIONS,
    )


@app.command()
def load(
    agency: Agency,
    from_database: Annotated[
        str, typer.Option(help="The embedded (hub) database holding the agency's records.")
    ],
    database_url: DatabaseUrl = "",
) -> None:
    """Copy one agency's replica records from an embedded database into its node's."""
    from myna.network import node  # noqa: PLC0415
    from myna.platform.db import make_engine, make_session_factory, unit_of_work  # noqa: PLC0415

    source_engine = make_engine(from_database)
    try:
        with (
            exit_on_error(),
            unit_of_work(make_session_factory(source_engine)) as source,
            migrated_session(_settings(database_url)) as target,
        ):
            written = node.copy_agency_records(source=source, target=target, agency_code=agency)
    finally:
        source_engine.dispose()
    typer.echo(f"{agency}: {written} records loaded")


@app.command()
def corrections(
    agency: Agency,
    database_url: DatabaseUrl = "",
    status: Annotated[str, typer.Option(help="open, corrected, not_corrected or all.")] = "open",
) -> None:
    """List the correction requests (訂正の申出) delivered to this agency's node."""
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    from myna import agencies  # noqa: PLC0415
    from myna.bootstrap import build_container  # noqa: PLC0415
    from myna.platform.db import unit_of_work  # noqa: PLC0415

    chosen = None if status == "all" else agencies.CorrectionStatus(status)
    container = build_container(_settings(database_url))
    table = Table("id", "received", "item", "field", "proposed", "status")
    try:
        with exit_on_error(), unit_of_work(container.session_factory) as session:
            for row in agencies.correction_queue(
                session=session, agency_code=agency, status=chosen
            ):
                table.add_row(
                    str(row.id),
                    row.received_at.isoformat(timespec="seconds"),
                    row.item_code,
                    row.field_name or "-",
                    row.proposed_value,
                    row.status,
                )
    finally:
        container.engine.dispose()
    Console().print(table)


@app.command("answer-correction")
def answer_correction(
    correction_id: Annotated[int, typer.Argument(min=1, help="The request's id (corrections).")],
    agency: Agency,
    reason: Annotated[str, typer.Option(help="The reason the resident will read.")],
    corrected: Annotated[
        bool, typer.Option("--corrected/--not-corrected", help="Whether it is corrected.")
    ] = False,
    record: Annotated[int | None, typer.Option(min=1, help="The record to correct.")] = None,
    field: Annotated[str, typer.Option(help="The field to correct.")] = "",
    value: Annotated[str, typer.Option(help="The correct value.")] = "",
    key: Annotated[Path | None, typer.Option(help="On a node: the agency's key (PEM).")] = None,
    cert: Annotated[
        Path | None, typer.Option(help="On a node: the agency's certificate (PEM).")
    ] = None,
    hub: Annotated[str, typer.Option(help="On a node: the hub's (portal's) URL.")] = "",
    database_url: DatabaseUrl = "",
    passphrase_env: PassphraseEnv = None,
) -> None:
    """Answer one request: correct a record or not, and send the answer through the hub.

    On an agency's node give --key, --cert and --hub: the answer is posted to the hub.
    Without them, on the embedded platform's database: the hub runs in this process with
    the agency's credential held there. Either way the record is corrected only if the
    hub takes the answer (one transaction).
    """
    import httpx  # noqa: PLC0415

    from myna import network  # noqa: PLC0415
    from myna.bootstrap import build_container  # noqa: PLC0415
    from myna.network import node  # noqa: PLC0415
    from myna.platform.db import unit_of_work  # noqa: PLC0415

    settings = _settings(database_url)
    container = build_container(settings)
    client = httpx.Client(timeout=settings.agency_timeout_seconds, trust_env=False)
    try:
        with exit_on_error():
            on_node = (key, cert, hub or None)
            if any(on_node) and not all(on_node):
                raise node.NodeConfigurationError(
                    reason="give --key, --cert and --hub together (on a node), or none of them"
                )
            with unit_of_work(container.session_factory) as session:
                if key is not None and cert is not None:
                    credential = _credential(agency, key, cert, passphrase_env)

                    def send(token: str) -> object:
                        return node.post_to_hub(client, hub, "/network/correction-answer", token)
                else:
                    credential = network.credential_for(
                        session=session, settings=settings, code=agency
                    )
                    embedded = container.hub_for(session)

                    def send(token: str) -> object:
                        return embedded.answer_correction(session=session, token=token)

                answer = node.answer_correction_on_node(
                    session=session,
                    node_agency=agency,
                    credential=credential,
                    correction_id=correction_id,
                    corrected=corrected,
                    reason=reason,
                    record_id=record,
                    field=field,
                    value=value,
                    send=send,
                )
    finally:
        client.close()
        container.engine.dispose()
    outcome = "corrected" if answer.corrected else "not corrected"
    typer.echo(f"{answer.request_id}: {outcome}; the answer was delivered through the hub")
