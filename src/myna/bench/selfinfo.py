"""`myna bench selfinfo`: full わたしの情報 (my information) retrievals over HTTP.

A retrieval is one ``POST /my-info`` (``format=json``, every category) by a logged-in
resident: session and CSRF check, the portal's signed request to the hub
(情報提供ネットワークシステム), signature, freshness and replay checks, the
authorization table (別表) per item, one signed query per provider agency answered
from its replica store (中間サーバー) by link code, and one exchange-log entry per
(item, provider) appended in the same transaction (docs/exchange-log.md, RFC 9162).

Phases, against a population of ``residents`` people with their agencies' data:

1. setup (not timed): registry and agency data seeded the ``myna seed`` way, cards
   issued to a random sample of residents, the portal started in a subprocess, each
   sampled resident logged in once by card (over HTTP) and their CSRF token read from
   the わたしの情報 page; one warm-up retrieval each (decrypting agencies' keys and
   filling caches costs the first retrieval of every process);
2. baseline: the trivial endpoint (``GET /healthz``) back to back;
3. retrievals back to back at ``concurrency`` clients, each by a random sampled
   resident;
4. retrievals paced at half the rate phase 3 reached (open loop).
"""

from __future__ import annotations

import asyncio
import random
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from myna import card, registry, runtime
from myna.bench.harness import (
    BENCH_SECRETS,
    LoadStats,
    Result,
    bench_settings,
    bound_socket,
    closed_loop,
    paced_loop,
    port_of,
    print_phases,
    server_process,
)
from myna.bootstrap import Container, build_container
from myna.platform.db import unit_of_work
from myna.platform.logging import configure_logging
from myna.platform.sessions import RESIDENT
from myna.reader.client import Signer, login_async

SEED = 1
SESSION_COOKIE = RESIDENT.cookie
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_CATEGORY = re.compile(r'name="category" value="([^"]+)"')


@dataclass(frozen=True, slots=True)
class VirtualUser:
    """A logged-in resident: the session cookie and the page's CSRF token."""

    cookie: str
    csrf_token: str


@dataclass
class RetrievalCounts:
    """Records returned and categories reported unavailable, over all retrievals."""

    retrievals: int = 0
    records: int = 0

    def per_retrieval(self) -> float:
        """Records per retrieval on average."""
        return self.records / self.retrievals if self.retrievals else 0.0


class RetrievalFailedError(Exception):
    """A retrieval that did not return every category (counted as an error)."""


