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
from dataclasses import dataclass, field

import httpx
from rich.console import Console

from myna.bench import harness, people
from myna.bench.harness import LoadStats, Result
from myna.platform.logging import configure_logging
from myna.reader.client import Signer

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


async def _log_in(url: str, signers: list[Signer]) -> tuple[list[VirtualUser], list[str]]:
    """Each card logs in once over HTTP; the sessions and the page's category codes."""
    users: list[VirtualUser] = []
    categories: list[str] = []
    async with httpx.AsyncClient(timeout=30.0) as client:
        for signer in signers:
            cookie = await people.log_in(client, url, signer)
            page = await client.get(f"{url}/my-info", headers=people.session_header(cookie))
            page.raise_for_status()
            token = _CSRF.search(page.text)
            if token is None:
                msg = "no CSRF token on the わたしの情報 page"
                raise RuntimeError(msg)
            users.append(VirtualUser(cookie=cookie, csrf_token=token.group(1)))
            categories = _CATEGORY.findall(page.text)
    return users, categories


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
            headers=people.session_header(user.cookie),
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
        stats = await harness.in_turn(self.as_user, self.users)
        self.counts = RetrievalCounts()
        return stats

    def share(self, index: int, count: int) -> None:
        """A client process of ``count``: its own sequence of residents."""
        self.rng = random.Random(people.SEED + index)  # noqa: S311
        self.counts = RetrievalCounts()

    def tally(self) -> object:
        """This client process's counts."""
        return self.counts

    def absorb(self, tally: object) -> None:
        """Add a client process's counts."""
        if isinstance(tally, RetrievalCounts):
            self.counts.retrievals += tally.retrievals
            self.counts.records += tally.records


def run(*, plan: harness.Plan, cards: int, console: Console) -> Result:
    """Run the self-information scenario and return its result."""
    # Seeding and card issuance log every card at INFO: the console is for the figures.
    configure_logging(level="WARNING", json=False)
    rng = random.Random(people.SEED)  # noqa: S311 - choosing benchmark residents, not secrets
    with harness.workspace("myna-bench-selfinfo-", plan.database_url) as space:
        population = people.seed_population(
            space.container, console, residents=plan.residents, reuse=plan.reuse, agency_data=True
        )
        console.print(f"Issuing {cards} cards to random residents…")
        card_ids = people.issue_cards(space.container, cards=cards, rng=rng)
        space.container.engine.dispose()
        signers = people.auth_signers(space.settings, card_ids)
        env = space.server_env(MYNA_LOGIN_RATE_LIMIT=harness.UNLIMITED)
        with harness.portal_server(env, workers=plan.workers) as server:
            console.print(f"Logging {len(signers)} residents in by card…")
            users, categories = asyncio.run(_log_in(server.url, signers))
            retrieve = _Retrievals(server.url, users, categories, random.Random(people.SEED))  # noqa: S311
            measured = harness.measure(
                server,
                retrieve,
                "Retrievals",
                plan.load(console),
                warm_up="one retrieval per resident",
            )
    result = measured.result(
        "selfinfo",
        "retrieval",
        plan=plan,
        population=population,
        database_url=space.database_url,
        details={
            "residents_logged_in": len(users),
            "categories": len(categories),
            "records_per_retrieval": round(retrieve.counts.per_retrieval(), 2),
        },
    )
    harness.print_phases(console, "myna bench selfinfo", measured.phases("retrieval"))
    _print_goals(console, result)
    return result


def _print_goals(console: Console, result: Result) -> None:
    console.print(
        f"population {result.details['population']} ({result.details['database']}); "
        f"{result.details['records_per_retrieval']} records per retrieval; "
        f"retrievals/s ÷ trivial req/s = {result.ratio:.1%}; "
        f"p99 at half load = {result.p99_ms} ms (goal < 100 ms embedded); server CPU "
        f"{result.details['server_cpu_ms_per_retrieval']} ms per retrieval"
        f"{harness.database_cpu_note(result.details['database_cpu_ms_per_retrieval'], 'retrieval')}"
    )
