"""`myna bench login`: full card logins over HTTP against a fresh server.

A login is two requests (challenge, answer), a certificate chain and revocation
check, a signature verification, a session rotation and durable audit rows. The
same run measures the server's trivial endpoint and the raw RSA-2048 verify rate of
``cryptography`` on this machine, so the figures can be compared across machines.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from rich.console import Console
from rich.table import Table

from myna import card, registry
from myna.bench.harness import (
    BENCH_SECRETS,
    LoadStats,
    Operation,
    Result,
    bench_settings,
    bound_socket,
    closed_loop,
    paced_loop,
    port_of,
    server_process,
)
from myna.bootstrap import build_container
from myna.platform.db import unit_of_work
from myna.reader.client import Signer, login_async
from myna.runtime import DEMO_PASSWORD, DEMO_PIN, prepare_database

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


def _prepare(data_dir: Path, database_url: str) -> tuple[dict[str, str], Signer]:
    env = {
        **BENCH_SECRETS,
        "MYNA_ENVIRONMENT": "production",
        "MYNA_DATA_DIR": str(data_dir),
        "MYNA_DATABASE_URL": database_url,
        "MYNA_LOGIN_RATE_LIMIT": "10000000/minute",
        "MYNA_LOG_LEVEL": "WARNING",
    }
    settings = bench_settings(data_dir, database_url)
    container = build_container(settings)
    prepare_database(container)
    with unit_of_work(container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"]
        summary = card.issue_card(
            session=session,
            settings=settings,
            resident_id=taro.id,
            pin=DEMO_PIN,
            password=DEMO_PASSWORD,
        )
    container.engine.dispose()
    reader = card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value())
    return env, reader.open_session(summary.card_id, "auth", DEMO_PIN)


def run(
    *,
    duration: float,
    concurrency: int,
    workers: int,
    database_url: str,
    console: Console,
) -> Result:
    """Run the login scenario and return its result."""
    with tempfile.TemporaryDirectory(prefix="myna-bench-") as tmp:
        data_dir = Path(tmp)
        url_db = database_url or f"sqlite:///{(data_dir / 'bench.db').as_posix()}"
        console.print("Preparing a fresh database and a card…")
        env, signer = _prepare(data_dir, url_db)
        console.print(f"Bare FastAPI app, trivial endpoint, {concurrency} clients…")
        with server_process(env, sock=bound_socket(), workers=workers, factory=BARE) as bare_url:
            bare = asyncio.run(
                closed_loop(_get(f"{bare_url}/healthz"), concurrency=concurrency, duration=duration)
            )
        sock = bound_socket()
        port = port_of(sock)
        env["MYNA_PORTAL_URL"] = f"http://127.0.0.1:{port}"
        with server_process(env, sock=sock, workers=workers) as url:

            async def trivial(client: httpx.AsyncClient) -> None:
                response = await client.get(f"{url}/healthz")
                response.raise_for_status()

            async def login(client: httpx.AsyncClient) -> None:
                client.cookies.clear()
                await login_async(client, url, signer)

            console.print(f"Trivial endpoint, {concurrency} clients, {duration:.0f} s…")
            baseline = asyncio.run(closed_loop(trivial, concurrency=concurrency, duration=duration))
            console.print(f"Card logins, {concurrency} clients, {duration:.0f} s…")
            full = asyncio.run(closed_loop(login, concurrency=concurrency, duration=duration))
            half_rate = max(1.0, full.rate / 2)
            console.print(f"Card logins paced at half load ({half_rate:.0f}/s), {duration:.0f} s…")
            half = asyncio.run(
                paced_loop(login, rate=half_rate, duration=duration, concurrency=concurrency * 4)
            )
        console.print("Raw RSA-2048 verify rate…")
        verify_rate = rsa_verify_rate()
    result = Result(
        scenario="login",
        rate_per_s=round(full.rate, 1),
        p50_ms=round(half.percentile(50), 1),
        p99_ms=round(half.percentile(99), 1),
        baseline_rate_per_s=round(baseline.rate, 1),
        ratio=round(full.rate / baseline.rate, 3) if baseline.rate else 0.0,
        details={
            "duration_s": duration,
            "concurrency": concurrency,
            "workers": workers,
            "database": "postgresql" if url_db.startswith("postgresql") else "sqlite",
            "full_load_p50_ms": round(full.percentile(50), 1),
            "full_load_p99_ms": round(full.percentile(99), 1),
            "full_load_errors": full.errors,
            "half_load_rate_per_s": round(half.rate, 1),
            "half_load_errors": half.errors,
            "baseline_p50_ms": round(baseline.percentile(50), 1),
            "bare_fastapi_rate_per_s": round(bare.rate, 1),
            "trivial_vs_bare": round(baseline.rate / bare.rate, 3) if bare.rate else 0.0,
            "rsa2048_verify_per_s": round(verify_rate, 0),
        },
    )
    _print(console, result, full, half, baseline, bare)
    return result


def _get(url: str) -> Operation:
    async def get(client: httpx.AsyncClient) -> None:
        response = await client.get(url)
        response.raise_for_status()

    return get


def _print(
    console: Console,
    result: Result,
    full: LoadStats,
    half: LoadStats,
    baseline: LoadStats,
    bare: LoadStats,
) -> None:
    table = Table(title="myna bench login")
    for column in ("phase", "rate/s", "p50 ms", "p99 ms", "errors"):
        table.add_column(column, justify="right")
    table.add_row(
        "bare FastAPI, trivial",
        f"{bare.rate:.0f}",
        f"{bare.percentile(50):.1f}",
        f"{bare.percentile(99):.1f}",
        str(bare.errors),
    )
    table.add_row(
        "trivial endpoint",
        f"{baseline.rate:.0f}",
        f"{baseline.percentile(50):.1f}",
        f"{baseline.percentile(99):.1f}",
        str(baseline.errors),
    )
    table.add_row(
        "login, full load",
        f"{full.rate:.0f}",
        f"{full.percentile(50):.1f}",
        f"{full.percentile(99):.1f}",
        str(full.errors),
    )
    table.add_row(
        "login, half load",
        f"{half.rate:.0f}",
        f"{half.percentile(50):.1f}",
        f"{half.percentile(99):.1f}",
        str(half.errors),
    )
    console.print(table)
    for sample in {*baseline.error_samples, *full.error_samples, *half.error_samples}:
        console.print(f"[red]error:[/red] {sample}")
    console.print(
        f"logins/s ÷ trivial req/s = {result.ratio:.1%} (goal ≥ 20 %); "
        f"p99 at half load = {result.p99_ms} ms (goal ≤ 150 ms); "
        f"RSA-2048 verify = {result.details['rsa2048_verify_per_s']:.0f}/s; "
        f"trivial endpoint = {result.details['trivial_vs_bare']:.0%} of bare FastAPI's rate "
        "(goal ≥ 67 %)"
    )
