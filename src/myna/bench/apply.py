"""`myna bench apply`: signed e-application submissions over HTTP, signatures verified.

A submission is what a resident's browser and card reader do for 罹災証明書の発行申請
(docs/applications.md): ``POST /apply/{m}/disaster-certificate/check`` (JSON Schema
validation, the draft saved), ``POST .../sign`` (the canonical document frozen into a
signing request), ``GET /api/signing-requests/{id}`` (the reader fetches the bytes), a
detached CMS signature made with the card's signing key (on the client, off the event
loop), and ``POST /api/signing-requests/{id}/response``: the server parses the CMS,
checks the digest and the RSA signature, verifies the signing certificate (chain, key
usage, validity, revocation), checks the signer is the resident, and in one transaction
files the application, its history row, the receipt notice, and clears the draft.

Phases: the trivial endpoint (``GET /healthz``) back to back; submissions back to back at
``concurrency`` clients; submissions paced at half that rate. The verification step (the
last request) is timed on its own too.
"""

from __future__ import annotations

import asyncio
import base64
import random
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from myna import card, jpki, registry, runtime
from myna.bench.harness import (
    BENCH_SECRETS,
    LoadStats,
    Result,
    bench_settings,
    bound_socket,
    closed_loop,
    paced_loop,
    port_of,
    server_process,
)
from myna.bench.selfinfo import SESSION_COOKIE, issue_cards
from myna.bootstrap import build_container
from myna.platform.db import unit_of_work
from myna.platform.encoding import b64url
from myna.platform.logging import configure_logging
from myna.reader.client import login_async

