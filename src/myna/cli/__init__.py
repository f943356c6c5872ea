"""The ``myna`` command: demo, serve, seed, card, jpki, registry, bench, db."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from myna.cli.authapp import app as authapp_app
from myna.cli.card import app as card_app
from myna.cli.delivery import app as delivery_app
from myna.cli.jpki import app as jpki_app
from myna.cli.medical import app as medical_app
from myna.cli.network import app as agency_app
from myna.cli.office import app as office_app
from myna.cli.partners import app as partners_app
from myna.cli.reader import card_login
from myna.cli.registry import app as registry_app
from myna.cli.registry import seed as seed_registry
from myna.cli.transparency import app as log_app
from myna.platform.settings import Settings, get_settings

if TYPE_CHECKING:
    from myna.bench.harness import Plan, Result

app = typer.Typer(no_args_is_help=True, help="Myna: an open Mynaportal platform.")
app.add_typer(card_app, name="card", help="Virtual MyNumber cards (issue, info, sign, login).")
app.add_typer(jpki_app, name="jpki", help="The JPKI certificate authorities (J-LIS role).")
app.add_typer(registry_app, name="registry", help="The resident registry (住民基本台帳).")
app.add_typer(agency_app, name="agency", help="Agency nodes (中間サーバー) in distributed mode.")
app.add_typer(
    log_app, name="log", help="The exchange log (やりとり履歴): signed heads, proofs, checks."
)
app.add_typer(
    delivery_app, name="delivery", help="民間送達: senders of deduction certificates, their keys."
)
app.add_typer(
    medical_app, name="medical", help="オンライン資格確認: clinics, pharmacies, their counter."
)
app.add_typer(office_app, name="office", help="Back-office staff accounts (申請管理).")
app.add_typer(
    partners_app,
    name="partners",
    help="Organisations using the Mynaportal API (連携する民間事業者).",
)
app.add_typer(
    authapp_app,
    name="authapp",
    help="デジタル認証アプリ: businesses' OIDC login and signing transactions.",
)
card_app.command("login")(card_login)


@app.command()
def seed(
    residents: Annotated[int, typer.Option("--residents", "-n", min=1, help="how many")] = 1000,
    seed_value: Annotated[int, typer.Option("--seed", "-s", help="same seed, same people")] = 0,
    agency_data: Annotated[
        bool, typer.Option(help="Also generate the agencies' records and link codes.")
    ] = True,
) -> None:
    """Add a deterministic synthetic population, with the agencies' data about it."""
    from myna import registry, runtime  # noqa: PLC0415
    from myna.bootstrap import build_container  # noqa: PLC0415
    from myna.platform.db import unit_of_work  # noqa: PLC0415

    container = build_container(get_settings())
    runtime.prepare_database(container)
    with unit_of_work(container.session_factory) as session:
        before = registry.max_household_id(session=session)
    seed_registry(residents=residents, seed_value=seed_value)
    if agency_data:
        runtime.seed_agency_data(container, Console(), after_household_id=before, seed=seed_value)


db_app = typer.Typer(no_args_is_help=True, help="Database schema, backups and restores.")
app.add_typer(db_app, name="db")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks (figures in docs/benchmarks.md).")
app.add_typer(bench_app, name="bench")

Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[
    int,
    typer.Option(
        help="Portal port; the card reader listens on the next one, the counter and the "
        "certificate kiosk after."
    ),
]


def _settings_for(host: str, port: int) -> Settings:
    """The environment's settings, with URLs following --host/--port unless configured."""
    settings = get_settings()
    update: dict[str, object] = {}
    if "MYNA_PORTAL_URL" not in os.environ:
        update["portal_url"] = f"http://{host}:{port}"
    if "MYNA_READER_URL" not in os.environ:
        update["reader_url"] = f"http://{host}:{port + 1}"
    if "MYNA_COUNTER_URL" not in os.environ:
        update["counter_url"] = f"http://{host}:{port + 2}"
    if "MYNA_KIOSK_URL" not in os.environ:
        update["kiosk_url"] = f"http://{host}:{port + 3}"
    return settings.model_copy(update=update)


