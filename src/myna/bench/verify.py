"""`myna bench verify`: revocation statuses per second for JPKI verifiers, over HTTP.

One operation is one ``POST /api/jpki/v1/status`` by a registered verifier with a batch
of ``batch`` serial numbers of signing certificates (docs/api/verifiers.md): the
request's JWS (ES256, the verifier's government-CA certificate in ``x5c``: chain,
validity, revocation), the verifier's registration and kind, the request's freshness and
id (once only); then the batch read in one query under the signing CA, consistent with
its current CRL, and the billed statuses written to the verifier's usage — one
transaction. The figure that matters is serials per second (the goal:
:data:`GOAL_SERIALS_PER_S` on one machine).

Phases:

1. setup (not timed): the CAs; ``certificates`` signing certificates issued by the
   signing CA (one RSA key behind all of them: the CA's work is the same), every
   :data:`REVOKED_EVERY`-th revoked for loss; a verifier of both kinds registered with a
   key certified by the government CA; the portal started in a subprocess; a warm-up of
   :data:`WARM_UP` batches one after another;
2. baseline: the trivial endpoint (``GET /healthz``) back to back;
3. batches back to back at ``concurrency`` clients, each ``batch`` random serials of which
   one in :data:`UNKNOWN_EVERY` is a serial no CA issued;
4. batches paced at half the rate phase 3 reached (open loop).

Every answer is checked item by item against what was issued and revoked; one that
differs counts as an error. The load generator signs each request as it sends it (about
0.1 ms) and shares the cores with the server, so the server CPU per batch — read from
``/proc`` around phases 3–4 — is the figure that holds on a machine of its own.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from rich.console import Console

from myna import jpki, runtime
from myna.bench import harness
from myna.bench.harness import LoadStats, Result
from myna.bootstrap import Container
from myna.jpki import verifiers
from myna.jpki.verifier_domain import BillingMonth
from myna.jpki.verifier_identity import VerifierIdentity
from myna.platform.db import unit_of_work
from myna.platform.logging import configure_logging

STATUS = "/api/jpki/v1/status"
JOSE = {"content-type": "application/jose"}
SEED = 1
WARM_UP = 50
"""Batches before the phases: the server process's first ones are cold."""
GOAL_SERIALS_PER_S = 20_000.0
"""Serial numbers answered per second that the service is meant to reach on one machine."""
REVOKED_EVERY = 10
UNKNOWN_EVERY = 20
_BIRTH_DATE = date(1980, 4, 1)
_BASIC_INFO = jpki.BasicInfo(
    name="ベンチ 太郎",
    name_substitute="ベンチ 太郎",
    sex=1,
    birth_date=_BIRTH_DATE,
    address="東京都千代田区霞が関一丁目1番1号",
)


class StatusMismatchError(Exception):
    """An answer other than the one expected: a refusal, or a status that is not the truth."""


def _issue(container: Container, count: int, console: Console) -> dict[str, str]:
    """``count`` signing certificates, every :data:`REVOKED_EVERY`-th revoked: serial → status."""
    console.print(f"Issuing {count:,} signing certificates ({100 // REVOKED_EVERY}% revoked)…")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    truth: dict[str, str] = {}
    with unit_of_work(container.session_factory) as session:
        for number in range(count):
            certificate = jpki.issue_certificate(
                session=session,
                settings=container.settings,
                kind=jpki.CertificateKind.SIGN,
                public_key=key,
                holder_id=number + 1,
                card_id=f"bench-card-{number + 1:07d}",
                birth_date=_BIRTH_DATE,
                basic_info=_BASIC_INFO,
            )
            status = "good"
            if number % REVOKED_EVERY == REVOKED_EVERY - 1:
                jpki.revoke_certificate(
                    session=session,
                    serial=certificate.serial_number,
                    reason=jpki.RevocationReason.LOSS,
                )
                status = "revoked"
            truth[f"{certificate.serial_number:x}"] = status
    return truth


def _register_verifier(container: Container) -> VerifierIdentity:
    """A verifier of both kinds under a code of its own for this run."""
    key = ec.generate_private_key(ec.SECP256R1())
    with unit_of_work(container.session_factory) as session:
        found, certificate = verifiers.register_verifier(
            session=session,
            settings=container.settings,
            code=f"bench-{secrets.token_hex(3)}",
            name="ベンチ検証株式会社",
            kind="both",
            public_key=key.public_key(),
        )
    return VerifierIdentity(
        code=found.code,
        name=found.name,
        kind=found.kind.value,
        platform=found.platform,
        organization_code=found.organization_code,
        private_key=key,
        certificate=certificate,
    )


