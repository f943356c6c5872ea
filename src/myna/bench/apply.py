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
import time
from dataclasses import dataclass, field
from typing import cast

import httpx
from rich.console import Console

from myna import card, jpki, registry, runtime
from myna.bench import harness, people
from myna.bench.harness import LoadStats, Result
from myna.platform.db import unit_of_work
from myna.platform.encoding import b64url
from myna.platform.logging import configure_logging

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
        headers = people.session_header(who.cookie)
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

    def share(self, index: int, count: int) -> None:
        """A client process of ``count``: residents of its own, so none signs twice at once."""
        part = self.applicants[index::count]
        self.applicants = part or [self.applicants[index % len(self.applicants)]]
        self.rng = random.Random(people.SEED + index)  # noqa: S311
        self._free = None
        self.reset()

    def tally(self) -> object:
        """This client process's verification times and signing times."""
        return (self.verify, self.signing_s)

    def absorb(self, tally: object) -> None:
        """Add a client process's verification and signing times."""
        verify, signing_s = cast("tuple[LoadStats, list[float]]", tally)
        self.verify = harness.merged([self.verify, verify])
        self.signing_s += signing_s


async def _log_in(
    url: str, residents: list[tuple[str, card.CardSession, card.CardSession]]
) -> list[Applicant]:
    """Each card logs in once over HTTP; its session, CSRF token and signing key."""
    applicants: list[Applicant] = []
    async with httpx.AsyncClient(timeout=30.0) as client:
        for municipality, auth, signing in residents:
            cookie = await people.log_in(client, url, auth)
            page = await client.get(
                f"{url}/apply/{municipality}/{PROCEDURE}", headers=people.session_header(cookie)
            )
            page.raise_for_status()
            token = _CSRF.search(page.text)
            if token is None:
                msg = "no CSRF token on the application form"
                raise RuntimeError(msg)
            applicants.append(Applicant(cookie, token.group(1), municipality, signing))
    return applicants


def _card_holders(
    space: harness.Workspace, *, cards: int, console: Console
) -> list[tuple[str, card.CardSession, card.CardSession]]:
    """Cards for random residents: each one's municipality and its two keys, opened."""
    console.print(f"Issuing {cards} cards to random residents…")
    rng = random.Random(people.SEED)  # noqa: S311 - choosing benchmark residents, not secrets
    card_ids = people.issue_cards(space.container, cards=cards, rng=rng)
    reader = people.card_reader(space.settings)
    chosen: list[tuple[str, card.CardSession, card.CardSession]] = []
    with unit_of_work(space.container.session_factory) as session:
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
    return chosen


def run(
    *,
    residents: int,
    duration: float,
    concurrency: int,
    workers: int,
    cards: int,
    database_url: str,
    console: Console,
    clients: int = 1,
) -> Result:
    """Run the signed-submission scenario and return its result."""
    configure_logging(level="WARNING", json=False)
    load = harness.Load(concurrency, duration, console, clients)
    with harness.workspace("myna-bench-apply-", database_url) as space:
        # A fresh population: the scenario does not take --reuse.
        population = people.seed_population(
            space.container, console, residents=residents, reuse=False, agency_data=False
        )
        holders = _card_holders(space, cards=cards, console=console)
        space.container.engine.dispose()
        env = space.server_env(MYNA_LOGIN_RATE_LIMIT=harness.UNLIMITED)
        with harness.portal_server(env, workers=workers) as server:
            url = server.url
            console.print(f"Logging {len(holders)} residents in by card…")
            applicants = asyncio.run(_log_in(url, holders))
            submit = _Submissions(url, applicants, random.Random(people.SEED))  # noqa: S311
            console.print("Warm-up: one submission per resident…")
            asyncio.run(harness.closed_loop(submit, concurrency=1, duration=1.0))
            submit.reset()
            before = server.cpu_seconds()
            baseline = harness.baseline_phase(url, load)
            trivial_cpu = server.cpu_seconds() - before
            before = server.cpu_seconds()
            full, half = harness.full_and_half_load(
                submit, "Submissions", load, min_rate=0.5, before_half=lambda _: submit.reset()
            )
            busy_cpu = server.cpu_seconds() - before
    signing = sorted(submit.signing_s)
    signing_ms = signing[len(signing) // 2] * 1000 if signing else 0.0
    result = Result.of_load(
        "apply",
        full=full,
        half=half,
        baseline=baseline,
        details={
            "population": residents,
            "database": harness.database_kind(space.database_url),
            "setup_s": round(population.setup_s, 1),
            **harness.load_settings(duration, concurrency, workers, clients),
            "applicants": len(applicants),
            "submissions_full_load": full.done,
            "submissions_half_load": half.done,
            "errors": full.errors + half.errors,
            "error_samples": full.error_samples + half.error_samples,
            "full_load_p50_ms": round(full.percentile(50), 1),
            "full_load_p99_ms": round(full.percentile(99), 1),
            "verify_and_file_p50_ms": round(submit.verify.percentile(50), 1),
            "verify_and_file_p99_ms": round(submit.verify.percentile(99), 1),
            "client_cms_signing_ms": round(signing_ms, 1),
            "server_cpu_ms_per_submission": harness.cpu_ms_per(busy_cpu, full, half),
            "server_cpu_ms_per_trivial_request": harness.cpu_ms_per(trivial_cpu, baseline),
        },
    )
    _print(console, result)
    return result


def _print(console: Console, result: Result) -> None:
    details = result.details
    verify = f"{details['verify_and_file_p50_ms']} / {details['verify_and_file_p99_ms']}"
    harness.print_measures(
        console,
        "Signed e-application submissions (over HTTP)",
        [
            ("submissions/s (full load)", f"{result.rate_per_s:,.1f}"),
            ("trivial endpoint req/s", f"{result.baseline_rate_per_s:,.1f}"),
            ("submission p50 / p99 at half load (ms)", f"{result.p50_ms} / {result.p99_ms}"),
            ("verify + file p50 / p99 at half load (ms)", verify),
            ("client CMS signing (ms, median)", str(details["client_cms_signing_ms"])),
            ("server CPU per submission (ms)", str(details["server_cpu_ms_per_submission"])),
            ("errors", str(details["errors"])),
        ],
    )
