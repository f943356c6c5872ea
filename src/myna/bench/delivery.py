"""`myna bench delivery`: 民間送達 (private delivery) documents accepted per second.

One delivery is one ``POST /api/delivery/v1/documents`` by a registered sender with a new
document (docs/delivery.md): the request's JWS (ES256, the sender's government-CA
certificate in ``x5c``: chain, validity, revocation), the sender's registration, the
request's freshness and id (once only), the recipient's link; then the document — safe
parsing, the enveloped XMLDSig's shape and signature (signxml), its certificate against
the government CA and revocation, the signed content against its XSD and rules — and
storing it in the resident's box with its log entry and お知らせ, in one transaction.

Phases, against a population of ``residents`` people:

1. setup (not timed): the registry seeded the ``myna seed`` way; two senders registered
   with keys certified by the government CA (``ds-...``) — an employer (給与所得の源泉徴収票)
   and a life insurer (生命保険料控除証明書); ``recipients`` random residents linking both
   (a pairwise recipient id each); ``documents`` documents built and signed by their
   sender, each under a document id of its own so that idempotency answers none of them
   (signing is the sender's work, not the server's); the portal started in a
   subprocess; a warm-up of :data:`WARM_UP` deliveries one after another;
2. baseline: the trivial endpoint (``GET /healthz``) back to back;
3. deliveries back to back at ``concurrency`` clients; the phase ends early if the signed
   documents run out (the result says so: give more ``--documents``);
4. deliveries paced at half the rate phase 3 reached (open loop), the documents it needs
   signed before it starts;
5. resends (``--resends``): documents already accepted sent again back to back, the same
   bytes in a new request, answered with the first receipt (``duplicate``) after every
   check of phase 3 — nothing is stored.

The request around each document is signed by the load generator as it is sent (ES256,
about 0.1 ms), since each needs a request id and time of its own. Server CPU is read
from ``/proc`` around phases 3–4 and around phase 5; per accepted document (per resend)
it is the figure that holds while the load generator shares the cores.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from rich.console import Console

from myna import runtime
from myna.bench import harness, people
from myna.bench.harness import LoadStats, Result
from myna.bootstrap import Container
from myna.delivery import (
    Document,
    DocumentKind,
    LifeInsuranceCategory,
    LifeInsuranceCertificate,
    LifeInsuranceSystem,
    SalaryWithholdingSlip,
    service,
)
from myna.delivery.identity import SenderIdentity
from myna.platform.db import unit_of_work
from myna.platform.logging import configure_logging

DOCUMENTS = "/api/delivery/v1/documents"
JOSE = {"content-type": "application/jose"}
YEAR = 2025  # 令和7年分
WARM_UP = 50
"""Deliveries before the phases: the server process's first ones are cold."""
GOAL_PER_WORKER = 100.0
"""Documents accepted per second per server worker that the service is meant to reach."""
# (code prefix, name, kind): each sender delivers the documents of its kind.
SENDERS: tuple[tuple[str, str, str], ...] = (
    ("bench-denki", "ベンチ電機株式会社", "employer"),
    ("bench-seimei", "ベンチ生命保険株式会社", "life-insurer"),
)


