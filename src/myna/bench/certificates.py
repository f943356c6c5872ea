"""`myna bench certificates`: signed 住民票の写し per second, over the kiosk API.

One operation is one ``POST /api/kiosk/v1/sessions/{id}/certificates`` for a household
copy of the residence record at a kiosk session the card already opened: the registry
read, the page written with ReportLab (IPAex Gothic embedded as a subset, the QR code),
the municipality's ECDSA P-256 signature, the TSA's RSA-2048 time stamp, the chain, CRLs
and OCSP answers in the DSS, the document time stamp (PAdES B-LTA), the issuance row
and one exchange-log entry per member shown — one transaction. The answer is checked: a
PDF with its number and the kiosk's fee.

Phases:

1. setup (not timed): the CAs, the personas, taro's card; the portal started in a
   subprocess; ``concurrency`` kiosk sessions opened with the card (PIN, signature,
   ``jpki`` verification); a warm-up of :data:`WARM_UP` certificates one after another
   (the first builds the municipality's key and gathers the signing material the
   process then reuses);
2. baseline: the trivial endpoint (``GET /healthz``) back to back;
3. certificates back to back at ``concurrency`` clients;
4. certificates paced at half the rate phase 3 reached (open loop).

The server CPU per certificate — read from ``/proc`` around phases 3–4 — is the figure
that holds on a machine of its own.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field

import httpx
from cryptography.hazmat.primitives.serialization import Encoding
from rich.console import Console

from myna import registry, runtime
from myna.bench import harness, people
from myna.bench.harness import LoadStats, Result
from myna.card.protocol import kiosk_message
from myna.platform.db import unit_of_work
from myna.platform.logging import configure_logging

PREFIX = "/api/kiosk/v1"
WARM_UP = 10
"""Certificates before the phases: the first signs with a key made on first use."""
KIOSK_ID = "bench-kiosk"
FEE = 200


class CertificateRefusedError(Exception):
    """An answer other than a signed PDF with its number and fee."""


@dataclass
class _Certificates:
    """The issuance operation for the load loops: a household copy, its answer checked."""

    url: str
    sessions: list[str]
    issued: int = 0
    sizes: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._turn = itertools.cycle(self.sessions)

    async def __call__(self, client: httpx.AsyncClient) -> None:
        session_id = next(self._turn)
        response = await client.post(
            f"{self.url}{PREFIX}/sessions/{session_id}/certificates",
            json={"kind": "resident-record", "relation": True},
        )
        if response.status_code != 200:
            msg = f"{response.status_code} {response.text[:80]}"
            raise CertificateRefusedError(msg)
        if (
            not response.content.startswith(b"%PDF-")
            or not response.headers.get("x-myna-certificate-number")
            or response.headers.get("x-myna-fee") != str(FEE)
        ):
            msg = "the answer is not a certificate with its number and fee"
            raise CertificateRefusedError(msg)
        self.issued += 1
        if len(self.sizes) < 100:
            self.sizes.append(len(response.content))

    async def warm_up(self) -> LoadStats:
        """:data:`WARM_UP` certificates one after another."""

        async def one(client: httpx.AsyncClient, _index: int) -> None:
            await self(client)

        return await harness.in_turn(one, list(range(WARM_UP)))


def _prepare(space: harness.Workspace) -> str:
    """The database, the personas and taro's card; the card's id."""
    container = space.container
    runtime.prepare_database(container)
    with unit_of_work(container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"]
        summary = runtime.issue_demo_card(session, space.settings, taro.id)
    container.engine.dispose()
    return summary.card_id


def _open_sessions(space: harness.Workspace, url: str, card_id: str, count: int) -> list[str]:
    """``count`` kiosk sessions, each opened with the card as a copier does."""
    signer = people.auth_signers(space.settings, [card_id])[0]
    certificate = base64.b64encode(signer.certificate.public_bytes(Encoding.DER)).decode()
    opened: list[str] = []
    with httpx.Client(timeout=30.0) as client:
        for _ in range(count):
            session = client.post(f"{url}{PREFIX}/sessions", json={"kiosk_id": KIOSK_ID})
            session.raise_for_status()
            body = session.json()
            message = kiosk_message(
                kiosk_id=KIOSK_ID, session_id=body["session_id"], nonce=body["nonce"]
            )
            answer = client.post(
                f"{url}{PREFIX}/sessions/{body['session_id']}/card",
                json={
                    "certificate": certificate,
                    "signature": base64.b64encode(signer.sign(message)).decode(),
                },
            )
            answer.raise_for_status()
            opened.append(body["session_id"])
    return opened


def run(*, plan: harness.Plan, console: Console) -> Result:
    """Run the certificate scenario and return its result."""
    configure_logging(level="WARNING", json=False)
    load = plan.load(console)
    with harness.workspace("myna-bench-certificates-", plan.database_url) as space:
        console.print("Preparing the database, the certificate authorities and a card…")
        card_id = _prepare(space)
        env = space.server_env()
        with harness.portal_server(env, workers=plan.workers) as server:
            sessions = _open_sessions(space, server.url, card_id, max(plan.concurrency, 1))
            certificates = _Certificates(server.url, sessions)
            measured = harness.measure(
                server,
                certificates,
                "Signed 住民票の写し",
                load,
                warm_up=f"{WARM_UP} certificates one after another",
            )
        space.container.engine.dispose()
    result = Result.of_load(
        "certificates",
        full=measured.full,
        half=measured.half,
        baseline=measured.baseline,
        details={
            "database": harness.database_kind(space.database_url),
            **harness.load_settings(plan.duration, plan.concurrency, plan.workers),
            **measured.details("certificate"),
            "certificates_per_s_per_worker": round(measured.full.rate / plan.workers, 2),
            "certificates_issued": certificates.issued,
            "pdf_bytes_mean": round(sum(certificates.sizes) / len(certificates.sizes))
            if certificates.sizes
            else 0,
        },
    )
    harness.print_phases(console, "myna bench certificates", measured.phases("certificate"))
    details = result.details
    console.print(
        f"{measured.full.rate:,.1f} signed 住民票の写し/s at full load "
        f"({details['certificates_per_s_per_worker']} per worker); p50 / p99 at half load = "
        f"{result.p50_ms} / {result.p99_ms} ms, p99 at full load = "
        f"{details['full_load_p99_ms']} ms; server CPU "
        f"{details['server_cpu_ms_per_certificate']} ms per certificate; PDFs of "
        f"{details['pdf_bytes_mean']:,} bytes on average"
    )
    return result
