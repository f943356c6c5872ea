"""`myna log ...`: the exchange log's operator console and the offline verifier.

``myna log verify`` with files needs no database and no Myna installation beyond this
module: it reads the JSON documents described in docs/exchange-log.md.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from joserfc.errors import JoseError
from rich.console import Console

from myna.cli.common import exit_on_error, migrated_session
from myna.network.transparency import service, signing
from myna.network.transparency import witness as witnessing
from myna.network.transparency.domain import (
    ConsistencyProof,
    InclusionBundle,
    InclusionProof,
    InvalidProofError,
    LogEntry,
    SignedTreeHead,
    TransparencyError,
    verify_entry_inclusion,
    verify_heads_consistent,
)
from myna.platform.errors import N_
from myna.platform.settings import get_settings

app = typer.Typer(
    no_args_is_help=True, help="The exchange log (やりとり履歴): heads, proofs, checks."
)


class DocumentFileError(TransparencyError, code="unreadable_document"):
    """A file given to the verifier that cannot be read as JSON."""

    message = N_("The file {path} cannot be read as JSON.")


class KeyFileError(TransparencyError, code="unreadable_log_key"):
    """The log key file is missing, unreadable or not a P-256 key."""

    message = N_("The log key in {path} cannot be read: it must be a P-256 private key in PEM.")


class MissingDocumentError(TransparencyError, code="nothing_to_verify"):
    """The verifier was not given enough to check anything."""

    message = N_(
        "Nothing to verify: give --bundle, or --head with --entry and --proof, "
        "or --head with --second-head and --consistency, or --database."
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DocumentFileError(path=str(path)) from error


def _dump(value: object, out: Path | None) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"Wrote {out}")


def _signer(path: Path) -> signing.LogSigner:
    try:
        return signing.LogSigner.from_pem(path.read_bytes())
    except (OSError, ValueError, TypeError, JoseError) as error:
        raise KeyFileError(path=str(path)) from error


Out = Annotated[Path | None, typer.Option(help="Write the JSON here instead of printing it.")]


@app.command()
def keygen(
    out: Annotated[Path, typer.Option(help="Where to create the private key (PEM, mode 0600).")],
    jwk: Annotated[Path | None, typer.Option(help="Also write the public JWK here.")] = None,
) -> None:
    """Create a P-256 log signing key; print the public JWK residents verify with."""
    signer = signing.LogSigner.generate()
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(signer.private_pem())
    _dump(signer.public_jwk, jwk)


@app.command()
def head(
    key: Annotated[
        Path | None, typer.Option(help="Log private key (PEM): sign and publish a new head.")
    ] = None,
    out: Out = None,
) -> None:
    """Publish a signed tree head of the current log (with --key) or show the latest."""
    with exit_on_error(), migrated_session() as session:
        if key is not None:
            published = service.publish_tree_head(session=session, signer=_signer(key))
        else:
            published = service.latest_tree_head(session=session)
    _dump(published.to_json(), out)


@app.command()
def proof(
    index: Annotated[int, typer.Argument(min=0, help="The entry's leaf index.")],
    out: Out = None,
) -> None:
    """Write an entry with its inclusion proof against the latest signed head (a bundle)."""
    with exit_on_error(), migrated_session() as session:
        bundle = service.inclusion_bundle(session=session, index=index)
    if bundle is None:
        typer.echo("No signed tree head covers this entry yet; publish one first.", err=True)
        raise typer.Exit(code=1)
    _dump(bundle.to_json(), out)


@app.command()
def consistency(
    first: Annotated[int, typer.Option(min=0, help="The older tree size.")],
    second: Annotated[int, typer.Option(min=0, help="The newer tree size.")],
    out: Out = None,
) -> None:
    """Write a consistency proof between two tree sizes."""
    with exit_on_error(), migrated_session() as session:
        document = service.consistency_proof(session=session, first=first, second=second)
    _dump(document.to_json(), out)


def _public_key(public_key: Path | None, key: Path | None) -> signing.LogPublicKeys:
    if public_key is not None:
        document = _read_json(public_key)
        if not isinstance(document, dict):
            raise InvalidProofError(kind="JWK", reason="expected a JSON object")
        return signing.LogPublicKeys.from_document(document)
    if key is not None:
        return signing.LogPublicKeys(signing.public_key(_signer(key).public_jwk))
    raise InvalidProofError(kind="JWK", reason="give --public-key (or --key)")


def _verify_database(keys: signing.LogPublicKeys, policy: str) -> None:
    with migrated_session() as session:
        report = service.verify_log(session=session, public_key=keys, policy=policy)
    typer.echo(
        f"entries {report.entries_checked}, subtrees {report.nodes_checked}, "
        f"heads {report.heads_checked}, consistency proofs {report.consistency_checked}"
    )
    for problem in report.problems:
        typer.echo(f"{problem.code}: {problem.localized()}", err=True)
    if not report.ok:
        typer.echo(f"{report.problem_count} problem(s) found.", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"OK: the log of {report.tree_size} entries verifies.")


@app.command()
def verify(
    public_key: Annotated[
        Path | None, typer.Option(help="The log's public key (JWK JSON).")
    ] = None,
    bundle: Annotated[
        Path | None, typer.Option(help="Entry + inclusion proof + head, as downloaded.")
    ] = None,
    head_file: Annotated[Path | None, typer.Option("--head", help="A signed tree head.")] = None,
    entry: Annotated[Path | None, typer.Option(help="An entry (JSON).")] = None,
    proof_file: Annotated[
        Path | None, typer.Option("--proof", help="The entry's inclusion proof.")
    ] = None,
    second_head: Annotated[Path | None, typer.Option(help="A later signed tree head.")] = None,
    consistency_file: Annotated[
        Path | None,
        typer.Option("--consistency", help="Consistency proof from --head to --second-head."),
    ] = None,
    database: Annotated[
        bool, typer.Option("--database", help="Recompute the whole configured log instead.")
    ] = False,
    key: Annotated[
        Path | None, typer.Option(help="Log private key (PEM), if no --public-key.")
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            help="Signatures a head must carry: classic (ES256), hybrid (ES256 and "
            "ML-DSA-65) or post-quantum (ML-DSA-65). Default: MYNA_LOG_SIGNATURE_POLICY."
        ),
    ] = None,
) -> None:
    """Check heads and proofs offline (no database), or the whole log with --database.

    --public-key takes the log's JWK, or the JWK Set of /transparency/keys (both keys).
    """
    with exit_on_error():
        keys = _public_key(public_key, key)
        chosen = policy or get_settings().log_signature_policy
        if chosen not in signing.POLICIES:
            raise InvalidProofError(kind="policy", reason=f"unknown policy {chosen!r}")
        if database:
            _verify_database(keys, chosen)
            return
        checked = False
        first_head: SignedTreeHead | None = None
        if bundle is not None:
            found = InclusionBundle.from_json(_read_json(bundle))
            keys.verify(found.head, chosen)
            verify_entry_inclusion(entry=found.entry, proof=found.proof, head=found.head)
            first_head = found.head
            typer.echo(
                f"OK: entry {found.entry.index} is in the signed tree of {found.head.tree_size}."
            )
            checked = True
        if head_file is not None:
            first_head = SignedTreeHead.from_json(_read_json(head_file))
            keys.verify(first_head, chosen)
            typer.echo(f"OK: the tree head of size {first_head.tree_size} is signed by the log.")
            if entry is not None and proof_file is not None:
                leaf = LogEntry.from_json(_read_json(entry))
                inclusion = InclusionProof.from_json(_read_json(proof_file))
                verify_entry_inclusion(entry=leaf, proof=inclusion, head=first_head)
                typer.echo(f"OK: entry {leaf.index} is in the signed tree.")
                checked = True
        if second_head is not None and consistency_file is not None and first_head is not None:
            later = SignedTreeHead.from_json(_read_json(second_head))
            keys.verify(later, chosen)
            document = ConsistencyProof.from_json(_read_json(consistency_file))
            verify_heads_consistent(first=first_head, second=later, proof=document)
            typer.echo(
                f"OK: the tree of {later.tree_size} extends the tree of {first_head.tree_size}."
            )
            checked = True
        if not checked:
            raise MissingDocumentError


@app.command()
def witness(
    portal: Annotated[str, typer.Option(help="The portal's origin, e.g. https://portal.example.")],
    key: Annotated[
        Path, typer.Option(help="The witness's own P-256 private key (PEM; `myna log keygen`).")
    ],
    state: Annotated[
        Path, typer.Option(help="The witness's directory: heads, cosignatures, evidence.")
    ],
    log_key: Annotated[
        Path | None,
        typer.Option(help="The log's public JWK to pin (else the one published on first use)."),
    ] = None,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between polls.")] = 10.0,
    rounds: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many polls (default: never).")
    ] = None,
    submit: Annotated[
        bool, typer.Option(help="Hand each cosignature in to the portal, which publishes it.")
    ] = False,
    policy: Annotated[
        str | None,
        typer.Option(
            help="Signatures each head must carry: classic, hybrid or post-quantum "
            "(default: MYNA_LOG_SIGNATURE_POLICY)."
        ),
    ] = None,
) -> None:
    """Watch a portal's exchange log: check every new head, keep it, cosign it.

    Exits with status 2, loudly and with evidence kept, when the log rolls back,
    forks or shows a split view; a portal that does not answer is retried.
    """
    console = Console(stderr=True)
    with exit_on_error():
        pinned = None if log_key is None else _read_json(log_key)
        chosen = policy or get_settings().log_signature_policy
        if chosen not in signing.POLICIES:
            raise InvalidProofError(kind="policy", reason=f"unknown policy {chosen!r}")
        watcher = witnessing.Witness(
            directory=state,
            key=_signer(key),
            log=witnessing.LogClient(portal),
            log_key=pinned,
            submit=submit,
            policy=chosen,
        )
    done = answered = 0
    try:
        while rounds is None or done < rounds:
            if done:
                time.sleep(interval)
            done += 1
            try:
                result = watcher.poll()
            except witnessing.LogMisbehavedError as error:
                console.print(f"[bold red]ALERT[/] {error.localized()}")
                raise typer.Exit(code=2) from None
            except witnessing.LogUnreachableError as error:
                console.print(f"[yellow]{error.localized()}[/]")
                continue
            except TransparencyError as error:
                console.print(f"[bold red]{error.code}[/]: {error.localized()}")
                raise typer.Exit(code=1) from None
            answered += 1
            head = result.head
            if result.observation is witnessing.Observation.UNCHANGED:
                typer.echo(f"unchanged: tree of {head.tree_size}")
            elif result.observation is witnessing.Observation.FIRST:
                typer.echo(f"first head: tree of {head.tree_size}, cosigned")
            else:
                typer.echo(
                    f"consistent: tree of {result.previous_size} -> {head.tree_size}, cosigned"
                )
            if result.handed_in is not None:
                typer.echo(f"cosignature handed in: {result.handed_in}")
    finally:
        watcher.log.close()
    if not answered:
        raise typer.Exit(code=1)
