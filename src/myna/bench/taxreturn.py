"""`myna bench return`: 確定申告 (the income tax return) gathered from ten documents.

One return is what a logged-in resident's browser does to see their 令和7年分 return
computed from what was delivered to them (docs/delivery.md), over HTTP:

1. ``POST /tax/2025/start`` — the CSRF check, the date of birth asked through the hub
   (本人確認情報 from J-LIS: a signed exchange, logged in the やりとり履歴), the return
   row; answered 303 to the gathering page;
2. ``POST /tax/2025/gather`` agreeing item by item to the ten documents in the 民間送達
   box (``salary``, ``donations`` and one ``certificate:<delivery id>`` per 控除証明書)
   and, unless ``--no-medical``, to the 医療費通知: the box read and each document parsed
   again against its XSD and rules, a field written per figure with its source, and the
   insurers asked for the year's 医療費通知 through the hub (logged); answered 303;
3. ``GET /tax/2025?done=gathered`` — every field with its source and the computation
   under the year's rules, rendered.

The client checks the page: each of the resident's ten document ids is the source of a
field, the computation is shown with the form to sign (a draft that computes), and
nothing is in an alert. Anything else — a refusal, a redirect elsewhere, a document
missing from the return — counts as an error, not as a return.

Signing and filing are not part of a return: the resident may come back to them, and
they are timed as a phase of their own (5 below), once per return computed in 3–4:
``POST /tax/2025/sign`` (the return frozen: the 本人確認情報 asked again through the hub,
the e-Tax-shaped XML written and checked against its XSD, the signing request opened),
``GET /api/signing-requests/{id}``, the card's detached CMS signature (on the client),
``POST .../response`` (the signature, the certificate's chain and revocation checked,
the return filed with the National Tax Agency through the hub, the 受信通知 sent) and
``GET /tax/2025/return.pdf`` (the copy rendered with ReportLab, the font embedded).

Phases, against a population of ``residents`` people with their agencies' data:

1. setup (not timed): the registry and agency data seeded the ``myna seed`` way; five
   senders registered with keys certified by the government CA (an employer, a life
   insurer, a non-life insurer, a pension fund, a ふるさと納税 portal); ``returns`` +
   :data:`WARM_UP` random adults linking all five, each given a card; the portal started
   in a subprocess; each resident logged in by card over HTTP and sent ten signed
   documents for 2025 through the sender API (``POST /api/delivery/v1/documents``): one
   給与所得の源泉徴収票, three 生命保険料控除証明書, two 地震保険料控除証明書, one
   国民年金保険料控除証明書 and three 寄附金受領証明書; then :data:`WARM_UP` returns one
   after another (the server process's first ones are cold);
2. baseline: the trivial endpoint (``GET /healthz``) back to back;
3. returns back to back at ``concurrency`` clients, each by a resident not used before
   (a started return is found again, not started anew); the phase ends early when only
   the third of the residents kept for phase 4 is left;
4. returns paced at half the rate phase 3 reached (open loop), shortened when fewer
   residents are left than the phase would start (the result says so: give more
   ``--returns``);
5. filing: each return computed in 3–4 signed, filed and its PDF copy fetched, back to
   back at ``concurrency`` clients;
6. rendering, in this process once the server has stopped: the return's XML
   (:func:`myna.tax.etax.return_xml`, with its XSD check) and the PDF copy of a filed
   return (:func:`myna.tax.filing.copy_pdf`), :data:`RENDERED` returns one at a time.

Server CPU is read from ``/proc`` around phases 3–4 and around phase 5; per return (per
filing) it is the figure that holds while the load generator shares the cores.
"""

from __future__ import annotations

import asyncio
import base64
import random
import re
import secrets
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from rich.console import Console

from myna import card, registry, runtime
from myna.bench import harness, people
from myna.bench.harness import LoadStats, Result
from myna.bootstrap import Container
from myna.delivery import (
    ContributionKind,
    Document,
    Donation,
    DonationReceipt,
    EarthquakeInsuranceCertificate,
    InsuredObject,
    LifeInsuranceCategory,
    LifeInsuranceCertificate,
    LifeInsuranceSystem,
    NationalPensionCertificate,
    SalaryWithholdingSlip,
    service,
)
from myna.delivery.identity import SenderIdentity
from myna.platform.db import unit_of_work
from myna.platform.encoding import b64url
from myna.platform.logging import configure_logging
from myna.tax import etax, filing
from myna.tax import service as tax