class DeliveryRefusedError(Exception):
    """An answer other than the one expected: a refusal, or a new document taken as a resend."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """A resident who linked the senders: their name, and their recipient id at each one."""

    name: str
    ids: dict[str, str]


@dataclass(frozen=True, slots=True)
class SignedDocument:
    """A document ready to send: its sender, its recipient id and the signed XML."""

    sender: SenderIdentity
    recipient: str
    document_id: str
    kind: DocumentKind
    xml: bytes


def _register_senders(container: Container) -> list[SenderIdentity]:
    """The two senders, under codes of their own for this run (a reused database keeps others)."""
    suffix = secrets.token_hex(3)
    settings = container.settings
    with unit_of_work(container.session_factory) as session:
        return [
            runtime.register_sender(
                session, settings, f"{code}-{suffix}", name, kind, settings.sender_dir
            )
            for code, name, kind in SENDERS
        ]


def _link(
    container: Container, senders: list[SenderIdentity], *, recipients: int, rng: random.Random
) -> list[Recipient]:
    """Random residents link every sender to their box, as on 送達元との連携."""
    residents = people.sample_residents(container, count=recipients, rng=rng)
    linked: list[Recipient] = []
    with unit_of_work(container.session_factory) as session:
        for resident in residents:
            ids: dict[str, str] = {}
            for sender in senders:
                found = service.link(
                    session=session, resident_id=resident.id, sender_code=sender.code
                )
                if found.recipient_id is None:  # pragma: no cover - a link has its id
                    msg = f"the link to {sender.code} has no recipient id"
                    raise RuntimeError(msg)
                ids[sender.code] = found.recipient_id
            linked.append(Recipient(resident.full_name, ids))
    if not linked:
        msg = "no active resident could be found to link the senders"
        raise RuntimeError(msg)
    return linked


def _document(
    sender: SenderIdentity, recipient: str, name: str, number: int, rng: random.Random
) -> Document:
    """The sender's document of its kind for one resident, amounts drawn from ``rng``."""
    document_id = f"BENCH-{YEAR}-{number:08d}"
    if sender.kind == "employer":
        paid = rng.randrange(2_000_000, 12_000_000, 1_000)
        return SalaryWithholdingSlip(
            document_id=document_id,
            issued_on=date(YEAR + 1, 1, 20),
            sender_code=sender.organization_code,
            sender_name=sender.name,
            recipient=recipient,
            year=YEAR,
            payer_name=sender.name,
            payer_address="東京都千代田区丸の内1-2-3",
            payee=name,
            payment_amount=paid,
            income_after_employment_deduction=paid * 7 // 10,
            total_deductions=paid * 28 // 100,
            withholding_tax=paid * 25 // 1000,
            social_insurance=paid * 15 // 100,
        )
    certified = rng.randrange(10_000, 150_000, 10)
    return LifeInsuranceCertificate(
        document_id=document_id,
        issued_on=date(YEAR, 10, 15),
        sender_code=sender.organization_code,
        sender_name=sender.name,
        recipient=recipient,
        year=YEAR,
        insurer_name=sender.name,
        contractor=name,
        policy_number=f"BS-{number:08d}",
        insurance_type="終身保険",
        insured=name,
        system=LifeInsuranceSystem.NEW,
        category=LifeInsuranceCategory.GENERAL,
        certified_amount=certified,
        certified_as_of=date(YEAR, 9, 30),
        declared_amount=certified * 4 // 3,
    )


def _sign(sender: SenderIdentity, document: Document) -> bytes:
    """The document as its sender signs it (enveloped XMLDSig, the certificate in KeyInfo)."""
    return sender.sign_document(document.to_xml())


