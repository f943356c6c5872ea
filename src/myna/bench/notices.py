"""`myna bench notices`: a segment notice to a whole population, then inbox first pages.

A segment notice (対象者の条件付きのお知らせ) is one row whatever its audience, resolved
when a resident opens the inbox (docs/notices.md). Two modes measure it:

In process (the service layer, no HTTP), :func:`run`:

1. how long a segment notice to every adult takes to become visible — one row written
   and committed, whatever the population;
2. the inbox first page (``notices.inbox``, page 1) for random residents, back to back,
   with ``segments`` segment notices live (more if a reused database already holds
   more): p50 and p99.

Over HTTP against a real server process (``--http``), :func:`run_http`:

1. setup (not timed): the population seeded (or reused), ``segments - 1`` other segment
   notices live (earlier runs' are counted), cards issued to ``cards`` random adults,
   the portal started in a subprocess on 127.0.0.1, each card holder logged in once by
   card and their inbox read once (warm-up);
2. visibility: the agency signs a segment notice to everyone aged 18 or more (JWS,
   ES256) and sends it with ``POST /api/agency/notices``; the clock runs from the send
   until a logged-in resident's ``GET /notices`` lists it (polled every few
   milliseconds); then every logged-in resident's first page is checked for it;
3. the trivial endpoint (``GET /healthz``) back to back at ``concurrency`` clients;
4. inbox first pages (``GET /notices``) back to back at ``concurrency`` clients, each
   by a random logged-in resident (a page without the new notice counts as an error);
5. inbox first pages paced at half the rate phase 4 reached (open loop).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from rich.console import Console

from myna import network, notices, registry
from myna.bench import harness, people
from myna.bench.harness import LoadStats, Result
from myna.bootstrap import Container
from myna.platform.clock import today_in_japan
from myna.platform.db import unit_of_work
from myna.platform.logging import configure_logging
from myna.reader.client import Signer

# A national agency: a notice to every adult in the country is within its mandate (a
# municipality reaches its own residents only; docs/notices.md).
SENDER = "digital"
# Everyone aged 18 or more: the audience of the measured notice in both modes.
EVERY_ADULT = {"age_from": 18}
# Card holders are a year older than the segment's bound, so a birthday that turns
# over between choosing them and reading (JST midnight) cannot drop one out of it.
_HOLDER_MIN_AGE = 19
POLL_INTERVAL_S = 0.005
GOAL_P99_S = 0.050  # the issue's bound for the inbox first page
VISIBILITY_TIMEOUT_S = 30.0


def _content(title: str) -> notices.NoticeCreate:
    return notices.NoticeCreate(
        title=title, body="ベンチマーク用のお知らせです。", category=notices.Category.PROCEDURE
    )


def _other_segments(container: Container, segments: int) -> None:
    """Top the database up to ``segments - 1`` segment notices before the measured one.

    The inbox resolves every live segment notice, so their number is what its cost
    depends on. A reused database keeps earlier runs' notices (the bench sends only
    segment notices), so only the missing ones are added; the count live during the
    reads is reported from the database.
    """
    with unit_of_work(container.session_factory) as session:
        existing = notices.count_notices(session=session)
        for n in range(existing, segments - 1):
            notices.send_notice(
                session=session,
                sender=SENDER,
                audience=notices.ToSegment(notices.Segment.from_dict({"age_from": 20 + n % 60})),
                content=_content(f"条件付きのお知らせ {n}"),
            )


def run(
    *,
    residents: int,
    duration: float,
    segments: int,
    database_url: str,
    reuse: bool,
    console: Console,
) -> Result:
    """Seed (unless reused), send the segment notice, then time inbox first pages."""
    configure_logging(json=False, level="WARNING")
    with harness.workspace("myna-bench-notices-", database_url) as space:
        container = space.container
        population = people.seed_population(
            container, console, residents=residents, reuse=reuse, agency_data=False
        ).size
        _other_segments(container, segments)
        with unit_of_work(container.session_factory) as session:
            rows_before = notices.count_notices(session=session)
        started = time.perf_counter()
        with unit_of_work(container.session_factory) as session:
            sent = notices.send_notice(
                session=session,
                sender=SENDER,
                audience=notices.ToSegment(notices.Segment.from_dict(EVERY_ADULT)),
                content=_content("18歳以上の全員へのお知らせ"),
            )
        visible_ms = (time.perf_counter() - started) * 1000
        with unit_of_work(container.session_factory) as session:
            rows_added = notices.count_notices(session=session) - rows_before
        console.print(
            f"Segment notice {sent.id} visible after {visible_ms:.1f} ms "
            f"({rows_added} notice rows for {population:,} residents)"
        )
        stats = LoadStats()
        rng = random.Random(people.SEED)  # noqa: S311 - picks residents to read, no secret
        cpu_before = time.process_time()
        begin = time.perf_counter()
        while time.perf_counter() - begin < duration:
            resident_id = rng.randint(1, population)
            t0 = time.perf_counter()
            try:
                with unit_of_work(container.session_factory) as session:
                    notices.inbox(session=session, resident_id=resident_id)
            except registry.ResidentNotFoundError as exc:
                stats.failed(exc)
                continue
            stats.latencies.append(time.perf_counter() - t0)
            stats.done += 1
        stats.elapsed = time.perf_counter() - begin
        read_cpu = time.process_time() - cpu_before
        container.engine.dispose()
    result = Result(
        scenario="notices",
        rate_per_s=stats.rate,
        p50_ms=stats.percentile(50),
        p99_ms=stats.percentile(99),
        baseline_rate_per_s=0.0,
        ratio=0.0,
        details={
            "mode": "in-process",
            "residents": population,
            "segment_notices_live": rows_before + rows_added,
            "visible_after_ms": round(visible_ms, 2),
            "notice_rows_added": rows_added,
            "inbox_errors": stats.errors,
            # In process: this process's CPU (the reads and the database driver) per read.
            "process_cpu_ms_per_inbox_page": harness.cpu_ms_per(read_cpu, stats),
            "database": harness.database_kind(space.database_url),
        },
    )
    console.print(
        f"Inbox first page: {stats.rate:.0f}/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms over {stats.done} reads, "
        f"{result.details['process_cpu_ms_per_inbox_page']} ms of CPU each"
    )
    return result


# --- over HTTP ------------------------------------------------------------------------


class NoticeMissingError(Exception):
    """An inbox first page that does not list the segment notice (counted as an error)."""


def _issue_cards_to_adults(container: Container, *, cards: int, rng: random.Random) -> list[str]:
    """Cards (known PIN) for random active residents inside the segment; their card ids."""
    today = today_in_japan()
    card_ids = people.issue_cards(
        container,
        cards=cards,
        rng=rng,
        eligible=lambda m: registry.age_on(m.birth_date, today) >= _HOLDER_MIN_AGE,
    )
    if not card_ids:
        msg = "no active adult found to give a card to"
        raise RuntimeError(msg)
    return card_ids


def _listed(page: str, notice_id: int) -> bool:
    return f'href="/notices/{notice_id}"' in page


async def _log_in(url: str, signers: list[Signer]) -> tuple[list[str], LoadStats]:
    """Each card logs in once over HTTP and reads its inbox once (the warm-up)."""
    cookies: list[str] = []
    warm_up = LoadStats()
    async with httpx.AsyncClient(timeout=30.0) as client:
        for signer in signers:
            cookie = await people.log_in(client, url, signer)
            client.cookies.clear()
            began = time.perf_counter()
            page = await client.get(f"{url}/notices", headers=people.session_header(cookie))
            page.raise_for_status()
            warm_up.latencies.append(time.perf_counter() - began)
            warm_up.done += 1
            cookies.append(cookie)
    return cookies, warm_up


@dataclass(frozen=True, slots=True)
class Visibility:
    """The measured send: how long until the first resident saw it, and who saw it."""

    notice_id: int
    send_ms: float
    visible_ms: float
    polls: int
    seen_by: int
    checked: int


async def _send_and_watch(url: str, token: str, cookies: list[str]) -> Visibility:
    """Send the signed notice, poll the first resident's inbox until it is listed."""
    watcher = people.session_header(cookies[0])
    async with httpx.AsyncClient(timeout=30.0) as client:
        started = time.perf_counter()
        response = await client.post(
            f"{url}/api/agency/notices",
            content=token,
            headers={"content-type": "application/jose"},
        )
        send_ms = (time.perf_counter() - started) * 1000
        if response.status_code != 201:
            msg = f"the agency API refused the notice: {response.status_code} {response.text}"
            raise RuntimeError(msg)
        notice_id = int(response.json()["id"])
        polls = 0
        while True:
            polls += 1
            page = await client.get(f"{url}/notices", headers=watcher)
            page.raise_for_status()
            if _listed(page.text, notice_id):
                visible_ms = (time.perf_counter() - started) * 1000
                break
            if time.perf_counter() - started > VISIBILITY_TIMEOUT_S:
                msg = f"notice {notice_id} not listed after {VISIBILITY_TIMEOUT_S:.0f} s"
                raise RuntimeError(msg)
            # Polling is the measurement's resolution only; a resident does not poll.
            await asyncio.sleep(POLL_INTERVAL_S)
        seen_by = 0
        for cookie in cookies:
            page = await client.get(f"{url}/notices", headers=people.session_header(cookie))
            page.raise_for_status()
            seen_by += _listed(page.text, notice_id)
    return Visibility(notice_id, send_ms, visible_ms, polls, seen_by, len(cookies))


