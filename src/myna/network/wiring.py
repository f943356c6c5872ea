"""How the hub is put together for a deployment: catalog, transport, log key.

Embedded mode: every agency answers in-process (``InProcessTransport``). Agencies
listed in ``MYNA_AGENCY_NODES`` are reached over HTTP instead (distributed mode).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import Session

from myna import agencies
from myna.network.hub import Hub
from myna.network.interfaces import AgencyTransport
from myna.network.node import HttpTransport, RoutingTransport
from myna.network.provider import InProcessTransport
from myna.network.transparency import LogSigner, SignedTreeHead, publish_tree_head
from myna.platform.settings import Settings


def hub_for(*, session: Session, settings: Settings) -> Hub:
    """The hub for one unit of work (the in-process transport shares its session).

    Agencies in ``settings.agency_nodes`` are asked over HTTP, the others in-process.
    """
    transport: AgencyTransport = InProcessTransport(session=session, settings=settings)
    if settings.agency_nodes:
        remote = http_transport(
            tuple(sorted(settings.agency_nodes.items())), settings.agency_timeout_seconds
        )
        transport = RoutingTransport(remote=remote, local=transport)
    return Hub(settings=settings, directory=agencies.load_catalog(), transport=transport)


_transports: dict[tuple[tuple[tuple[str, str], ...], float], HttpTransport] = {}
_transports_lock = threading.Lock()


def http_transport(nodes: tuple[tuple[str, str], ...], timeout: float) -> HttpTransport:
    """One HTTP transport (one connection pool) per node configuration, shared by threads."""
    with _transports_lock:
        transport = _transports.get((nodes, timeout))
        if transport is None:
            transport = _transports[(nodes, timeout)] = HttpTransport(dict(nodes), timeout=timeout)
        return transport


def close_http_transports() -> None:
    """Close the hub's connection pools to agency nodes (at shutdown)."""
    with _transports_lock:
        for transport in _transports.values():
            transport.close()
        _transports.clear()


def log_signer(settings: Settings) -> LogSigner:
    """The exchange log's signing key, created under the data directory on first use."""
    return _signer(settings.data_dir.resolve() / "keys" / "exchange-log.pem")


@lru_cache(maxsize=4)
def _signer(path: Path) -> LogSigner:
    if path.exists():
        return LogSigner.from_pem(path.read_bytes())
    signer = LogSigner.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written once, readable by the owner only; never overwritten.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(signer.private_pem())
    return signer


def publish_head(*, session: Session, settings: Settings) -> SignedTreeHead:
    """Sign a tree head over everything appended so far (once per second in a server)."""
    return publish_tree_head(session=session, signer=log_signer(settings))