YEAR = 2025  # 令和7年分
DOCUMENTS_PER_RETURN = 10
WARM_UP = 5
"""Returns before the phases, one after another: the server process's first ones are cold."""
RENDERED = 20
"""Filed returns whose XML and PDF copy are rendered in process (phase 6)."""
GOAL_P99_MS = 300.0
"""The p99 of a return at half load that the service is meant to stay within."""
DOCUMENTS = "/api/delivery/v1/documents"
JOSE = {"content-type": "application/jose"}
ADULT_BORN_BY = date(YEAR - 20, 12, 31)
# Sessions outlive the setup of a large run (the default idle limit is 30 minutes).
SESSION_IDLE_MINUTES = "600"
# (code prefix, name, kind): one sender of each kind a return gathers from.
SENDERS: tuple[tuple[str, str, str], ...] = (
    ("bench-kyuyo", "ベンチ電機株式会社", "employer"),
    ("bench-seimei", "ベンチ生命保険株式会社", "life-insurer"),
    ("bench-sonpo", "ベンチ損害保険株式会社", "non-life-insurer"),
    ("bench-nenkin", "ベンチ国民年金基金", "pension-fund"),
    ("bench-furusato", "ベンチふるさと寄附ポータル", "municipality"),
)
# ふるさと納税: the municipalities the three receipts are from.
DONEES: tuple[tuple[str, str], ...] = (
    ("011002", "北海道札幌市"),
    ("271004", "大阪府大阪市"),
    ("472018", "沖縄県那覇市"),
)
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_KEY = re.compile(r'name="submission_key" value="([^"]+)"')
_FIELD = 'class="tax-field"'
_ALERT = 'role="alert"'


class ReturnFailedError(Exception):
    """A step of a return or a filing answered other than expected (counted as an error)."""


@dataclass(frozen=True, slots=True)
class Holder:
    """A resident chosen for one return: linked to every sender, with a card."""

    resident: registry.ResidentRead
    recipients: dict[str, str]  # sender code → the resident's pairwise id there
    card_id: str


@dataclass(frozen=True, slots=True)
class Delivered:
    """A document in the resident's box: the sender's document id, Myna's delivery id."""

    document_id: str
    delivery_id: str
    kind: str  # the e-Tax form code


@dataclass(frozen=True, slots=True)
class Filer:
    """A logged-in resident with ten documents delivered, their card's signing key open."""

    resident_id: int
    cookie: str
    csrf_token: str
    documents: tuple[Delivered, ...]
    signing: card.CardSession


@dataclass(frozen=True, slots=True)
class Computed:
    """A return computed in a timed phase, and the submission key its page offered."""

    filer: Filer
    submission_key: str


def agreed_sources(filer: Filer, *, medical: bool) -> list[str]:
    """The gathering form's ``source`` values: every delivered document, item by item.

    The 源泉徴収票 and the 寄附金受領証明書 are agreed to by their kind (``salary``,
    ``donations``); each 控除証明書 by its delivery id; ``medical`` adds the 医療費通知.
    """
    keys: list[str] = []
    for document in filer.documents:
        if document.kind == "TEG104":
            key = "salary"
        elif document.kind == "TEG820":
            key = "donations"
        else:
            key = f"certificate:{document.delivery_id}"
        if key not in keys:
            keys.append(key)
    return [*keys, "medical"] if medical else keys


# -- setup ----------------------------------------------------------------------------------


def _register_senders(container: Container) -> dict[str, SenderIdentity]:
    """The five senders by kind, under codes of their own (a reused database keeps others)."""
    suffix = secrets.token_hex(3)
    settings = container.settings
    with unit_of_work(container.session_factory) as session:
        return {
            kind: runtime.register_sender(
                session, settings, f"{code}-{suffix}", name, kind, settings.sender_dir
            )
            for code, name, kind in SENDERS
        }