@dataclass
class _InboxReads:
    """The inbox first page for the load loops, as random logged-in residents."""

    url: str
    cookies: list[str]
    notice_id: int
    rng: random.Random

    async def __call__(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            f"{self.url}/notices", headers=people.session_header(self.rng.choice(self.cookies))
        )
        response.raise_for_status()
        if not _listed(response.text, self.notice_id):
            raise NoticeMissingError(f"notice {self.notice_id} not on the first page")

    def share(self, index: int, count: int) -> None:
        """A client process of ``count``: its own sequence of residents."""
        self.rng = random.Random(people.SEED + index)  # noqa: S311

    def tally(self) -> object:
        """Nothing to gather: the reads keep no counts."""
        return None

    def absorb(self, tally: object) -> None:
        """Nothing to gather (see :meth:`tally`)."""


@dataclass(frozen=True, slots=True)
class _Phases:
    warm_up: LoadStats
    visibility: Visibility
    baseline: LoadStats
    full: LoadStats
    half: LoadStats
    trivial_cpu_s: float
    busy_cpu_s: float


def _signed_notice(container: Container) -> str:
    """The agency's signed request: a notice to every adult, with a fresh request id."""
    with unit_of_work(container.session_factory) as session:
        credential = network.credential_for(
            session=session, settings=container.settings, code=SENDER
        )
    payload = {
        "request_id": str(uuid.uuid4()),
        "issued_at": datetime.now(UTC).isoformat(),
        "title": "18歳以上の全員へのお知らせ",
        "body": "ベンチマーク用のお知らせです。",
        "category": notices.Category.PROCEDURE.value,
        "audience": {"segment": EVERY_ADULT},
    }
    return network.sign(json.dumps(payload, ensure_ascii=False).encode(), credential)


