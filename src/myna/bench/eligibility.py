"""`myna bench eligibility`: card-based オンライン資格確認 at a clinic's counter over HTTP.

One confirmation is the counter's whole exchange with the service, four signed requests
by the institution: open a reception (``POST /api/medical/v1/visits``), the card's answer
(its PIN-unlocked signature over the visit's challenge: JPKI chain, validity and
revocation checked, the signature verified, the マイナ保険証 registration found), the
patient's consents (all three given), and the result — the coverage, medicines,
treatments and checkups asked of the person's insurer through the hub, each item logged.

Phases, against a population of ``residents`` people with their agencies' data:

1. setup (not timed): registry and agency data seeded the ``myna seed`` way, cards
   issued to random residents, each card registered as マイナ保険証 (residents without
   coverage cannot register and are left out), one clinic registered, the portal started
   in a subprocess, one warm-up confirmation per card;
2. baseline: the trivial endpoint (``GET /healthz``) back to back;
3. confirmations back to back at ``concurrency`` clients, each with a random card;
4. confirmations paced at half the rate phase 3 reached (open loop).

The load generator signs on the same machine (the card's RSA signature and the clinic's
ES256 JWS per request), so it shares the cores with the server.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from rich.console import Console

from myna import jpki
from myna.bench import harness, people
from myna.bench.harness import LoadStats, Result
from myna.bootstrap import Container
from myna.card.protocol import counter_message
from myna.counter.identity import InstitutionIdentity
from myna.medical import service as medical
from myna.medical.domain import InstitutionCode, ScoreTable
from myna.platform.db import unit_of_work
from myna.platform.logging import configure_logging
from myna.reader.client import Signer

CLINIC_NAME = "ベンチ内科クリニック"
API = "/api/medical/v1"
JOSE = {"content-type": "application/jose"}


class ConfirmationFailedError(Exception):
    """A confirmation whose answer was not a valid coverage with what was consented."""


def _register_clinic(container: Container, rng: random.Random) -> InstitutionIdentity:
    """A clinic of its own for this run (a reused database keeps earlier runs' clinics)."""
    key = ec.generate_private_key(ec.SECP256R1())
    with unit_of_work(container.session_factory) as session:
        while True:
            code = InstitutionCode.build(
                prefecture="13",
                table=ScoreTable.MEDICAL,
                district="01",
                number=f"{rng.randrange(1, 10_000):04d}",
            ).value
            if medical.institution(session=session, code=code) is None:
                break
        found, certificate = medical.register_institution(
            session=session,
            settings=container.settings,
            code=code,
            name=CLINIC_NAME,
            public_key=key.public_key(),
        )
    return InstitutionIdentity(found.code, found.name, key, certificate)


def _enrol(container: Container, card_ids: list[str]) -> list[str]:
    """Register each card's holder as マイナ保険証; the cards whose holders could."""
    reader = people.card_reader(container.settings)
    enrolled: list[str] = []
    for card_id in card_ids:
        try:
            with unit_of_work(container.session_factory) as session:
                holder = jpki.verify_certificate(
                    session=session,
                    settings=container.settings,
                    certificate=reader.read_certificate(card_id, "auth"),
                    kind=jpki.CertificateKind.AUTH,
                ).holder_id
                medical.enrol(session=session, hub=container.hub_for(session), resident_id=holder)
        except medical.AlreadyEnrolledError:
            pass  # registered by an earlier run on a reused database
        except medical.NoCoverageError:
            continue
        enrolled.append(card_id)
    return enrolled


@dataclass
class _Confirmations:
    """The confirmation operation for the load loops, with random cards."""

    url: str
    clinic: InstitutionIdentity
    signers: list[Signer]
    rng: random.Random
    records: int = 0
    done: int = 0
    certificates: dict[int, str] = field(default_factory=dict)

    async def _post(self, client: httpx.AsyncClient, path: str, token: str) -> dict[str, Any]:
        response = await client.post(f"{self.url}{API}{path}", content=token, headers=JOSE)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def confirm(self, client: httpx.AsyncClient, signer: Signer) -> None:
        """One confirmation with ``signer``'s card, all consents given."""
        visit = await self._post(client, "/visits", self.clinic.sign("visit"))
        message = counter_message(
            institution_code=self.clinic.code, visit_id=visit["visit_id"], nonce=visit["nonce"]
        )
        certificate = self.certificates.setdefault(
            id(signer),
            base64.b64encode(signer.certificate.public_bytes(Encoding.DER)).decode(),
        )
        await self._post(
            client,
            "/visits/card",
            self.clinic.sign(
                "card",
                visit_id=visit["visit_id"],
                method="pin",
                certificate=certificate,
                signature=base64.b64encode(signer.sign(message)).decode(),
            ),
        )
        await self._post(
            client,
            "/visits/consents",
            self.clinic.sign(
                "consent", visit_id=visit["visit_id"], medication=True, checkup=True, limit=True
            ),
        )
        answer = await self._post(
            client, "/visits/result", self.clinic.sign("result", visit_id=visit["visit_id"])
        )
        if answer["coverage"] is None or answer["medications"] is None:
            raise ConfirmationFailedError(str(answer.get("status")))
        self.done += 1
        self.records += len(answer["medications"]) + len(answer["checkups"] or [])

    async def __call__(self, client: httpx.AsyncClient) -> None:
        await self.confirm(client, self.rng.choice(self.signers))

    async def warm_up(self) -> LoadStats:
        """One confirmation per card, in turn (the process's first ones are cold)."""
        stats = await harness.in_turn(self.confirm, self.signers)
        self.records = self.done = 0
        return stats


def run(*, plan: harness.Plan, cards: int, console: Console) -> Result:
    """Run the eligibility scenario and return its result."""
    configure_logging(level="WARNING", json=False)
    rng = random.Random(people.SEED)  # noqa: S311 - choosing benchmark residents, not secrets
    with harness.workspace("myna-bench-eligibility-", plan.database_url) as space:
        population = people.seed_population(
            space.container, console, residents=plan.residents, reuse=plan.reuse, agency_data=True
        )
        console.print(f"Issuing {cards} cards and registering them as マイナ保険証…")
        card_ids = _enrol(
            space.container, people.issue_cards(space.container, cards=cards, rng=rng)
        )
        clinic = _register_clinic(space.container, random.Random())  # noqa: S311
        space.container.engine.dispose()
        signers = people.auth_signers(space.settings, card_ids)
        with harness.portal_server(space.server_env(), workers=plan.workers) as server:
            confirm = _Confirmations(server.url, clinic, signers, random.Random(people.SEED))  # noqa: S311
            measured = harness.measure(
                server,
                confirm,
                "Confirmations",
                plan.load(console),
                warm_up="one confirmation per card",
            )
    result = measured.result(
        "eligibility",
        "confirmation",
        plan=plan,
        population=population,
        database_url=space.database_url,
        details={
            "cards_registered": len(signers),
            "records_per_confirmation": round(confirm.records / confirm.done, 2)
            if confirm.done
            else 0.0,
        },
    )
    harness.print_phases(console, "myna bench eligibility", measured.phases("confirmation"))
    console.print(
        f"population {result.details['population']} ({result.details['database']}); "
        f"{result.details['records_per_confirmation']} medicines and checkups per confirmation; "
        f"confirmations/s ÷ trivial req/s = {result.ratio:.1%}; "
        f"p99 at half load = {result.p99_ms} ms (goal ≤ 100 ms); server CPU "
        f"{measured.cpu_ms_per_operation:.1f} ms per confirmation, "
        f"{measured.cpu_ms_per_trivial_request:.2f} ms per trivial request"
        f"{harness.database_cpu_note(measured.database_cpu_ms_per_operation, 'confirmation')}"
    )
    return result