@dataclass
class _Batches:
    """The status operation for the load loops: ``batch`` serials, each answer checked."""

    url: str
    verifier: VerifierIdentity
    truth: dict[str, str]
    batch: int
    rng: random.Random
    answered: int = 0
    billed: int = 0

    def __post_init__(self) -> None:
        self.serials = list(self.truth)

    def _draw(self) -> list[str]:
        chosen = self.rng.sample(self.serials, min(self.batch, len(self.serials)))
        # One in UNKNOWN_EVERY is a serial no CA issued (160 random bits, top bit clear).
        return [
            f"{self.rng.getrandbits(159):x}" if index % UNKNOWN_EVERY == 0 else serial
            for index, serial in enumerate(chosen)
        ]

    async def ask(self, client: httpx.AsyncClient, serials: list[str]) -> None:
        """Send one batch; refused unless every status is the truth."""
        token = self.verifier.status_request("sign", serials)
        response = await client.post(f"{self.url}{STATUS}", content=token, headers=JOSE)
        if response.status_code != 200:
            try:
                reason = response.json().get("error", "")
            except ValueError:
                reason = response.text[:80]
            msg = f"{response.status_code} {reason}"
            raise StatusMismatchError(msg)
        answer: dict[str, Any] = response.json()
        items = answer["items"]
        statuses = [item["status"] for item in items]
        expected = [self.truth.get(serial, "unknown") for serial in serials]
        if statuses != expected or [item["serial"] for item in items] != serials:
            msg = f"statuses differ from what was issued (CRL {answer.get('crl_number')})"
            raise StatusMismatchError(msg)
        self.answered += 1
        self.billed += int(answer["billed_items"])

    async def __call__(self, client: httpx.AsyncClient) -> None:
        await self.ask(client, self._draw())

    async def warm_up(self) -> LoadStats:
        """:data:`WARM_UP` batches one after another."""
        return await harness.in_turn(self.ask, [self._draw() for _ in range(WARM_UP)])


def _billed(container: Container, code: str, months: set[BillingMonth]) -> int:
    """The statuses on the verifier's statements of ``months``, as J-LIS would bill them."""
    with unit_of_work(container.session_factory) as session:
        return sum(
            line.count
            for month in months
            for line in verifiers.statement(session=session, code=code, month=month).lines
        )


def run(*, plan: harness.Plan, certificates: int, batch: int, console: Console) -> Result:
    """Run the revocation-status scenario and return its result."""
    # Seeding and the CA log at INFO: the console is for the figures.
    configure_logging(level="WARNING", json=False)
    load = plan.load(console)
    with harness.workspace("myna-bench-verify-", plan.database_url) as space:
        console.print("Preparing the database and the certificate authorities…")
        runtime.prepare_database(space.container)
        truth = _issue(space.container, certificates, console)
        verifier = _register_verifier(space.container)
        space.container.engine.dispose()
        env = space.server_env(
            MYNA_JPKI_VERIFIER_RATE_LIMIT=harness.UNLIMITED,
            MYNA_JPKI_STATUS_MAX_SERIALS=str(max(batch, 1000)),
        )
        began = datetime.now(UTC)
        with harness.portal_server(env, workers=plan.workers) as server:
            batches = _Batches(server.url, verifier, truth, batch, random.Random(SEED))  # noqa: S311
            measured = harness.measure(
                server,
                batches,
                f"Batches of {batch} serials",
                load,
                warm_up=f"{WARM_UP} batches one after another",
            )
        months = {BillingMonth.of(began), BillingMonth.of(datetime.now(UTC))}
        billed = _billed(space.container, verifier.code, months)
        space.container.engine.dispose()
    result = _result(plan, space.database_url, measured, batches, certificates, billed)
    harness.print_phases(console, "myna bench verify", measured.phases("batch"))
    _print_summary(console, result)
    return result


def _result(
    plan: harness.Plan,
    database_url: str,
    measured: harness.Measured,
    batches: _Batches,
    certificates: int,
    billed: int,
) -> Result:
    serials_per_s = measured.full.rate * batches.batch
    return Result.of_load(
        "verify",
        full=measured.full,
        half=measured.half,
        baseline=measured.baseline,
        details={
            "database": harness.database_kind(database_url),
            **harness.load_settings(plan.duration, plan.concurrency, plan.workers),
            **measured.details("batch"),
            "batch": batches.batch,
            "certificates": certificates,
            "revoked_share": round(1 / REVOKED_EVERY, 3),
            "unknown_share": round(1 / UNKNOWN_EVERY, 3),
            "serials_per_s": round(serials_per_s, 1),
            "half_load_serials_per_s": round(measured.half.rate * batches.batch, 1),
            "goal_serials_per_s": GOAL_SERIALS_PER_S,
            "server_cpu_us_per_serial": round(
                measured.cpu_ms_per_operation * 1000 / batches.batch, 1
            ),
            "batches_answered": batches.answered,
            "statuses_billed_as_answered": batches.billed,
            "statuses_on_the_statement": billed,
        },
    )


def _print_summary(console: Console, result: Result) -> None:
    details = result.details
    console.print(
        f"{details['serials_per_s']:,.0f} serials/s at full load in batches of "
        f"{details['batch']} (goal ≥ {GOAL_SERIALS_PER_S:,.0f}); p50 / p95 / p99 at half "
        f"load = {result.p50_ms} / {details['p95_ms']} / {result.p99_ms} ms, p99 at full "
        f"load = {details['full_load_p99_ms']} ms; server CPU "
        f"{details['server_cpu_ms_per_batch']} ms per batch "
        f"({details['server_cpu_us_per_serial']} µs per serial), "
        f"{details['server_cpu_ms_per_trivial_request']} ms per trivial request; "
        f"{details['statuses_on_the_statement']:,} statuses on the verifier's statement"
    )