def _adult(resident: registry.ResidentRead) -> bool:
    return resident.birth_date <= ADULT_BORN_BY


def _fresh_adults(
    container: Container, *, count: int, rng: random.Random
) -> list[registry.ResidentRead]:
    """Up to ``count`` random adults without a return for the year, a few draws at most."""
    chosen: list[registry.ResidentRead] = []
    seen: set[int] = set()
    for _ in range(10):
        wanted = count - len(chosen)
        if not wanted:
            break
        drawn = people.sample_residents(
            container, count=wanted, rng=rng, eligible=lambda r: _adult(r) and r.id not in seen
        )
        if not drawn:
            break
        with unit_of_work(container.session_factory) as session:
            for resident in drawn:
                seen.add(resident.id)
                started = tax.tax_returns(session=session, resident_id=resident.id)
                if all(r.year != YEAR for r in started):
                    chosen.append(resident)
    return chosen


def _holders(
    container: Container,
    senders: Sequence[SenderIdentity],
    *,
    count: int,
    rng: random.Random,
) -> list[Holder]:
    """Random adults link every sender to their box (送達元との連携) and get a card.

    A resident with a return for the year already (a reused database) is passed over: a
    second start finds that return, which a gathering may no longer change.
    """
    residents = _fresh_adults(container, count=count, rng=rng)
    holders: list[Holder] = []
    for resident in residents:
        with unit_of_work(container.session_factory) as session:
            recipients: dict[str, str] = {}
            for sender in senders:
                link = service.link(
                    session=session, resident_id=resident.id, sender_code=sender.code
                )
                if link.recipient_id is None:  # pragma: no cover - a link has its id
                    msg = f"the link to {sender.code} has no recipient id"
                    raise RuntimeError(msg)
                recipients[sender.code] = link.recipient_id
            issued = runtime.issue_demo_card(session, container.settings, resident.id)
        holders.append(Holder(resident, recipients, issued.card_id))
    return holders


def _documents(
    senders: dict[str, SenderIdentity], holder: Holder, number: int, rng: random.Random
) -> list[tuple[SenderIdentity, Document]]:
    """The resident's ten documents for the year, each from its sender, amounts from ``rng``."""
    name = holder.resident.full_name

    def header(kind: str, serial: int, issued_on: date) -> dict[str, Any]:
        sender = senders[kind]
        return {
            "document_id": f"BR-{number:07d}-{serial:02d}",
            "issued_on": issued_on,
            "sender_code": sender.organization_code,
            "sender_name": sender.name,
            "recipient": holder.recipients[sender.code],
            "year": YEAR,
        }

    paid = rng.randrange(3_000_000, 9_000_000, 1_000)
    found: list[tuple[str, Document]] = [
        (
            "employer",
            SalaryWithholdingSlip(
                **header("employer", 1, date(YEAR + 1, 1, 20)),
                payer_name=senders["employer"].name,
                payer_address="東京都千代田区丸の内1-2-3",
                payee=name,
                payment_amount=paid,
                income_after_employment_deduction=paid * 7 // 10,
                total_deductions=paid * 28 // 100,
                withholding_tax=paid * 25 // 1000,
                social_insurance=paid * 15 // 100,
            ),
        )
    ]
    for serial, category in enumerate(
        (
            LifeInsuranceCategory.GENERAL,
            LifeInsuranceCategory.MEDICAL_CARE,
            LifeInsuranceCategory.PENSION,
        ),
        start=2,
    ):
        declared = rng.randrange(30_000, 150_000, 10)
        found.append(
            (
                "life-insurer",
                LifeInsuranceCertificate(
                    **header("life-insurer", serial, date(YEAR, 10, 15)),
                    insurer_name=senders["life-insurer"].name,
                    contractor=name,
                    policy_number=f"BS-{number:07d}-{serial}",
                    insured=name,
                    system=LifeInsuranceSystem.NEW,
                    category=category,
                    certified_amount=declared * 3 // 4,
                    certified_as_of=date(YEAR, 9, 30),
                    declared_amount=declared,
                ),
            )
        )
    for serial, old_long_term in ((5, 0), (6, rng.randrange(3_000, 15_000, 10))):
        found.append(
            (
                "non-life-insurer",
                EarthquakeInsuranceCertificate(
                    **header("non-life-insurer", serial, date(YEAR, 10, 20)),
                    insurer_name=senders["non-life-insurer"].name,
                    contractor=name,
                    policy_number=f"BE-{number:07d}-{serial}",
                    insured=name,
                    insured_object=InsuredObject.BUILDING_AND_HOUSEHOLD_GOODS,
                    certified_as_of=date(YEAR, 10, 1),
                    earthquake_premium=rng.randrange(10_000, 50_000, 10),
                    old_long_term_premium=old_long_term,
                ),
            )
        )
    found.append(
        (
            "pension-fund",
            NationalPensionCertificate(
                **header("pension-fund", 7, date(YEAR, 11, 1)),
                contribution_kind=ContributionKind.NATIONAL_PENSION_FUND,
                insured=name,
                period_from=date(YEAR, 1, 1),
                period_to=date(YEAR, 12, 1),
                paid_amount=rng.randrange(60_000, 200_000, 100),
                expected_amount=rng.randrange(0, 40_000, 100),
            ),
        )
    )
    for serial, (code, donee) in enumerate(DONEES, start=8):
        found.append(
            (
                "municipality",
                DonationReceipt(
                    **header("municipality", serial, date(YEAR + 1, 1, 10)),
                    municipality_code=code,
                    municipality_name=donee,
                    donor=name,
                    donations=(
                        Donation(
                            date(YEAR, rng.randint(1, 12), rng.randint(1, 28)),
                            rng.randrange(10_000, 60_000, 1_000),
                        ),
                    ),
                ),
            )
        )
    return [(senders[kind], document) for kind, document in found]