def _measure(
    server: harness.Server, signers: list[Signer], token: str, load: harness.Load
) -> _Phases:
    console, url = load.console, server.url
    console.print(f"Logging {len(signers)} residents in by card…")
    cookies, warm_up = asyncio.run(_log_in(url, signers))
    console.print("Sending the segment notice through the agency API…")
    visibility = asyncio.run(_send_and_watch(url, token, cookies))
    reads = _InboxReads(url, cookies, visibility.notice_id, random.Random(people.SEED))  # noqa: S311

    before = server.cpu_seconds()
    baseline = harness.baseline_phase(url, load)
    trivial_cpu = server.cpu_seconds() - before
    before = server.cpu_seconds()
    full, half = harness.full_and_half_load(reads, "Inbox first pages", load)
    busy_cpu = server.cpu_seconds() - before
    return _Phases(warm_up, visibility, baseline, full, half, trivial_cpu, busy_cpu)


def run_http(
    *,
    residents: int,
    duration: float,
    segments: int,
    concurrency: int,
    workers: int,
    cards: int,
    database_url: str,
    reuse: bool,
    console: Console,
    clients: int = 1,
) -> Result:
    """Seed (unless reused), then over HTTP: time the notice to visible and inbox pages."""
    # Seeding and card issuance log at INFO: the console is for the figures.
    configure_logging(json=False, level="WARNING")
    rng = random.Random(people.SEED)  # noqa: S311 - choosing benchmark residents, not secrets
    with harness.workspace("myna-bench-notices-", database_url) as space:
        container = space.container
        population = people.seed_population(
            container, console, residents=residents, reuse=reuse, agency_data=False
        )
        _other_segments(container, segments)
        console.print(f"Issuing {cards} cards to random adults…")
        card_ids = _issue_cards_to_adults(container, cards=cards, rng=rng)
        token = _signed_notice(container)
        with unit_of_work(container.session_factory) as session:
            rows_before = notices.count_notices(session=session)
        signers = people.auth_signers(space.settings, card_ids)
        env = space.server_env(MYNA_LOGIN_RATE_LIMIT=harness.UNLIMITED)
        with harness.portal_server(env, workers=workers) as server:
            load = harness.Load(concurrency, duration, console, clients)
            phases = _measure(server, signers, token, load)
        with unit_of_work(container.session_factory) as session:
            rows_after = notices.count_notices(session=session)
        container.engine.dispose()
    return _http_result(
        phases,
        population=population,
        database=harness.database_kind(space.database_url),
        live=rows_after,
        rows_added=rows_after - rows_before,
        settings=harness.load_settings(duration, concurrency, workers, clients),
        console=console,
    )