@dataclass
class _Documents:
    """The run's documents, signed ahead of the phases that send them, each sent once as new."""

    senders: list[SenderIdentity]
    recipients: list[Recipient]
    rng: random.Random
    ready: deque[SignedDocument] = field(default_factory=deque)
    signed: int = 0
    signing_s: float = 0.0
    bytes_signed: int = 0
    ran_out: bool = False

    def sign(self, count: int) -> None:
        """Build and sign ``count`` more: the senders in turn, each recipient in turn."""
        began = time.perf_counter()
        for _ in range(count):
            sender = self.senders[self.signed % len(self.senders)]
            recipient = self.recipients[(self.signed // len(self.senders)) % len(self.recipients)]
            document = _document(
                sender, recipient.ids[sender.code], recipient.name, self.signed + 1, self.rng
            )
            xml = _sign(sender, document)
            self.ready.append(
                SignedDocument(
                    sender, recipient.ids[sender.code], document.document_id, document.kind, xml
                )
            )
            self.signed += 1
            self.bytes_signed += len(xml)
        self.signing_s += time.perf_counter() - began

    def at_least(self, count: int) -> None:
        """Sign what ``count`` more deliveries need; note whether the supply had run out."""
        self.ran_out = self.ran_out or not self.ready
        self.sign(max(0, count - len(self.ready)))

    def exhausted(self) -> bool:
        """Whether every signed document was taken."""
        return not self.ready

    def take(self) -> SignedDocument:
        """The next document to send."""
        return self.ready.popleft()


def _answer(response: httpx.Response, status: int) -> dict[str, Any]:
    """The receipt, when the answer has the expected status; else the refusal as an error."""
    if response.status_code != status:
        try:
            reason = response.json().get("error", "")
        except ValueError:
            reason = response.text[:80]
        msg = f"{response.status_code} {reason}"
        raise DeliveryRefusedError(msg)
    receipt: dict[str, Any] = response.json()
    return receipt


async def _post(client: httpx.AsyncClient, url: str, document: SignedDocument) -> httpx.Response:
    token = document.sender.delivery(document.recipient, document.xml)
    return await client.post(f"{url}{DOCUMENTS}", content=token, headers=JOSE)


@dataclass
class _Deliveries:
    """The delivery operation for the load loops: the next new document, accepted (201)."""

    url: str
    documents: _Documents
    accepted: list[SignedDocument] = field(default_factory=list)

    async def send(self, client: httpx.AsyncClient, document: SignedDocument) -> None:
        """Deliver one new document; refused unless it is accepted as new under its id."""
        receipt = _answer(await _post(client, self.url, document), 201)
        if receipt.get("duplicate") or receipt.get("document_id") != document.document_id:
            msg = f"{document.document_id} answered as {receipt}"
            raise DeliveryRefusedError(msg)
        self.accepted.append(document)

    async def __call__(self, client: httpx.AsyncClient) -> None:
        await self.send(client, self.documents.take())

    async def warm_up(self) -> LoadStats:
        """:data:`WARM_UP` deliveries one after another (or fewer, if fewer were signed)."""
        count = min(WARM_UP, len(self.documents.ready))
        return await harness.in_turn(self.send, [self.documents.take() for _ in range(count)])


@dataclass
class _Resends:
    """A document already accepted, sent again: the first receipt, marked ``duplicate`` (200)."""

    url: str
    accepted: list[SignedDocument]
    rng: random.Random

    async def __call__(self, client: httpx.AsyncClient) -> None:
        document = self.rng.choice(self.accepted)
        receipt = _answer(await _post(client, self.url, document), 200)
        if not receipt.get("duplicate") or receipt.get("document_id") != document.document_id:
            msg = f"{document.document_id} resent, answered as {receipt}"
            raise DeliveryRefusedError(msg)


def _resend_phase(
    server: harness.Server, accepted: list[SignedDocument], load: harness.Load
) -> tuple[LoadStats, float]:
    """Resends back to back; the server CPU they used."""
    if not accepted:
        return LoadStats(), 0.0
    concurrency, duration, console, _ = load
    console.print(f"Resends of accepted documents, {concurrency} clients, {duration:.0f} s…")
    resend = _Resends(server.url, accepted, random.Random(people.SEED))  # noqa: S311
    before = server.cpu_seconds()
    stats = asyncio.run(harness.closed_loop(resend, concurrency=concurrency, duration=duration))
    return stats, server.cpu_seconds() - before


def run(
    *,
    plan: harness.Plan,
    recipients: int,
    documents: int,
    resends: bool,
    console: Console,
) -> Result:
    """Run the 民間送達 scenario and return its result."""
    # Seeding and the CA log at INFO: the console is for the figures.
    configure_logging(level="WARNING", json=False)
    rng = random.Random(people.SEED)  # noqa: S311 - choosing benchmark residents, not secrets
    load = plan.load(console)
    with harness.workspace("myna-bench-delivery-", plan.database_url) as space:
        population = people.seed_population(
            space.container, console, residents=plan.residents, reuse=plan.reuse, agency_data=False
        )
        console.print(f"Registering {len(SENDERS)} senders, linking {recipients} residents…")
        senders = _register_senders(space.container)
        linked = _link(space.container, senders, recipients=recipients, rng=rng)
        supply = _Documents(senders, linked, random.Random(people.SEED))  # noqa: S311
        console.print(f"Signing {documents:,} documents (XMLDSig: the senders' work)…")
        supply.sign(documents)
        space.container.engine.dispose()
        env = space.server_env(MYNA_DELIVERY_RATE_LIMIT=harness.UNLIMITED)
        with harness.portal_server(env, workers=plan.workers) as server:
            deliveries = _Deliveries(server.url, supply)
            measured = harness.measure(
                server,
                deliveries,
                "Deliveries",
                load,
                warm_up=f"{min(WARM_UP, documents)} deliveries one after another",
                exhausted=supply.exhausted,
                before_half=supply.at_least,
            )
            resent = (
                _resend_phase(server, deliveries.accepted, load) if resends else (LoadStats(), 0.0)
            )
    result = _result(
        plan, population, space.database_url, measured, supply, len(deliveries.accepted), resent
    )
    phases = measured.phases("document")
    if resends:
        phases["resend (same document)"] = resent[0]
    harness.print_phases(console, "myna bench delivery", phases)
    _print_summary(console, result)
    return result


def _result(
    plan: harness.Plan,
    population: people.Population,
    database_url: str,
    measured: harness.Measured,
    supply: _Documents,
    accepted: int,
    resends: tuple[LoadStats, float],
) -> Result:
    resent, resend_cpu = resends
    sending = (measured.cold, measured.full, measured.half)
    every = (*sending, measured.baseline, resent)
    return measured.result(
        "delivery",
        "document",
        plan=plan,
        population=population,
        database_url=database_url,
        details={
            "senders": len(supply.senders),
            "recipients_linked": len(supply.recipients),
            "documents_signed": supply.signed,
            "document_bytes_mean": round(supply.bytes_signed / max(1, supply.signed)),
            "client_signing_ms_per_document": round(
                supply.signing_s * 1000 / max(1, supply.signed), 2
            ),
            "documents_sent": sum(stats.done + stats.errors for stats in sending),
            "accepted_documents": accepted,
            "refused_documents": sum(stats.errors for stats in sending),
            "documents_ran_out": supply.ran_out,
            "rate_per_worker_per_s": round(measured.full.rate / plan.workers, 1),
            "goal_per_worker_per_s": GOAL_PER_WORKER,
            "resend_rate_per_s": round(resent.rate, 1),
            "resend_p50_ms": round(resent.percentile(50), 1),
            "resend_p95_ms": round(resent.percentile(95), 1),
            "resend_p99_ms": round(resent.percentile(99), 1),
            "resend_errors": resent.errors,
            "server_cpu_ms_per_resend": round(resend_cpu * 1000 / max(1, resent.done), 2),
            "errors": sum(stats.errors for stats in every),
            "error_samples": sorted({sample for stats in every for sample in stats.error_samples}),
        },
    )


def _print_summary(console: Console, result: Result) -> None:
    details = result.details
    console.print(
        f"{details['accepted_documents']} documents accepted, "
        f"{details['refused_documents']} refused ({details['document_bytes_mean']} bytes each "
        f"on average, signed by the client in {details['client_signing_ms_per_document']} ms); "
        f"{details['rate_per_worker_per_s']} documents/s per worker "
        f"(goal ≥ {GOAL_PER_WORKER:.0f}); p50 / p95 / p99 at half load = {result.p50_ms} / "
        f"{details['p95_ms']} / {result.p99_ms} ms; server CPU "
        f"{details['server_cpu_ms_per_document']} ms per accepted document, "
        f"{details['server_cpu_ms_per_resend']} ms per resend, "
        f"{details['server_cpu_ms_per_trivial_request']} ms per trivial request"
    )
    if details["documents_ran_out"]:
        console.print(
            "[yellow]The signed documents ran out during the full-load phase: "
            "give more --documents for a full phase.[/yellow]"
        )
