"""`myna bench login`: full card logins over HTTP against a fresh server.

The database is a fresh SQLite file, or the one ``--database-url`` names, used as it is
(a population seeded beforehand with ``myna seed``, say: the result gives its size).

A login is two requests (challenge, answer), a certificate chain and revocation
check, a signature verification, a session rotation and durable audit rows. The
same run measures the server's trivial endpoint and the raw RSA-2048 verify rate of
``cryptography`` on this machine, so the figures can be compared across machines.
"""

from __future__ import annotations

import time

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from rich.console import Console

from myna import registry, runtime
from myna.bench import harness, people
from myna.bench.harness import Result
from myna.platform.db import unit_of_work
from myna.reader.client import Signer, login_async

BARE = "myna.bench.bare:create_bare_app"


def rsa_verify_rate(seconds: float = 1.0) -> float:
    """RSA-2048 PKCS#1 v1.5 SHA-256 verifications per second, single thread."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = b"myna-bench"
    signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    public = key.public_key()
    count = 0
    stop_at = time.perf_counter() + seconds
    began = time.perf_counter()
    while time.perf_counter() < stop_at:
        for _ in range(50):
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        count += 50
    return count / (time.perf_counter() - began)


def _prepare(space: harness.Workspace) -> tuple[Signer, int]:
    """A card for the persona taro; and the population the logins run against."""
    container = space.container
    runtime.prepare_database(container)
    with unit_of_work(container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"]
        summary = runtime.issue_demo_card(session, space.settings, taro.id)
    with unit_of_work(container.session_factory) as session:
        population = registry.count_residents(session=session)
    container.engine.dispose()
    return people.auth_signers(space.settings, [summary.card_id])[0], population


def run(
    *,
    duration: float,
    concurrency: int,
    workers: int,
    database_url: str,
    console: Console,
    clients: int = 1,
) -> Result:
    """Run the login scenario and return its result."""
    load = harness.Load(concurrency, duration, console, clients)
    with harness.workspace("myna-bench-", database_url) as space:
        # A fresh SQLite file, or the database given as it is (a seeded population, say).
        console.print("Preparing the database and a card…")
        signer, population = _prepare(space)
        env = space.server_env(MYNA_LOGIN_RATE_LIMIT=harness.UNLIMITED)
        console.print(f"Bare FastAPI app, trivial endpoint, {concurrency} clients…")
        sock = harness.bound_socket()
        with harness.server_process(env, sock=sock, workers=workers, factory=BARE) as bare_server:
            trivial = harness.get_ok(f"{bare_server.url}/healthz")
            bare_before = bare_server.cpu_seconds()
            bare = harness.closed_load(trivial, load)
            bare_cpu = bare_server.cpu_seconds() - bare_before
        with harness.portal_server(env, workers=workers) as server:
            url = server.url

            async def login(client: httpx.AsyncClient) -> None:
                client.cookies.clear()
                await login_async(client, url, signer)

            reading = server.cpu()
            baseline = harness.baseline_phase(url, load)
            trivial_cpu = reading.until(server.cpu())
            reading = server.cpu()
            full, half = harness.full_and_half_load(login, "Card logins", load)
            login_cpu = reading.until(server.cpu())
        console.print("Raw RSA-2048 verify rate…")
        verify_rate = rsa_verify_rate()
    result = Result.of_load(
        "login",
        full=full,
        half=half,
        baseline=baseline,
        details={
            **harness.load_settings(duration, concurrency, workers, clients),
            "database": harness.database_kind(space.database_url),
            "population": population,
            "full_load_p50_ms": round(full.percentile(50), 1),
            "full_load_p99_ms": round(full.percentile(99), 1),
            "full_load_errors": full.errors,
            "half_load_rate_per_s": round(half.rate, 1),
            "half_load_errors": half.errors,
            "errors": bare.errors + baseline.errors + full.errors + half.errors,
            "error_samples": sorted(
                {sample for stats in (bare, baseline, full, half) for sample in stats.error_samples}
            ),
            "baseline_p50_ms": round(baseline.percentile(50), 1),
            "bare_fastapi_rate_per_s": round(bare.rate, 1),
            "trivial_vs_bare": round(baseline.rate / bare.rate, 3) if bare.rate else 0.0,
            "server_cpu_ms_per_login": harness.cpu_ms_per(login_cpu.server_s, full, half),
            "server_cpu_ms_per_trivial_request": harness.cpu_ms_per(trivial_cpu.server_s, baseline),
            "database_cpu_ms_per_login": harness.cpu_ms_per(login_cpu.database_s, full, half),
            "database_cpu_ms_per_trivial_request": harness.cpu_ms_per(
                trivial_cpu.database_s, baseline
            ),
            "bare_fastapi_cpu_ms_per_request": harness.cpu_ms_per(bare_cpu, bare),
            "rsa2048_verify_per_s": round(verify_rate, 0),
        },
    )
    phases = {"bare FastAPI, trivial": bare, **harness.load_phases("login", baseline, full, half)}
    harness.print_phases(console, "myna bench login", phases)
    console.print(
        f"logins/s ÷ trivial req/s = {result.ratio:.1%} (goal ≥ 20 %); "
        f"p99 at half load = {result.p99_ms} ms (goal ≤ 150 ms); "
        f"RSA-2048 verify = {result.details['rsa2048_verify_per_s']:.0f}/s; "
        f"trivial endpoint = {result.details['trivial_vs_bare']:.0%} of bare FastAPI's rate "
        "(goal ≥ 67 %); server CPU "
        f"{result.details['server_cpu_ms_per_login']} ms per login (goal ≤ 3 ms), "
        f"{result.details['server_cpu_ms_per_trivial_request']} ms per trivial request "
        "(goal ≤ 0.3 ms)"
        f"{harness.database_cpu_note(result.details['database_cpu_ms_per_login'], 'login')}; "
        f"population {result.details['population']:,}"
    )
    return result