@dataclass
class _Setup:
    """Logs the chosen residents in and delivers their documents, over HTTP."""

    url: str
    reader: card.VirtualCardReader
    senders: dict[str, SenderIdentity]
    rng: random.Random
    delivered: int = 0
    signing_s: float = 0.0

    async def _deliver(
        self, client: httpx.AsyncClient, sender: SenderIdentity, document: Document
    ) -> Delivered:
        began = time.perf_counter()
        signed = sender.sign_document(document.to_xml())
        self.signing_s += time.perf_counter() - began
        response = await client.post(
            f"{self.url}{DOCUMENTS}",
            content=sender.delivery(document.recipient, signed),
            headers=JOSE,
        )
        if response.status_code != 201:
            msg = f"{document.document_id} refused: {response.status_code} {response.text[:120]}"
            raise RuntimeError(msg)
        receipt = response.json()
        self.delivered += 1
        return Delivered(document.document_id, str(receipt["delivery_id"]), str(receipt["kind"]))

    async def prepare(self, client: httpx.AsyncClient, holder: Holder, number: int) -> Filer:
        """Log ``holder`` in, read the CSRF token of the tax page, deliver their documents."""
        auth = self.reader.open_session(holder.card_id, "auth", runtime.DEMO_PIN)
        cookie = await people.log_in(client, self.url, auth)
        page = await client.get(f"{self.url}/tax", headers=people.session_header(cookie))
        page.raise_for_status()
        token = _CSRF.search(page.text)
        if token is None:
            msg = "no CSRF token on the tax page"
            raise RuntimeError(msg)
        documents = [
            await self._deliver(client, sender, document)
            for sender, document in _documents(self.senders, holder, number, self.rng)
        ]
        signing = self.reader.open_session(holder.card_id, "sign", runtime.DEMO_PASSWORD)
        return Filer(holder.resident.id, cookie, token.group(1), tuple(documents), signing)

    async def all(self, holders: list[Holder], *, concurrency: int) -> list[Filer]:
        """Every holder prepared, ``concurrency`` at a time, in their order."""
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(len(holders)):
            queue.put_nowait(index)
        filers: dict[int, Filer] = {}

        async def worker() -> None:
            # A client of its own: a card login works on the client's cookie jar.
            async with httpx.AsyncClient(timeout=60.0) as client:
                while not queue.empty():
                    index = queue.get_nowait()
                    filers[index] = await self.prepare(client, holders[index], index + 1)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return [filers[index] for index in range(len(holders))]