SEED = 1
PROCEDURE = "disaster-certificate"
FORM: dict[str, str] = {
    "disaster_date": "2026-09-15",
    "disaster_type": "storm",
    "damaged_address": "東京都千代田区千代田1-1",
    "building": "owned-home",
    "relationship": "owner-occupant",
    "damage_description": "屋根瓦が飛ばされ、2階の天井から雨漏りがしています。",
    "copies": "1",
    "phone": "03-1234-5678",
    "declaration": "on",
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_KEY = re.compile(r'name="submission_key" value="([^"]+)"')


class SubmissionFailedError(Exception):
    """A step of a submission answered other than expected (counted as an error)."""


@dataclass(frozen=True, slots=True)
class Applicant:
    """A logged-in resident with their card's signing key open (password entered once)."""

    cookie: str
    csrf_token: str
    municipality: str
    signing: card.CardSession


@dataclass
class _Submissions:
    """The submission operation for the load loops, as random logged-in residents."""

    url: str
    applicants: list[Applicant]
    rng: random.Random
    verify: LoadStats = field(default_factory=LoadStats)
    signing_s: list[float] = field(default_factory=list)
    # One submission at a time per resident, as one person's browser does; a queue per
    # event loop (each phase runs in its own).
    _free: tuple[asyncio.AbstractEventLoop, asyncio.Queue[Applicant]] | None = None

    def _queue(self) -> asyncio.Queue[Applicant]:
        loop = asyncio.get_running_loop()
        if self._free is None or self._free[0] is not loop:
            queue: asyncio.Queue[Applicant] = asyncio.Queue()
            shuffled = list(self.applicants)
            self.rng.shuffle(shuffled)
            for applicant in shuffled:
                queue.put_nowait(applicant)
            self._free = (loop, queue)
        return self._free[1]

    async def as_applicant(self, client: httpx.AsyncClient, who: Applicant) -> None:
        headers = {"Cookie": f"{SESSION_COOKIE}={who.cookie}"}
        form = f"{self.url}/apply/{who.municipality}/{PROCEDURE}"
        checked = await client.post(
            f"{form}/check", data={**FORM, "csrf_token": who.csrf_token}, headers=headers
        )
        key = _KEY.search(checked.text)
        if checked.status_code != 200 or key is None:
            raise SubmissionFailedError(f"check answered {checked.status_code}")
        signed_request = await client.post(
            f"{form}/sign",
            data={"csrf_token": who.csrf_token, "submission_key": key.group(1)},
            headers=headers,
            follow_redirects=False,
        )
        location = signed_request.headers.get("location", "")
        if signed_request.status_code != 303 or not location.startswith("/apply/sign/"):
            raise SubmissionFailedError(f"sign answered {signed_request.status_code}")
        api = f"{self.url}/api/signing-requests/{location.rsplit('/', 1)[1]}"
        fetched = await client.get(api)
        fetched.raise_for_status()
        text = str(fetched.json()["to_be_signed"])
        content = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        began = time.perf_counter()
        signature = await asyncio.to_thread(who.signing.sign_cms, content)
        self.signing_s.append(time.perf_counter() - began)
        began = time.perf_counter()
        answer = await client.post(
            f"{api}/response",
            json={"signature": b64url(signature)},
        )
        self.verify.latencies.append(time.perf_counter() - began)
        if answer.status_code != 200 or answer.json().get("status") != "received":
            raise SubmissionFailedError(f"response answered {answer.status_code}: {answer.text}")
        self.verify.done += 1

    async def __call__(self, client: httpx.AsyncClient) -> None:
        queue = self._queue()
        applicant = await queue.get()
        try:
            await self.as_applicant(client, applicant)
        finally:
            queue.put_nowait(applicant)

    def reset(self) -> None:
        self.verify = LoadStats()
        self.signing_s = []


async def _log_in(
    url: str, residents: list[tuple[str, card.CardSession, card.CardSession]]
) -> list[Applicant]:
    """Each card logs in once over HTTP; its session, CSRF token and signing key."""
    applicants: list[Applicant] = []
    async with httpx.AsyncClient(timeout=30.0) as client:
        for municipality, auth, signing in residents:
            client.cookies.clear()
            await login_async(client, url, auth)
            cookie = client.cookies.get(SESSION_COOKIE)
            if cookie is None:
                msg = "the portal set no session cookie"
                raise RuntimeError(msg)
            page = await client.get(
                f"{url}/apply/{municipality}/{PROCEDURE}",
                headers={"Cookie": f"{SESSION_COOKIE}={cookie}"},
            )
            page.raise_for_status()
            token = _CSRF.search(page.text)
            if token is None:
                msg = "no CSRF token on the application form"
                raise RuntimeError(msg)
            applicants.append(Applicant(cookie, token.group(1), municipality, signing))
    return applicants


@dataclass(frozen=True, slots=True)
class _Phases:
    baseline: LoadStats
    full: LoadStats
    half: LoadStats
    verify_half: LoadStats
    signing_ms: float
    applicants: int


def _measure(
    url: str,
    residents: list[tuple[str, card.CardSession, card.CardSession]],
    *,
    duration: float,
    concurrency: int,
    console: Console,
) -> _Phases:
    console.print(f"Logging {len(residents)} residents in by card…")
    applicants = asyncio.run(_log_in(url, residents))
    submit = _Submissions(url, applicants, random.Random(SEED))  # noqa: S311

    async def trivial(client: httpx.AsyncClient) -> None:
        response = await client.get(f"{url}/healthz")
        response.raise_for_status()

    console.print("Warm-up: one submission per resident…")
    asyncio.run(closed_loop(submit, concurrency=1, duration=1.0))
    submit.reset()
    console.print(f"Trivial endpoint, {concurrency} clients, {duration:.0f} s…")
    baseline = asyncio.run(closed_loop(trivial, concurrency=concurrency, duration=duration))
    console.print(f"Submissions, {concurrency} clients, {duration:.0f} s…")
    full = asyncio.run(closed_loop(submit, concurrency=concurrency, duration=duration))
    submit.reset()
    half_rate = max(0.5, full.rate / 2)
    console.print(f"Submissions paced at half load ({half_rate:.1f}/s), {duration:.0f} s…")
    half = asyncio.run(
        paced_loop(submit, rate=half_rate, duration=duration, concurrency=concurrency * 4)
    )
    signing = sorted(submit.signing_s)
    signing_ms = signing[len(signing) // 2] * 1000 if signing else 0.0
    return _Phases(baseline, full, half, submit.verify, signing_ms, len(applicants))


def run(
    *,
    residents: int,
    duration: float,
    concurrency: int,
    workers: int,
    cards: int,
    database_url: str,
    console: Console,
) -> Result:
    """Run the signed-submission scenario and return its result."""
    configure_logging(level="WARNING", json=False)
    rng = random.Random(SEED)  # noqa: S311 - choosing benchmark residents, not secrets
    with tempfile.TemporaryDirectory(prefix="myna-bench-apply-") as tmp:
        data_dir = Path(tmp)
        url_db = database_url or f"sqlite:///{(data_dir / 'bench.db').as_posix()}"
        settings = bench_settings(data_dir, url_db)
        container = build_container(settings)
        console.print(f"Preparing the database ({residents:,} residents)…")
        started = time.perf_counter()
        runtime.prepare_database(container)
        with unit_of_work(container.session_factory) as session:
            registry.seed_population(session=session, residents=residents, seed=SEED)
        setup_s = time.perf_counter() - started
        console.print(f"Issuing {cards} cards to random residents…")
        card_ids = issue_cards(container, cards=cards, rng=rng)
        reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
        chosen: list[tuple[str, card.CardSession, card.CardSession]] = []
        with unit_of_work(container.session_factory) as session:
            for card_id in card_ids:
                holder = reader.read_certificate(card_id, "auth")
                record = jpki.certificate_status(session=session, serial=holder.serial_number)
                assert record.holder_id is not None  # noqa: S101 - a card certificate has one
                resident = registry.get_resident(session=session, resident_id=record.holder_id)
                chosen.append(
                    (
                        resident.municipality_code,
                        reader.open_session(card_id, "auth", runtime.DEMO_PIN),
                        reader.open_session(card_id, "sign", runtime.DEMO_PASSWORD),
                    )
                )
        container.engine.dispose()
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
                url, chosen, duration=duration, concurrency=concurrency, console=console
            )
    full, half, baseline = phases.full, phases.half, phases.baseline
    return Result(
        scenario="apply",
        rate_per_s=round(full.rate, 1),
        p50_ms=round(half.percentile(50), 1),
        p99_ms=round(half.percentile(99), 1),
        baseline_rate_per_s=round(baseline.rate, 1),
        ratio=round(full.rate / baseline.rate, 3) if baseline.rate else 0.0,
        details={
            "population": residents,
            "database": "postgresql" if url_db.startswith("postgresql") else "sqlite",
            "setup_s": round(setup_s, 1),
            "duration_s": duration,
            "concurrency": concurrency,
            "workers": workers,
            "applicants": phases.applicants,
            "submissions_full_load": full.done,
            "submissions_half_load": half.done,
            "errors": full.errors + half.errors,
            "error_samples": full.error_samples + half.error_samples,
            "full_load_p50_ms": round(full.percentile(50), 1),
            "full_load_p99_ms": round(full.percentile(99), 1),
            "verify_and_file_p50_ms": round(phases.verify_half.percentile(50), 1),
            "verify_and_file_p99_ms": round(phases.verify_half.percentile(99), 1),
            "client_cms_signing_ms": round(phases.signing_ms, 1),
        },
    )


def print_result(console: Console, result: Result) -> None:
    """The figures as a table."""
    table = Table(title="Signed e-application submissions (over HTTP)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    details = result.details
    rows = [
        ("submissions/s (full load)", f"{result.rate_per_s:,.1f}"),
        ("trivial endpoint req/s", f"{result.baseline_rate_per_s:,.1f}"),
        ("submission p50 / p99 at half load (ms)", f"{result.p50_ms} / {result.p99_ms}"),
        (
            "verify + file p50 / p99 at half load (ms)",
            f"{details['verify_and_file_p50_ms']} / {details['verify_and_file_p99_ms']}",
        ),
        ("client CMS signing (ms, median)", str(details["client_cms_signing_ms"])),
        ("errors", str(details["errors"])),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
