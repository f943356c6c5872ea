"""The people of a benchmark: a seeded population, cards for some, their logins over HTTP."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from rich.console import Console

from myna import card, registry, runtime
from myna.bootstrap import Container
from myna.platform.db import unit_of_work
from myna.platform.sessions import RESIDENT
from myna.platform.settings import Settings
from myna.reader.client import Signer, login_async

SEED = 1
SESSION_COOKIE = RESIDENT.cookie


@dataclass(frozen=True, slots=True)
class Population:
    """The residents a scenario runs against and what preparing them took."""

    size: int
    reused: bool
    setup_s: float


def seed_population(
    container: Container, console: Console, *, residents: int, reuse: bool, agency_data: bool
) -> Population:
    """Migrate and seed (the ``myna seed`` way) up to ``residents`` people.

    With ``reuse``, a database that already holds that many is taken as it is, and one
    that holds fewer is topped up.
    """
    with_data = " with agency data" if agency_data else ""
    console.print(f"Preparing the database ({residents:,} residents{with_data})…")
    began = time.perf_counter()
    runtime.prepare_database(container)
    with unit_of_work(container.session_factory) as session:
        existing = registry.count_residents(session=session)
        before = registry.max_household_id(session=session)
    if reuse and existing >= residents:
        console.print(f"Reusing the database: {existing:,} residents, no seeding.")
        return Population(existing, reused=True, setup_s=time.perf_counter() - began)
    wanted = residents - existing if reuse else residents
    started = time.perf_counter()
    runtime.seed_residents(container, console, residents=wanted, seed=SEED)
    console.print(f"registry: {wanted:,} residents in {time.perf_counter() - started:.1f} s")
    if agency_data:
        started = time.perf_counter()
        runtime.seed_agency_data(container, console, after_household_id=before, seed=SEED)
        console.print(f"agency data in {time.perf_counter() - started:.1f} s")
    with unit_of_work(container.session_factory) as session:
        size = registry.count_residents(session=session)
    return Population(size, reused=False, setup_s=time.perf_counter() - began)


def _anyone(_resident: registry.ResidentRead) -> bool:
    return True


def sample_residents(
    container: Container,
    *,
    count: int,
    rng: random.Random,
    eligible: Callable[[registry.ResidentRead], bool] = _anyone,
) -> list[registry.ResidentRead]:
    """Up to ``count`` distinct active, ``eligible`` residents of random households."""
    with unit_of_work(container.session_factory) as session:
        last_household = registry.max_household_id(session=session)
        chosen: dict[int, registry.ResidentRead] = {}
        attempts = 0
        while len(chosen) < count and attempts < count * 20:
            attempts += 1
            members = registry.household_members(
                session=session, household_id=rng.randint(1, last_household)
            )
            candidates = [
                m
                for m in members
                if m.status == registry.ResidentStatus.ACTIVE and m.id not in chosen and eligible(m)
            ]
            if candidates:
                resident = rng.choice(candidates)
                chosen[resident.id] = resident
    return list(chosen.values())


def issue_cards(
    container: Container,
    *,
    cards: int,
    rng: random.Random,
    eligible: Callable[[registry.ResidentRead], bool] = _anyone,
) -> list[str]:
    """Cards (demo PIN and password) for random active, ``eligible`` residents; their ids."""
    card_ids: list[str] = []
    for resident in sample_residents(container, count=cards, rng=rng, eligible=eligible):
        with unit_of_work(container.session_factory) as session:
            summary = runtime.issue_demo_card(session, container.settings, resident.id)
        card_ids.append(summary.card_id)
    return card_ids


def card_reader(settings: Settings) -> card.VirtualCardReader:
    """The virtual reader holding the platform's cards."""
    return card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())


def auth_signers(settings: Settings, card_ids: list[str]) -> list[Signer]:
    """Each card's authentication key, opened with the demo PIN."""
    reader = card_reader(settings)
    return [reader.open_session(card_id, "auth", runtime.DEMO_PIN) for card_id in card_ids]


async def log_in(client: httpx.AsyncClient, url: str, signer: Signer) -> str:
    """A card login over HTTP from an empty cookie jar; the portal's session cookie."""
    client.cookies.clear()
    await login_async(client, url, signer)
    cookie = client.cookies.get(SESSION_COOKIE)
    if cookie is None:
        msg = "the portal set no session cookie"
        raise RuntimeError(msg)
    return cookie


def session_header(cookie: str) -> dict[str, str]:
    """The request header that carries a session cookie."""
    return {"Cookie": f"{SESSION_COOKIE}={cookie}"}