# -- the timed operations -------------------------------------------------------------------


def _expect_redirect(response: httpx.Response, location: str, step: str) -> None:
    found = response.headers.get("location", "")
    if response.status_code != 303 or found != location:
        msg = f"{step} answered {response.status_code} → {found or response.text[:80]}"
        raise ReturnFailedError(msg)


def _checked_page(response: httpx.Response, filer: Filer) -> tuple[str, int]:
    """The submission key of a computed return's page and its field count, or an error."""
    if response.status_code != 200:
        msg = f"the return page answered {response.status_code}"
        raise ReturnFailedError(msg)
    page = response.text
    missing = [d.document_id for d in filer.documents if f" {d.document_id}" not in page]
    if missing:
        msg = f"{len(missing)} of the documents missing from the return"
        raise ReturnFailedError(msg)
    key = _KEY.search(page)
    if key is None or _ALERT in page:
        msg = "the return does not compute"
        raise ReturnFailedError(msg)
    return key.group(1), page.count(_FIELD)


@dataclass
class _Returns:
    """The return operation for the load loops: the next resident's return, computed."""

    url: str
    waiting: deque[Filer]
    medical: bool
    reserve: int = 0
    computed: list[Computed] = field(default_factory=list)
    fields: int = 0

    async def file_return(self, client: httpx.AsyncClient, filer: Filer) -> None:
        """Start, gather every document (and the 医療費通知), read the computed return."""
        headers = people.session_header(filer.cookie)
        base = f"{self.url}/tax/{YEAR}"
        started = await client.post(
            f"{base}/start", data={"csrf_token": filer.csrf_token}, headers=headers
        )
        _expect_redirect(started, f"/tax/{YEAR}/gather", "start")
        gathered = await client.post(
            f"{base}/gather",
            data={
                "csrf_token": filer.csrf_token,
                "source": agreed_sources(filer, medical=self.medical),
            },
            headers=headers,
        )
        _expect_redirect(gathered, f"/tax/{YEAR}?done=gathered", "gather")
        page = await client.get(f"{self.url}/tax/{YEAR}?done=gathered", headers=headers)
        key, fields = _checked_page(page, filer)
        self.computed.append(Computed(filer, key))
        self.fields += fields

    async def __call__(self, client: httpx.AsyncClient) -> None:
        if not self.waiting:
            msg = "no resident left for a fresh return"
            raise ReturnFailedError(msg)
        await self.file_return(client, self.waiting.popleft())

    def exhausted(self) -> bool:
        """Whether only the residents kept for the paced phase are left."""
        return len(self.waiting) <= self.reserve

    async def warm_up(self) -> LoadStats:
        """:data:`WARM_UP` returns one after another."""
        first = [self.waiting.popleft() for _ in range(min(WARM_UP, len(self.waiting)))]
        return await harness.in_turn(self.file_return, first)


@dataclass
class _Filings:
    """The filing operation: a computed return signed by the card, filed, its copy fetched."""

    url: str
    pending: deque[Computed]
    filed: list[int] = field(default_factory=list)  # resident ids
    answer: LoadStats = field(default_factory=LoadStats)
    copy: LoadStats = field(default_factory=LoadStats)
    pdf_bytes: int = 0

    async def file(self, client: httpx.AsyncClient, computed: Computed) -> None:
        """Sign, answer with the card's CMS signature (filed through the hub), fetch the PDF."""
        filer = computed.filer
        headers = people.session_header(filer.cookie)
        base = f"{self.url}/tax/{YEAR}"
        pressed = await client.post(
            f"{base}/sign",
            data={"csrf_token": filer.csrf_token, "submission_key": computed.submission_key},
            headers=headers,
        )
        location = pressed.headers.get("location", "")
        if pressed.status_code != 303 or not location.startswith(f"/tax/{YEAR}/sign/"):
            msg = f"sign answered {pressed.status_code} → {location or pressed.text[:80]}"
            raise ReturnFailedError(msg)
        api = f"{self.url}/api/signing-requests/{location.rsplit('/', 1)[1]}"
        fetched = await client.get(api)
        fetched.raise_for_status()
        text = str(fetched.json()["to_be_signed"])
        content = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        signature = await asyncio.to_thread(filer.signing.sign_cms, content)
        began = time.perf_counter()
        answered = await client.post(f"{api}/response", json={"signature": b64url(signature)})
        if answered.status_code != 200 or answered.json().get("status") != "received":
            msg = f"the signature answered {answered.status_code}: {answered.text[:80]}"
            raise ReturnFailedError(msg)
        self.answer.latencies.append(time.perf_counter() - began)
        self.answer.done += 1
        began = time.perf_counter()
        pdf = await client.get(f"{base}/return.pdf", headers=headers)
        if pdf.status_code != 200 or not pdf.content.startswith(b"%PDF-"):
            msg = f"the PDF copy answered {pdf.status_code}"
            raise ReturnFailedError(msg)
        self.copy.latencies.append(time.perf_counter() - began)
        self.copy.done += 1
        self.pdf_bytes += len(pdf.content)
        self.filed.append(filer.resident_id)

    async def __call__(self, client: httpx.AsyncClient) -> None:
        await self.file(client, self.pending.popleft())

    def exhausted(self) -> bool:
        """Whether every computed return was taken."""
        return not self.pending