def _http_result(
    phases: _Phases,
    *,
    population: people.Population,
    database: str,
    live: int,
    rows_added: int,
    settings: dict[str, object],
    console: Console,
) -> Result:
    full, half, baseline, seen = phases.full, phases.half, phases.baseline, phases.visibility
    result = Result.of_load(
        "notices",
        full=full,
        half=half,
        baseline=baseline,
        details={
            "mode": "http",
            "residents": population.size,
            "database": database,
            "reused_database": population.reused,
            "setup_s": round(population.setup_s, 1),
            **settings,
            "segment_notices_live": live,
            "notice_id": seen.notice_id,
            "notice_rows_added": rows_added,
            "send_ms": round(seen.send_ms, 1),
            "visible_after_ms": round(seen.visible_ms, 1),
            "visibility_polls": seen.polls,
            "residents_logged_in": seen.checked,
            "residents_who_see_it": seen.seen_by,
            "full_load_p50_ms": round(full.percentile(50), 1),
            "full_load_p99_ms": round(full.percentile(99), 1),
            "full_load_reads": full.done,
            "half_load_rate_per_s": round(half.rate, 1),
            "half_load_reads": half.done,
            # A high p99 from a few stalls (other work on the machine) and one from
            # every page being slow read the same; these two tell them apart.
            "half_load_over_50ms": sum(1 for t in half.latencies if t > GOAL_P99_S),
            "half_load_max_ms": round(max(half.latencies, default=0.0) * 1000, 1),
            "baseline_p50_ms": round(baseline.percentile(50), 1),
            "baseline_p99_ms": round(baseline.percentile(99), 1),
            "first_inbox_p50_ms": round(phases.warm_up.percentile(50), 1),
            "server_cpu_ms_per_inbox_page": harness.cpu_ms_per(phases.busy_cpu_s, full, half),
            "server_cpu_ms_per_trivial_request": harness.cpu_ms_per(phases.trivial_cpu_s, baseline),
            "errors": full.errors + half.errors + baseline.errors,
            "error_samples": sorted(
                {*baseline.error_samples, *full.error_samples, *half.error_samples}
            ),
        },
    )
    table = harness.load_phases("inbox first page", baseline, full, half)
    table["first inbox (warm-up)"] = phases.warm_up
    harness.print_phases(console, "myna bench notices --http", table)
    _print_goals(console, result)
    return result


def _print_goals(console: Console, result: Result) -> None:
    details = result.details
    console.print(
        f"population {details['residents']:,} ({details['database']}); segment notice "
        f"{details['notice_id']} ({details['notice_rows_added']} row) sent in "
        f"{details['send_ms']} ms, visible after {details['visible_after_ms']} ms "
        f"(goal < 1 s); seen by {details['residents_who_see_it']} of "
        f"{details['residents_logged_in']} logged-in adults"
    )
    console.print(
        f"inbox first page: p99 at half load = {result.p99_ms} ms (goal < 50 ms; "
        f"{details['half_load_over_50ms']} of {details['half_load_reads']} reads above); "
        f"pages/s ÷ trivial req/s = {result.ratio:.1%}; server CPU "
        f"{details['server_cpu_ms_per_inbox_page']} ms per page"
    )