@app.command()
def demo(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Migrate, seed ~1,000 residents, issue the personas' cards, start portal, reader,
    counter and certificate kiosk."""
    from myna import runtime  # noqa: PLC0415 - keep `myna --help` fast
    from myna.bootstrap import build_container  # noqa: PLC0415
    from myna.platform.logging import configure_logging  # noqa: PLC0415

    settings = _settings_for(host, port)
    # The demo talks to a person: warnings only, unless a level was asked for.
    level = settings.log_level if "MYNA_LOG_LEVEL" in os.environ else "WARNING"
    configure_logging(level=level, json=settings.log_json)
    console = Console()
    container = build_container(settings)
    cards = runtime.prepare_demo(container, console)
    runtime.print_demo(
        console,
        cards,
        settings.portal_url,
        settings.reader_url,
        settings.counter_url,
        kiosk=settings.kiosk_url,
        pdf_font=settings.pdf_font,
        verifier_dir=settings.verifier_dir,
    )
    runtime.run_servers(
        container,
        host=host,
        port=port,
        reader_port=port + 1,
        counter_port=port + 2,
        kiosk_port=port + 3,
    )


@app.command()
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    reader: Annotated[bool, typer.Option(help="Also start the virtual card reader.")] = False,
    counter: Annotated[
        bool, typer.Option(help="Also start the clinic counter (オンライン資格確認の窓口).")
    ] = False,
    kiosk: Annotated[
        bool, typer.Option(help="Also start the certificate kiosk (コンビニ交付).")
    ] = False,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Portal worker processes.")] = 1,
) -> None:
    """Start the portal (with the JPKI endpoints) on an existing database."""
    import uvicorn  # noqa: PLC0415

    from myna import runtime  # noqa: PLC0415
    from myna.bootstrap import build_container  # noqa: PLC0415
    from myna.platform.logging import configure_logging  # noqa: PLC0415
    from myna.platform.web import SERVER_OPTIONS  # noqa: PLC0415

    settings = _settings_for(host, port)
    configure_logging(level=settings.log_level, json=settings.log_json)
    container = build_container(settings)
    runtime.prepare_database(container)
    if workers > 1:
        from myna.platform.metrics import prepare_multiprocess_dir  # noqa: PLC0415

        if prepare_multiprocess_dir() is None and (
            settings.metrics_token is not None or settings.metrics_loopback
        ):
            Console(stderr=True).print(
                "[yellow]PROMETHEUS_MULTIPROC_DIR is not set: each scrape of /metrics "
                "shows one worker's counts only (docs/operations.md).[/yellow]"
            )
        if settings.rate_limit_storage_url.startswith("memory"):
            Console(stderr=True).print(
                "[yellow]MYNA_RATE_LIMIT_STORAGE_URL is memory://: each worker counts the "
                f"rate limits alone, so every limit is {workers} times looser; set it to "
                "redis://... (docs/operations.md#many-workers).[/yellow]"
            )
        os.environ.setdefault("MYNA_PORTAL_URL", settings.portal_url)
        os.environ.setdefault("MYNA_READER_URL", settings.reader_url)
        uvicorn.run(
            "myna.runtime:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            **SERVER_OPTIONS,
        )
        return
    runtime.run_servers(
        container,
        host=host,
        port=port,
        reader_port=port + 1 if reader else None,
        counter_port=port + 2 if counter else None,
        kiosk_port=port + 3 if kiosk else None,
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database (MYNA_DATABASE_URL) to the newest schema."""
    from myna.bootstrap import build_container  # noqa: PLC0415
    from myna.platform.migrate import upgrade_to_head  # noqa: PLC0415

    container = build_container(get_settings())
    upgrade_to_head(container.engine)
    Console().print("Database is at the newest schema.")


@db_app.command("backup")
def db_backup(
    out: Annotated[
        Path, typer.Option("--out", help="The backup file to write (refused if it exists).")
    ],
    force: Annotated[bool, typer.Option(help="Replace an existing file.")] = False,
) -> None:
    """Back up the database: pg_dump's custom format, or SQLite's online backup."""
    from myna.cli.backups import run_backup  # noqa: PLC0415

    run_backup(out=out, force=force)


@db_app.command("restore")
def db_restore(
    source: Annotated[Path, typer.Option("--from", help="A file written by `myna db backup`.")],
    force: Annotated[
        bool, typer.Option(help="Replace a database that already holds data.")
    ] = False,
) -> None:
    """Restore the database from a backup, in one transaction (stop the portal first)."""
    from myna.cli.backups import run_restore  # noqa: PLC0415

    run_restore(source=source, force=force)


def main() -> None:
    """Entry point of the ``myna`` console script."""
    app()


# Options every `myna bench` scenario shares.
BenchDatabase = Annotated[
    str, typer.Option(help="Benchmark database (a fresh SQLite file by default).")
]
BenchJson = Annotated[Path | None, typer.Option("--json", help="Write the result here.")]
BenchDuration = Annotated[float, typer.Option(min=1, help="Seconds per phase.")]
BenchConcurrency = Annotated[int, typer.Option(min=1, max=256, help="Concurrent clients.")]
BenchWorkers = Annotated[int, typer.Option(min=1, max=32, help="Server worker processes.")]
BenchClients = Annotated[
    int,
    typer.Option(
        min=1,
        max=32,
        help="Load-generator processes sharing the concurrent clients (results merged).",
    ),
]
BenchReuse = Annotated[
    bool, typer.Option(help="Skip seeding if the database already has --residents people.")
]
BenchResidents = Annotated[
    int, typer.Option("--residents", "-n", min=1, help="Population to seed.")
]
BenchCards = Annotated[
    int, typer.Option(min=1, max=1000, help="Random residents given a card and logged in.")
]


def _plan(*arguments: Any, **options: Any) -> Plan:
    """A benchmark plan; the harness is imported only by the commands that run one."""
    from myna.bench.harness import Plan  # noqa: PLC0415

    return Plan(*arguments, **options)


def _run(scenario: Callable[..., Result], json: Path | None, **options: object) -> None:
    """Run a scenario, its progress on the console; write its result as JSON when asked."""
    from myna.bench.harness import BenchmarkError  # noqa: PLC0415

    console = Console()
    try:
        result = scenario(console=console, **options)
    except BenchmarkError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(code=1) from None
    if json is not None:
        result.write(json)
        console.print(f"Wrote {json}")


@bench_app.command("login")
def bench_login(
    duration: BenchDuration = 10.0,
    concurrency: BenchConcurrency = 8,
    workers: BenchWorkers = 1,
    clients: BenchClients = 1,
    database_url: BenchDatabase = "",
    json: BenchJson = None,
) -> None:
    """Card logins per second and p50/p99 over HTTP, beside a trivial endpoint's rate."""
    from myna.bench import login  # noqa: PLC0415

    _run(
        login.run,
        json,
        duration=duration,
        concurrency=concurrency,
        workers=workers,
        clients=clients,
        database_url=database_url,
    )


@bench_app.command("log")
def bench_log(
    duration: Annotated[float, typer.Option(min=1, help="Seconds of appending.")] = 10.0,
    threads: Annotated[int, typer.Option(min=1, max=64, help="Appending threads.")] = 4,
    subject_entries: Annotated[
        int, typer.Option(min=50, help="Entries of the resident whose first page is read.")
    ] = 10_000,
    database_url: BenchDatabase = "",
    json: BenchJson = None,
) -> None:
    """Exchange-log appends per second with signed heads each second; the resident's page."""
    from myna.bench import log  # noqa: PLC0415

    _run(
        log.run,
        json,
        duration=duration,
        threads=threads,
        subject_entries=subject_entries,
        database_url=database_url,
    )


@bench_app.command("crypto")
def bench_crypto(
    seconds: Annotated[
        float, typer.Option(min=0.01, max=60, help="Seconds per rate measured.")
    ] = 2.0,
    json: BenchJson = None,
) -> None:
    """RSA-2048, ES256 and ML-DSA side by side: sizes, and signing and verifying rates."""
    from myna.bench import crypto  # noqa: PLC0415

    _run(crypto.run, json, seconds=seconds)


@bench_app.command("selfinfo")
def bench_selfinfo(
    residents: BenchResidents = 100_000,
    duration: BenchDuration = 10.0,
    concurrency: BenchConcurrency = 8,
    workers: BenchWorkers = 1,
    clients: BenchClients = 1,
    cards: BenchCards = 50,
    database_url: BenchDatabase = "",
    reuse: BenchReuse = False,
    json: BenchJson = None,
) -> None:
    """Full わたしの情報 retrievals (every category) per second and p50/p99 over HTTP."""
    from myna.bench import selfinfo  # noqa: PLC0415

    plan = _plan(residents, duration, concurrency, workers, database_url, reuse, clients=clients)
    _run(selfinfo.run, json, plan=plan, cards=cards)


@bench_app.command("eligibility")
def bench_eligibility(
    residents: BenchResidents = 100_000,
    duration: BenchDuration = 10.0,
    concurrency: BenchConcurrency = 8,
    workers: BenchWorkers = 1,
    clients: BenchClients = 1,
    cards: BenchCards = 50,
    database_url: BenchDatabase = "",
    reuse: BenchReuse = False,
    json: BenchJson = None,
) -> None:
    """Card-based オンライン資格確認 at a clinic (4 signed requests each) per second over HTTP."""
    from myna.bench import eligibility  # noqa: PLC0415

    plan = _plan(residents, duration, concurrency, workers, database_url, reuse, clients=clients)
    _run(eligibility.run, json, plan=plan, cards=cards)


@bench_app.command("delivery")
def bench_delivery(
    residents: BenchResidents = 10_000,
    duration: BenchDuration = 10.0,
    concurrency: BenchConcurrency = 8,
    workers: BenchWorkers = 1,
    clients: BenchClients = 1,
    recipients: Annotated[
        int, typer.Option(min=1, max=100_000, help="Random residents who link the senders.")
    ] = 1_000,
    documents: Annotated[
        int,
        typer.Option(
            min=1, help="Documents signed before the phases (more are signed for the half load)."
        ),
    ] = 5_000,
    resends: Annotated[
        bool, typer.Option(help="Also resend accepted documents (idempotent answers).")
    ] = True,
    database_url: BenchDatabase = "",
    reuse: BenchReuse = False,
    json: BenchJson = None,
) -> None:
    """民間送達: signed documents accepted per second (XSD, XMLDSig, CA), server CPU each."""
    from myna.bench import delivery  # noqa: PLC0415

    plan = _plan(residents, duration, concurrency, workers, database_url, reuse, clients=clients)
    _run(delivery.run, json, plan=plan, recipients=recipients, documents=documents, resends=resends)


@bench_app.command("verify")
def bench_verify(
    duration: BenchDuration = 10.0,
    concurrency: BenchConcurrency = 8,
    workers: BenchWorkers = 1,
    clients: BenchClients = 1,
    certificates: Annotated[
        int, typer.Option(min=100, max=1_000_000, help="Signing certificates issued to ask about.")
    ] = 2_000,
    batch: Annotated[
        int, typer.Option(min=1, max=1000, help="Serial numbers per status request.")
    ] = 100,
    database_url: BenchDatabase = "",
    json: BenchJson = None,
) -> None:
    """JPKI verifiers: revocation statuses per second in signed batches, server CPU each."""
    from myna.bench import verify  # noqa: PLC0415

    plan = _plan(0, duration, concurrency, workers, database_url, clients=clients)
    _run(verify.run, json, plan=plan, certificates=certificates, batch=batch)


@bench_app.command("certificates")
def bench_certificates(
    duration: BenchDuration = 10.0,
    concurrency: BenchConcurrency = 4,
    workers: BenchWorkers = 1,
    clients: BenchClients = 1,
    database_url: BenchDatabase = "",
    json: BenchJson = None,
) -> None:
    """Signed 住民票の写し (PAdES B-LTA) per second at the kiosk API, server CPU each."""
    from myna.bench import certificates  # noqa: PLC0415

    plan = _plan(0, duration, concurrency, workers, database_url, clients=clients)
    _run(certificates.run, json, plan=plan)


@bench_app.command("return")
def bench_return(
    residents: BenchResidents = 10_000,
    duration: BenchDuration = 10.0,
    concurrency: BenchConcurrency = 8,
    workers: BenchWorkers = 1,
    clients: BenchClients = 1,
    returns: Annotated[
        int,
        typer.Option(
            min=1,
            max=100_000,
            help="Random adults prepared, one return each (ten documents delivered, a card).",
        ),
    ] = 500,
    medical: Annotated[
        bool, typer.Option(help="Also gather the 医療費通知 from the insurers through the hub.")
    ] = True,
    database_url: BenchDatabase = "",
    reuse: BenchReuse = False,
    json: BenchJson = None,
) -> None:
    """確定申告: returns gathered from ten documents, computed and shown, per second over HTTP."""
    from myna.bench import taxreturn  # noqa: PLC0415

    plan = _plan(residents, duration, concurrency, workers, database_url, reuse, clients=clients)
    _run(taxreturn.run, json, plan=plan, returns=returns, medical=medical)


@bench_app.command("apply")
def bench_apply(
    residents: BenchResidents = 10_000,
    duration: BenchDuration = 10.0,
    concurrency: BenchConcurrency = 4,
    workers: BenchWorkers = 1,
    clients: BenchClients = 1,
    cards: BenchCards = 40,
    database_url: BenchDatabase = "",
    json: BenchJson = None,
) -> None:
    """Signed e-application submissions per second (CMS verified, filed) over HTTP."""
    from myna.bench import apply  # noqa: PLC0415

    _run(
        apply.run,
        json,
        residents=residents,
        cards=cards,
        duration=duration,
        concurrency=concurrency,
        workers=workers,
        clients=clients,
        database_url=database_url,
    )


@bench_app.command("api")
def bench_api(
    residents: BenchResidents = 2_000,
    duration: BenchDuration = 10.0,
    concurrency: BenchConcurrency = 4,
    workers: BenchWorkers = 1,
    clients: BenchClients = 1,
    codes: Annotated[
        int,
        typer.Option(
            min=1, max=5_000, help="Single-use codes for the token phase (one resident each)."
        ),
    ] = 2_000,
    database_url: BenchDatabase = "",
    json: BenchJson = None,
) -> None:
    """Partner API: tokens per second and DPoP-checked, signed resource calls per second."""
    from myna.bench import api  # noqa: PLC0415

    _run(
        api.run,
        json,
        residents=residents,
        codes=codes,
        duration=duration,
        concurrency=concurrency,
        workers=workers,
        clients=clients,
        database_url=database_url,
    )


@bench_app.command("notices")
def bench_notices(
    residents: BenchResidents = 100_000,
    duration: Annotated[
        float, typer.Option(min=1, help="Seconds of inbox reads (per phase).")
    ] = 10.0,
    segments: Annotated[
        int, typer.Option(min=1, max=1000, help="Segment notices live during the reads.")
    ] = 20,
    http: Annotated[
        bool,
        typer.Option(
            "--http", help="Over HTTP against a server process (agency API, card logins)."
        ),
    ] = False,
    concurrency: Annotated[
        int, typer.Option(min=1, max=256, help="Concurrent clients (--http).")
    ] = 8,
    workers: Annotated[
        int, typer.Option(min=1, max=32, help="Server worker processes (--http).")
    ] = 1,
    clients: Annotated[
        int,
        typer.Option(min=1, max=32, help="Load-generator processes sharing the clients (--http)."),
    ] = 1,
    cards: Annotated[
        int,
        typer.Option(min=1, max=1000, help="Random adults given a card and logged in (--http)."),
    ] = 50,
    database_url: BenchDatabase = "",
    reuse: BenchReuse = False,
    json: BenchJson = None,
) -> None:
    """A segment notice to everyone: time to visible, then inbox first page p50/p99."""
    from myna.bench import notices as bench  # noqa: PLC0415

    if http:
        _run(
            bench.run_http,
            json,
            residents=residents,
            duration=duration,
            segments=segments,
            concurrency=concurrency,
            workers=workers,
            clients=clients,
            cards=cards,
            database_url=database_url,
            reuse=reuse,
        )
    else:
        _run(
            bench.run,
            json,
            residents=residents,
            duration=duration,
            segments=segments,
            database_url=database_url,
            reuse=reuse,
        )