# -- the phases -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LoadPhases:
    """Phases 1–4 as the harness reports them, and whether the residents ran short."""

    measured: harness.Measured
    half_s: float
    ran_out: bool


def _load_phases(server: harness.Server, returns: _Returns, load: harness.Load) -> _LoadPhases:
    """Warm-up, trivial endpoint, returns back to back, then paced at half that rate.

    As :func:`myna.bench.harness.measure`, but each return takes a resident of its own:
    the first load phase stops where a third of the residents is left, and the paced one
    is shortened to the residents left rather than failing for the want of one.
    """
    concurrency, duration, console, _ = load
    console.print(f"Warm-up: {WARM_UP} returns one after another…")
    cold = asyncio.run(returns.warm_up())
    before = server.cpu_seconds()
    baseline = harness.baseline_phase(server.url, load)
    trivial_cpu = server.cpu_seconds() - before
    returns.reserve = len(returns.waiting) // 3
    before = server.cpu_seconds()
    console.print(f"Returns, {concurrency} clients, {duration:.0f} s…")
    full = asyncio.run(
        harness.closed_loop(
            returns, concurrency=concurrency, duration=duration, exhausted=returns.exhausted
        )
    )
    rate = max(0.5, full.rate / 2)
    half_s = min(duration, len(returns.waiting) / rate)
    ran_out = full.elapsed < duration * 0.99 or half_s < duration
    console.print(f"Returns paced at half load ({rate:.1f}/s), {half_s:.0f} s…")
    half = (
        asyncio.run(
            harness.paced_loop(returns, rate=rate, duration=half_s, concurrency=concurrency * 4)
        )
        if half_s * rate >= 1
        else LoadStats()
    )
    busy_cpu = server.cpu_seconds() - before
    measured = harness.Measured(cold, baseline, full, half, trivial_cpu, busy_cpu)
    return _LoadPhases(measured, half_s, ran_out)


def _filing_phase(
    server: harness.Server, filings: _Filings, load: harness.Load
) -> tuple[LoadStats, float]:
    """Filings back to back until the computed returns or the time run out; their CPU."""
    concurrency, duration, console, _ = load
    console.print(
        f"Filing {len(filings.pending)} returns, {concurrency} clients, ≤ {duration:.0f} s…"
    )
    before = server.cpu_seconds()
    stats = asyncio.run(
        harness.closed_loop(
            filings, concurrency=concurrency, duration=duration, exhausted=filings.exhausted
        )
    )
    return stats, server.cpu_seconds() - before


