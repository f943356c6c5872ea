"""Helpers for agency-node tests: a rogue CA, fixed CRL sources, servers and processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from fastapi import FastAPI
from sqlalchemy.orm import Session

from myna import jpki
from myna.network.node import HubTrust
from myna.platform.web import SERVER_OPTIONS

START_SECONDS = 60


@dataclass(frozen=True)
class FixedCrl:
    """A revocation source that always gives the same CRL."""

    crl: x509.CertificateRevocationList

    def revocation_list(self) -> x509.CertificateRevocationList:
        return self.crl

    def refresh(self) -> None:
        """Nothing newer to fetch."""


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Myna JPKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca(
    subject: str, key: rsa.RSAPrivateKey, issuer: x509.Name, signer: rsa.RSAPrivateKey
) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )


@dataclass(frozen=True)
class RogueAuthority:
    """A CA pair with the real names of Myna's root and government CA but other keys."""

    trust: HubTrust
    government_key: rsa.RSAPrivateKey

    def crl(self) -> x509.CertificateRevocationList:
        """An empty CRL signed by the rogue government CA."""
        now = datetime.now(UTC)
        return (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.trust.government.subject)
            .last_update(now - timedelta(minutes=1))
            .next_update(now + timedelta(hours=1))
            .sign(self.government_key, hashes.SHA256())
        )


def rogue_authority() -> RogueAuthority:
    """Build a look-alike root and government CA that Myna never issued."""
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    gov_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = _ca("Myna JPKI Root CA", root_key, _name("Myna JPKI Root CA"), root_key)
    government = _ca("Myna Government CA", gov_key, root.subject, root_key)
    return RogueAuthority(HubTrust(root=root, government=government), gov_key)


def real_trust(session: Session) -> HubTrust:
    """The node's trust as ``gov-chain.pem`` gives it, from the test database."""
    chain = b"".join(
        x509.load_der_x509_certificate(
            jpki.ca_certificate(session=session, kind=kind)
        ).public_bytes(encoding=Encoding.PEM)
        for kind in (jpki.AuthorityKind.GOVERNMENT, jpki.AuthorityKind.ROOT)
    )
    return HubTrust.from_pem(chain)


def new_p256_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key."""
    return ec.generate_private_key(ec.SECP256R1())


class ServerThread:
    """An ASGI app served by uvicorn on 127.0.0.1 in a thread of the test process."""

    def __init__(self, app: FastAPI, port: int) -> None:
        # Started as `myna serve` starts one (forwarded headers not believed, etc.).
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", **SERVER_OPTIONS
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                msg = "server did not start"
                raise RuntimeError(msg)
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def myna_command(*arguments: str, clock_offset_seconds: float = 0.0) -> list[str]:
    """The ``myna`` command line run with this interpreter.

    ``clock_offset_seconds`` sets the process's clock that far off (Myna's ``utcnow``,
    replaced before anything imports it): a machine whose clock drifted.
    """
    code = "from myna.cli import main; main()"
    if clock_offset_seconds:
        code = (
            "import datetime, myna.platform.db as db; real = db.utcnow; "
            f"db.utcnow = lambda: real() + datetime.timedelta(seconds={clock_offset_seconds!r}); "
            + code
        )
    return [sys.executable, "-c", code, *arguments]


def run_myna(env: dict[str, str], *arguments: str) -> str:
    """Run a ``myna`` command to completion; its standard output."""
    done = subprocess.run(
        myna_command(*arguments),
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        msg = f"myna {' '.join(arguments)} failed: {done.stderr}"
        raise RuntimeError(msg)
    return done.stdout


@dataclass
class NodeProcess:
    """An agency node started with ``myna agency serve``."""

    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        """Stop it by its PID and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_node(
    env: dict[str, str],
    port: int,
    *arguments: str,
    log: Path,
    clock_offset_seconds: float = 0.0,
) -> NodeProcess:
    """Start ``myna agency serve`` and wait (bounded) until its /healthz answers."""
    command = myna_command(
        "agency",
        "serve",
        "--port",
        str(port),
        *arguments,
        clock_offset_seconds=clock_offset_seconds,
    )
    with log.open("wb") as stream:
        process = subprocess.Popen(
            command,
            env={**os.environ, **env},
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
    node = NodeProcess(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            msg = f"the agency node exited during start-up: {log.read_text()}"
            raise RuntimeError(msg)
        try:
            if httpx.get(f"{node.url}/healthz", timeout=1.0).status_code == 200:
                return node
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            node.stop()
            msg = f"the agency node did not start within {START_SECONDS} s"
            raise RuntimeError(msg)
        time.sleep(0.1)


@contextmanager
def silent_listener() -> Iterator[str]:
    """A port that accepts connections and never answers: a node that hangs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