def seed_with_agency_data(
    container: Container, console: Console, *, residents: int, reuse: bool
) -> tuple[int, bool]:
    """Seed the population and its agency data (the ``myna seed`` path).

    Returns the population and whether the existing data was reused as it was.
    """
    runtime.prepare_database(container)
    with unit_of_work(container.session_factory) as session:
        existing = registry.count_residents(session=session)
        before = registry.max_household_id(session=session)
    if reuse and existing >= residents:
        console.print(f"Reusing the database: {existing:,} residents, no seeding.")
        return existing, True
    wanted = residents - existing if reuse else residents
    started = time.perf_counter()
    with (
        Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress,
        unit_of_work(container.session_factory) as session,
    ):
        task = progress.add_task("residents", total=wanted)
        registry.seed_population(
            session=session,
            residents=wanted,
            seed=SEED,
            on_progress=lambda count: progress.advance(task, count),
        )
    console.print(f"registry: {wanted:,} residents in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    runtime.seed_agency_data(container, console, after_household_id=before, seed=SEED)
    console.print(f"agency data in {time.perf_counter() - started:.1f} s")
    with unit_of_work(container.session_factory) as session:
        return registry.count_residents(session=session), False


def issue_cards(container: Container, *, cards: int, rng: random.Random) -> list[str]:
    """Cards (known PIN) for randomly chosen active residents; their card ids."""
    with unit_of_work(container.session_factory) as session:
        last_household = registry.max_household_id(session=session)
    chosen: set[int] = set()
    card_ids: list[str] = []
    attempts = 0
    while len(card_ids) < cards and attempts < cards * 20:
        attempts += 1
        with unit_of_work(container.session_factory) as session:
            members = registry.household_members(
                session=session, household_id=rng.randint(1, last_household)
            )
            candidates = [
                m
                for m in members
                if m.status == registry.ResidentStatus.ACTIVE and m.id not in chosen
            ]
            if not candidates:
                continue
            resident = rng.choice(candidates)
            summary = card.issue_card(
                session=session,
                settings=container.settings,
                resident_id=resident.id,
                pin=runtime.DEMO_PIN,
                password=runtime.DEMO_PASSWORD,
            )
        chosen.add(resident.id)
        card_ids.append(summary.card_id)
    return card_ids


async def _log_in(url: str, signers: list[Signer]) -> tuple[list[VirtualUser], list[str]]:
    """Each card logs in once over HTTP; the sessions and the page's category codes."""
    users: list[VirtualUser] = []
    categories: list[str] = []
    async with httpx.AsyncClient(timeout=30.0) as client:
        for signer in signers:
            client.cookies.clear()
            await login_async(client, url, signer)
            cookie = client.cookies.get(SESSION_COOKIE)
            if cookie is None:
                msg = "the portal set no session cookie"
                raise RuntimeError(msg)
            page = await client.get(f"{url}/my-info", headers={"Cookie": _cookie(cookie)})
            page.raise_for_status()
            token = _CSRF.search(page.text)
            if token is None:
                msg = "no CSRF token on the わたしの情報 page"
                raise RuntimeError(msg)
            users.append(VirtualUser(cookie=cookie, csrf_token=token.group(1)))
            categories = _CATEGORY.findall(page.text)
    return users, categories


def _cookie(value: str) -> str:
    return f"{SESSION_COOKIE}={value}"


@dataclass
class _Retrievals:
    """The retrieval operation for the load loops, as random logged-in residents."""

    url: str
    users: list[VirtualUser]
    categories: list[str]
    rng: random.Random
    counts: RetrievalCounts = field(default_factory=RetrievalCounts)

    async def as_user(self, client: httpx.AsyncClient, user: VirtualUser) -> None:
        """One full retrieval (every category, JSON) as ``user``."""
        response = await client.post(
            f"{self.url}/my-info",
            data={"csrf_token": user.csrf_token, "category": self.categories, "format": "json"},
            headers={"Cookie": _cookie(user.cookie)},
        )
        response.raise_for_status()
        body = response.json()
        if body["unavailable"]:
            raise RetrievalFailedError(", ".join(body["unavailable"]))
        self.counts.retrievals += 1
        self.counts.records += sum(len(c["records"]) for c in body["categories"])

    async def __call__(self, client: httpx.AsyncClient) -> None:
        await self.as_user(client, self.rng.choice(self.users))

    async def warm_up(self) -> LoadStats:
        """One retrieval per resident, in turn (the process's first ones are cold)."""
        stats = LoadStats()
        async with httpx.AsyncClient(timeout=30.0) as client:
            for user in self.users:
                began = time.perf_counter()
                await self.as_user(client, user)
                stats.latencies.append(time.perf_counter() - began)
                stats.done += 1
        self.counts = RetrievalCounts()
        return stats


@dataclass(frozen=True, slots=True)
class _Phases:
    cold: LoadStats
    baseline: LoadStats
    full: LoadStats
    half: LoadStats
    counts: RetrievalCounts
    users: int
    categories: int


def _measure(
    url: str, signers: list[Signer], *, duration: float, concurrency: int, console: Console
) -> _Phases:
    console.print(f"Logging {len(signers)} residents in by card…")
    users, categories = asyncio.run(_log_in(url, signers))
    retrieve = _Retrievals(url, users, categories, random.Random(SEED))  # noqa: S311

    async def trivial(client: httpx.AsyncClient) -> None:
        response = await client.get(f"{url}/healthz")
        response.raise_for_status()

    console.print("Warm-up: one retrieval per resident…")
    cold = asyncio.run(retrieve.warm_up())
    console.print(f"Trivial endpoint, {concurrency} clients, {duration:.0f} s…")
    baseline = asyncio.run(closed_loop(trivial, concurrency=concurrency, duration=duration))
    console.print(f"Retrievals, {concurrency} clients, {duration:.0f} s…")
    full = asyncio.run(closed_loop(retrieve, concurrency=concurrency, duration=duration))
    half_rate = max(1.0, full.rate / 2)
    console.print(f"Retrievals paced at half load ({half_rate:.0f}/s), {duration:.0f} s…")
    half = asyncio.run(
        paced_loop(retrieve, rate=half_rate, duration=duration, concurrency=concurrency * 4)
    )
    return _Phases(cold, baseline, full, half, retrieve.counts, len(users), len(categories))


def run(
    *,
    residents: int,
    duration: float,
    concurrency: int,
    workers: int,
    cards: int,
    database_url: str,
    reuse: bool,
    console: Console,
) -> Result:
    """Run the self-information scenario and return its result."""
    # Seeding and card issuance log every card at INFO: the console is for the figures.
    configure_logging(level="WARNING", json=False)
    rng = random.Random(SEED)  # noqa: S311 - choosing benchmark residents, not secrets
    with tempfile.TemporaryDirectory(prefix="myna-bench-selfinfo-") as tmp:
        data_dir = Path(tmp)
        url_db = database_url or f"sqlite:///{(data_dir / 'bench.db').as_posix()}"
        settings = bench_settings(data_dir, url_db)
        container = build_container(settings)
        console.print(f"Preparing the database ({residents:,} residents with agency data)…")
        started = time.perf_counter()
        population, reused = seed_with_agency_data(
            container, console, residents=residents, reuse=reuse
        )
        setup_s = time.perf_counter() - started
        console.print(f"Issuing {cards} cards to random residents…")
        card_ids = issue_cards(container, cards=cards, rng=rng)
        container.engine.dispose()
        reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
        signers: list[Signer] = [
            reader.open_session(card_id, "auth", runtime.DEMO_PIN) for card_id in card_ids
        ]
        sock = bound_socket()
        port = port_of(sock)
        env = {
            **BENCH_SECRETS,
            "MYNA_ENVIRONMENT": "production",
            "MYNA_DATA_DIR": str(data_dir),
            "MYNA_DATABASE_URL": url_db,
            "MYNA_LOGIN_RATE_LIMIT": "10000000/minute",
            "MYNA_LOG_LEVEL": "WARNING",
            "MYNA_PORTAL_URL": f"http://127.0.0.1:{port}",
        }
        with server_process(env, sock=sock, workers=workers) as url:
            phases = _measure(
                url, signers, duration=duration, concurrency=concurrency, console=console
            )
    full, half, baseline = phases.full, phases.half, phases.baseline
    result = Result(
        scenario="selfinfo",
        rate_per_s=round(full.rate, 1),
        p50_ms=round(half.percentile(50), 1),
        p99_ms=round(half.percentile(99), 1),
        baseline_rate_per_s=round(baseline.rate, 1),
        ratio=round(full.rate / baseline.rate, 3) if baseline.rate else 0.0,
        details={
            "population": population,
            "database": "postgresql" if url_db.startswith("postgresql") else "sqlite",
            "reused_database": reused,
            "setup_s": round(setup_s, 1),
            "duration_s": duration,
            "concurrency": concurrency,
            "workers": workers,
            "residents_logged_in": phases.users,
            "categories": phases.categories,
            "records_per_retrieval": round(phases.counts.per_retrieval(), 2),
            "full_load_p50_ms": round(full.percentile(50), 1),
            "full_load_p99_ms": round(full.percentile(99), 1),
            "full_load_errors": full.errors,
            "half_load_rate_per_s": round(half.rate, 1),
            "half_load_errors": half.errors,
            "errors": full.errors + half.errors + baseline.errors,
            "error_samples": sorted(
                {*baseline.error_samples, *full.error_samples, *half.error_samples}
            ),
            "first_retrieval_p50_ms": round(phases.cold.percentile(50), 1),
            "first_retrieval_max_ms": round(max(phases.cold.latencies, default=0.0) * 1000, 1),
            "baseline_p50_ms": round(baseline.percentile(50), 1),
        },
    )
    _print(
        console,
        result,
        {
            "trivial endpoint": baseline,
            "retrieval, full load": full,
            "retrieval, half load": half,
            "first retrieval (warm-up)": phases.cold,
        },
    )
    return result


def _print(console: Console, result: Result, phases: dict[str, LoadStats]) -> None:
    print_phases(console, "myna bench selfinfo", phases)
    console.print(
        f"population {result.details['population']} ({result.details['database']}); "
        f"{result.details['records_per_retrieval']} records per retrieval; "
        f"retrievals/s ÷ trivial req/s = {result.ratio:.1%}; "
        f"p99 at half load = {result.p99_ms} ms (goal < 100 ms embedded)"
    )
