"""How the hub is put together: catalog, transports, log key — the composition root calls it.

Embedded mode: every agency answers in-process (``InProcessTransport``). Agencies with a
node (``MYNA_AGENCY_NODES``) are reached over HTTP instead (distributed mode), through
one connection pool the caller owns (:func:`http_transport`). Nothing here is cached in
a module: the container (``myna.bootstrap``) keeps the pool and the log signer.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from sqlalchemy.orm import Session

from myna import agencies
from myna.network.hub import Hub
from myna.network.interfaces import AgencyTransport, CorrectionInbox, ExchangeCounter
from myna.network.node import HttpTransport, RoutingTransport
from myna.network.provider import InProcessTransport
from myna.network.transparency import LogSigner
from myna.network.transparency.signing import PqSigner
from myna.platform.settings import Settings


def build_hub(
    *,
    session: Session,
    settings: Settings,
    remote: HttpTransport | None,
    inbox: CorrectionInbox | None = None,
    counter: ExchangeCounter | None = None,
) -> Hub:
    """The hub for one unit of work: in-process agencies share ``session``.

    Agencies ``remote`` serves (their nodes) are reached over HTTP, the others in-process;
    answers to correction requests go to ``inbox`` (the portal's); what it logs is counted
    by ``counter`` (the portal's metrics).
    """
    transport: AgencyTransport = InProcessTransport(session=session, settings=settings)
    if remote is not None:
        transport = RoutingTransport(remote=remote, local=transport)
    return Hub(
        settings=settings,
        directory=agencies.load_catalog(),
        transport=transport,
        inbox=inbox,
        counter=counter,
    )


def http_transport(settings: Settings) -> HttpTransport | None:
    """One HTTP transport (one connection pool) to the agency nodes, or None without any."""
    if not settings.agency_nodes:
        return None
    return HttpTransport(dict(settings.agency_nodes), timeout=settings.agency_timeout_seconds)


def _key_file(path: Path, make: Callable[[], bytes]) -> bytes:
    """A private key file, created once (owner-readable, never overwritten), then read."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = make()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Another process of the same deployment made it first: use theirs.
        return path.read_bytes()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return pem


def load_log_signer(settings: Settings) -> LogSigner:
    """The exchange log's signing keys (ES256 and ML-DSA-65), made under the data directory
    on first use."""
    keys = settings.data_dir.resolve() / "keys"
    classic = _key_file(keys / "exchange-log.pem", lambda: LogSigner.generate().private_pem())
    pq = _key_file(keys / "exchange-log-mldsa65.pem", lambda: PqSigner.generate().private_pem())
    return replace(LogSigner.from_pem(classic), pq=PqSigner.from_pem(pq))