@dataclass
class Rendering:
    """Phase 6: the XML and the PDF copy of filed returns, rendered in this process."""

    xml_s: list[float] = field(default_factory=list)
    pdf_s: list[float] = field(default_factory=list)
    xml_bytes: int = 0
    pdf_bytes: int = 0

    def median_ms(self, times: list[float]) -> float:
        """The median of ``times`` in milliseconds."""
        ordered = sorted(times)
        return ordered[len(ordered) // 2] * 1000 if ordered else 0.0

    def render(self, container: Container, resident_id: int, *, timed: bool) -> None:
        """Render one filed return's XML (from its fields as they stand) and its PDF copy."""
        with unit_of_work(container.session_factory) as session:
            computation = tax.compute_return(session=session, resident_id=resident_id, year=YEAR)
            filled = tax.fields(session=session, resident_id=resident_id, year=YEAR)
            resident = registry.get_resident(session=session, resident_id=resident_id)
            sources = [
                etax.FieldSource(
                    field=f"{f.section}.{f.item}",
                    value=f.value,
                    kind=f.source.kind,
                    name=f.source.name,
                    document=f.source.document_id,
                    received=f.source.on,
                    corrected=f.corrected,
                )
                for f in filled
            ]
            taxpayer = etax.Taxpayer(
                name=resident.full_name,
                name_kana=f"{resident.family_name_kana} {resident.given_name_kana}",
                address=resident.full_address,
                birth_date=resident.birth_date,
            )
            began = time.perf_counter()
            xml = etax.return_xml(
                computation=computation,
                nenbun=tax.nenbun(YEAR),
                office=filing.office_for(resident.full_address),
                taxpayer=taxpayer,
                sources=sources,
            )
            xml_s = time.perf_counter() - began
            began = time.perf_counter()
            pdf = filing.copy_pdf(
                session=session,
                resident_id=resident_id,
                year=YEAR,
                font_path=container.settings.pdf_font,
            )
            pdf_s = time.perf_counter() - began
        if timed:
            self.xml_s.append(xml_s)
            self.pdf_s.append(pdf_s)
            self.xml_bytes += len(xml)
            self.pdf_bytes += len(pdf)


def _render(container: Container, filed: list[int], console: Console) -> Rendering:
    """The first filed return rendered untimed (schema and font loaded), then RENDERED more."""
    rendering = Rendering()
    if not filed:
        return rendering
    console.print(f"Rendering the XML and PDF copy of {min(RENDERED, len(filed))} returns…")
    rendering.render(container, filed[0], timed=False)
    for resident_id in filed[:RENDERED]:
        rendering.render(container, resident_id, timed=True)
    return rendering


# -- the run --------------------------------------------------------------------------------


def run(*, plan: harness.Plan, returns: int, medical: bool, console: Console) -> Result:
    """Run the 確定申告 scenario and return its result."""
    # Seeding, card issuance and the CA log at INFO: the console is for the figures.
    configure_logging(level="WARNING", json=False)
    rng = random.Random(people.SEED)  # noqa: S311 - choosing benchmark residents, not secrets
    load = plan.load(console)
    with harness.workspace("myna-bench-return-", plan.database_url) as space:
        population = people.seed_population(
            space.container, console, residents=plan.residents, reuse=plan.reuse, agency_data=True
        )
        wanted = returns + WARM_UP
        console.print(
            f"Registering {len(SENDERS)} senders; {wanted} adults link them and get a card…"
        )
        began = time.perf_counter()
        senders = _register_senders(space.container)
        holders = _holders(space.container, list(senders.values()), count=wanted, rng=rng)
        cards_s = time.perf_counter() - began
        space.container.engine.dispose()
        env = space.server_env(
            MYNA_LOGIN_RATE_LIMIT=harness.UNLIMITED,
            MYNA_DELIVERY_RATE_LIMIT=harness.UNLIMITED,
            MYNA_SESSION_IDLE_MINUTES=SESSION_IDLE_MINUTES,
        )
        with harness.portal_server(env, workers=plan.workers) as server:
            console.print(
                f"Logging {len(holders)} residents in, delivering "
                f"{DOCUMENTS_PER_RETURN} documents to each…"
            )
            began = time.perf_counter()
            setup = _Setup(
                server.url,
                people.card_reader(space.settings),
                senders,
                random.Random(people.SEED),  # noqa: S311
            )
            filers = asyncio.run(setup.all(holders, concurrency=plan.concurrency))
            setup_s = time.perf_counter() - began
            operation = _Returns(server.url, deque(filers), medical=medical)
            phases = _load_phases(server, operation, load)
            filings = _Filings(server.url, deque(operation.computed))
            filed, filing_cpu = _filing_phase(server, filings, load)
        rendering = _render(space.container, filings.filed, console)
    measured = phases.measured
    result = measured.result(
        "return",
        "return",
        plan=plan,
        population=population,
        database_url=space.database_url,
        details={
            "returns_prepared": len(filers),
            "documents_per_return": DOCUMENTS_PER_RETURN,
            "documents_delivered": setup.delivered,
            "links_and_cards_setup_s": round(cards_s, 1),
            "delivery_and_login_setup_s": round(setup_s, 1),
            "client_document_signing_ms": round(
                setup.signing_s * 1000 / max(1, setup.delivered), 2
            ),
            "medical_notices_gathered": medical,
            "returns_computed": len(operation.computed),
            "fields_per_return": round(operation.fields / max(1, len(operation.computed)), 2),
            "residents_ran_out": phases.ran_out,
            "half_load_s": round(phases.half_s, 1),
            "goal_p99_ms": GOAL_P99_MS,
            **_filing_details(filed, filing_cpu, filings),
            **_render_details(rendering),
        },
    )
    table = measured.phases("return")
    table["filing (sign, file, PDF)"] = filed
    harness.print_phases(console, "myna bench return", table)
    _print_summary(console, result)
    return result


def _filing_details(stats: LoadStats, cpu_s: float, filings: _Filings) -> dict[str, object]:
    return {
        "filings_done": stats.done,
        "filing_rate_per_s": round(stats.rate, 1),
        "filing_p50_ms": round(stats.percentile(50), 1),
        "filing_p95_ms": round(stats.percentile(95), 1),
        "filing_p99_ms": round(stats.percentile(99), 1),
        "filing_errors": stats.errors,
        "filing_error_samples": stats.error_samples,
        "server_cpu_ms_per_filing": round(cpu_s * 1000 / max(1, stats.done), 2),
        "signature_and_filing_p50_ms": round(filings.answer.percentile(50), 1),
        "pdf_copy_over_http_p50_ms": round(filings.copy.percentile(50), 1),
        "pdf_copy_over_http_p99_ms": round(filings.copy.percentile(99), 1),
        "pdf_bytes_mean": round(filings.pdf_bytes / max(1, filings.copy.done)),
    }


def _render_details(rendering: Rendering) -> dict[str, object]:
    count = max(1, len(rendering.xml_s))
    return {
        "rendered_returns": len(rendering.xml_s),
        "xml_render_ms_p50": round(rendering.median_ms(rendering.xml_s), 2),
        "pdf_render_ms_p50": round(rendering.median_ms(rendering.pdf_s), 2),
        "xml_bytes_mean": round(rendering.xml_bytes / count),
        "pdf_render_bytes_mean": round(rendering.pdf_bytes / count),
    }


def _print_summary(console: Console, result: Result) -> None:
    d = result.details
    console.print(
        f"{d['returns_computed']} returns computed from {d['documents_per_return']} documents "
        f"each ({d['fields_per_return']} fields; 医療費通知 "
        f"{'gathered' if d['medical_notices_gathered'] else 'not gathered'}); "
        f"{result.rate_per_s} returns/s at full load; p50 / p95 / p99 at half load = "
        f"{result.p50_ms} / {d['p95_ms']} / {result.p99_ms} ms (goal p99 ≤ {GOAL_P99_MS:.0f} ms); "
        f"server CPU {d['server_cpu_ms_per_return']} ms per return"
    )
    console.print(
        f"filing (sign, file, PDF): {d['filings_done']} at {d['filing_rate_per_s']}/s, "
        f"p50 / p99 {d['filing_p50_ms']} / {d['filing_p99_ms']} ms, server CPU "
        f"{d['server_cpu_ms_per_filing']} ms each; rendering in process: XML "
        f"{d['xml_render_ms_p50']} ms, PDF copy {d['pdf_render_ms_p50']} ms (median of "
        f"{d['rendered_returns']})"
    )
    if d["residents_ran_out"]:
        console.print(
            "[yellow]The residents prepared ran short of the phases' length: "
            "give more --returns for full phases.[/yellow]"
        )
