"""Starting Myna: the demo platform and the portal server (used by `myna demo|serve`)."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey, KeySet
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session
from uvicorn.supervisors import Multiprocess

from myna import agencies, authapp, card, counters, jpki, network, notices, proxy, registry
from myna.app import create_app
from myna.bootstrap import Container, build_container
from myna.counter.app import create_counter_app
from myna.counter.identity import load_identities, write_identity
from myna.delivery import demo as delivery_demo
from myna.delivery import service as delivery
from myna.delivery.identity import SenderIdentity, load_identity
from myna.delivery.identity import write_identity as write_sender
from myna.jpki import verifier_identity
from myna.jpki import verifiers as jpki_verifiers
from myna.jpki.verifier_domain import VerifierKind
from myna.jpki.verifier_identity import VerifierIdentity
from myna.kiosk.app import create_kiosk_app
from myna.medical import service as medical
from myna.office import service as office
from myna.office.roles import StaffRole
from myna.platform.db import unit_of_work
from myna.platform.logging import configure_logging
from myna.platform.metrics import prepare_multiprocess_dir
from myna.platform.migrate import upgrade_to_head
from myna.platform.progress import progress_bar
from myna.platform.settings import Settings, get_settings
from myna.platform.web import SERVER_OPTIONS
from myna.reader.app import create_reader_app
from myna.tax import pdf as tax_pdf

DEMO_RESIDENTS = 1000
# A bank approved as 署名検証者 and 利用者証明検証者 (docs/api/verifiers.md).
DEMO_VERIFIER = ("mirai-bank", "みらい銀行株式会社")
# The same bank as a client of the authentication app, run from examples/mirai_bank.
DEMO_BUSINESS_URL = "http://127.0.0.1:8710"
DEMO_SEED = 2026
# Published on purpose: these are the demo cards' secrets, printed at every start.
DEMO_PIN = "1234"
DEMO_PASSWORD = "MYNA2026"  # noqa: S105
# Back-office accounts of the demo (千代田区 and 横浜市, where the personas live); their
# one-time codes come from `myna office code`, which works in development only.
DEMO_STAFF_PASSWORD = "myna-office-2026"  # noqa: S105
DEMO_STAFF: tuple[tuple[str, str, str, str], ...] = (
    ("chiyoda-supervisor", "131016", "千代田 監督者", "supervisor"),
    ("chiyoda-clerk", "131016", "千代田 担当者", "clerk"),
    ("yokohama-supervisor", "141003", "横浜 監督者", "supervisor"),
)


@dataclass(frozen=True, slots=True)
class DemoCard:
    """A demo persona's card and how to use it."""

    persona: str
    name: str
    card_id: str
    pin: str
    password: str


def prepare_database(container: Container) -> None:
    """Migrate to head and make sure the certificate authorities exist."""
    upgrade_to_head(container.engine)
    # A broken catalog or authorization table stops the start, with the entry named.
    agencies.load_catalog()
    with unit_of_work(container.session_factory) as session:
        registry.ensure_municipalities(session=session)
        jpki.ensure_authorities(session=session, settings=container.settings)


def seed_agency_data(
    container: Container, console: Console, *, after_household_id: int, seed: int
) -> network.AgencySeedReport:
    """The agencies' records (and the hub's link codes) for households after the given id."""
    with unit_of_work(container.session_factory) as session:
        total = registry.count_residents(session=session)
    with (
        progress_bar(console, "agency data", total) as advance,
        unit_of_work(container.session_factory) as session,
    ):
        report = network.seed_agency_data(
            session=session, seed=seed, after_household_id=after_household_id, on_progress=advance
        )
    console.print(
        f"agency data: {report.records:,} records for {report.residents:,} residents, "
        f"{report.link_codes:,} link codes"
    )
    return report


def seed_residents(
    container: Container, console: Console, *, residents: int, seed: int
) -> registry.SeedSummary:
    """Add ``residents`` synthetic people (``myna seed`` and the benchmarks), with a bar."""
    with (
        progress_bar(console, "residents", residents) as advance,
        unit_of_work(container.session_factory) as session,
    ):
        return registry.seed_population(
            session=session, residents=residents, seed=seed, on_progress=advance
        )


def prepare_demo(container: Container, console: Console) -> list[DemoCard]:
    """Seed ~1,000 residents and issue the personas' cards, reusing what exists."""
    prepare_database(container)
    with unit_of_work(container.session_factory) as session:
        existing = registry.count_residents(session=session)
        before = registry.max_household_id(session=session)
        if existing < DEMO_RESIDENTS:
            console.print(f"Seeding {DEMO_RESIDENTS - existing} synthetic residents…")
            registry.seed_population(
                session=session, residents=DEMO_RESIDENTS - existing, seed=DEMO_SEED
            )
        registry.ensure_personas(session=session)
    seed_agency_data(container, console, after_household_id=before, seed=DEMO_SEED)
    with unit_of_work(container.session_factory) as session:
        if notices.count_notices(session=session) == 0:
            notices.seed_demo_notices(session=session)
    ensure_demo_staff(container)
    ensure_demo_counters(container)
    ensure_demo_institutions(container)
    ensure_demo_enrolments(container)
    ensure_demo_deliveries(container)
    ensure_demo_verifier(container)
    ensure_demo_business(container)
    manifest_path = container.settings.data_dir / "demo-cards.json"
    manifest: dict[str, str] = (
        json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
    )
    cards: list[DemoCard] = []
    with unit_of_work(container.session_factory) as session:
        personas = registry.ensure_personas(session=session)
    for key, resident in personas.items():
        card_id = manifest.get(key)
        if card_id is None or not (container.settings.card_dir / f"{card_id}.json").exists():
            with unit_of_work(container.session_factory) as session:
                summary = issue_demo_card(session, container.settings, resident.id)
            card_id = summary.card_id
            manifest[key] = card_id
        cards.append(DemoCard(key, resident.full_name, card_id, DEMO_PIN, DEMO_PASSWORD))
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    describe_demo_proxies(container, console, personas["taro"])
    return cards


def describe_demo_proxies(
    container: Container, console: Console, parent: registry.ResidentRead
) -> None:
    """Whom the demo parent acts for at once (法定代理人: read from the household, no setup)."""
    with unit_of_work(container.session_factory) as session:
        children = proxy.authorities_for(
            session=session, proxy_id=parent.id, now=container.proxy_clock()
        )
    for view in children:
        if view.authority.kind is proxy.Kind.LEGAL:
            console.print(
                f"Proxy / 代理人: {parent.full_name} acts for {view.principal_name} "
                "(法定代理人) — log in with his card, then open /proxy"
            )


def issue_demo_card(session: Session, settings: Settings, resident_id: int) -> card.CardSummary:
    """A card with the published demo PIN and password (the personas', the benchmarks')."""
    return card.issue_card(
        session=session,
        settings=settings,
        resident_id=resident_id,
        pin=DEMO_PIN,
        password=DEMO_PASSWORD,
    )


# The demo's clinic and pharmacy (東京都千代田区), ready at the counter app.
DEMO_INSTITUTIONS: tuple[tuple[str, str], ...] = (
    ("1310110018", "みなと内科クリニック"),
    ("1340110012", "さくら薬局 千代田店"),
)


def register_institution(
    session: Session, settings: Settings, code: str, name: str, directory: Path
) -> Path:
    """Register an institution and write its key and certificate under ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    found, certificate = medical.register_institution(
        session=session, settings=settings, code=code, name=name, public_key=key.public_key()
    )
    return write_identity(
        directory, code=found.code, name=found.name, private_key=key, certificate=certificate
    )


def ensure_demo_institutions(container: Container) -> None:
    """The demo's clinic and pharmacy, registered once with their files in the data dir."""
    directory = container.settings.institution_dir
    present = load_identities(directory)
    for code, name in DEMO_INSTITUTIONS:
        if code in present:
            continue
        with unit_of_work(container.session_factory) as session:
            if medical.institution(session=session, code=code) is not None:
                # Registered, but its files are gone: the demo's data dir was partly wiped.
                continue
            register_institution(session, container.settings, code, name, directory)


# Personas whose cards are already their insurance cards in the demo; 太郎 registers his
# own in the portal (わたしの情報 → マイナ保険証) to show the step.
DEMO_ENROLLED = ("hanako", "ichiro")


def ensure_demo_enrolments(container: Container) -> None:
    """Register the demo personas' cards as マイナ保険証 (through the hub, once)."""
    with unit_of_work(container.session_factory) as session:
        personas = registry.ensure_personas(session=session)
    for key in DEMO_ENROLLED:
        try:
            with unit_of_work(container.session_factory) as session:
                medical.enrol(
                    session=session, hub=container.hub_for(session), resident_id=personas[key].id
                )
        except (medical.AlreadyEnrolledError, medical.NoCoverageError):
            continue


def register_sender(
    session: Session, settings: Settings, code: str, name: str, kind: str, directory: Path
) -> SenderIdentity:
    """Register a 民間送達 sender and write its key and certificate under ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    found, certificate = delivery.register_sender(
        session=session,
        settings=settings,
        code=code,
        name=name,
        kind=kind,
        public_key=key.public_key(),
    )
    identity = SenderIdentity(
        code=found.code,
        name=found.name,
        kind=found.kind.value,
        organization_code=found.organization_code,
        private_key=key,
        certificate=certificate,
    )
    write_sender(directory, identity)
    return identity


def register_verifier(
    session: Session,
    settings: Settings,
    *,
    code: str,
    name: str,
    kind: VerifierKind,
    platform: str | None,
    directory: Path,
) -> tuple[VerifierIdentity, Path]:
    """Register a verifier with a P-256 key made here; its files under ``directory/code``.

    The files are written inside the caller's transaction: files that cannot be written
    leave no registration behind.
    """
    for file_name in verifier_identity.FILES:
        if (directory / code / file_name).exists():
            raise verifier_identity.VerifierFilesExistError(path=str(directory / code / file_name))
    key = ec.generate_private_key(ec.SECP256R1())
    jpki.ensure_authorities(session=session, settings=settings)
    found, certificate = jpki_verifiers.register_verifier(
        session=session,
        settings=settings,
        code=code,
        name=name,
        kind=kind,
        platform=platform,
        public_key=key.public_key(),
    )
    chain = [
        x509.load_der_x509_certificate(jpki.ca_certificate(session=session, kind=k))
        for k in (jpki.AuthorityKind.GOVERNMENT, jpki.AuthorityKind.ROOT)
    ]
    identity = verifier_identity.VerifierIdentity(
        code=found.code,
        name=found.name,
        kind=found.kind.value,
        platform=found.platform,
        organization_code=found.organization_code,
        private_key=key,
        certificate=certificate,
    )
    return identity, verifier_identity.write_identity(directory, identity, chain)


def ensure_demo_verifier(container: Container) -> Path:
    """The demo's verifier (a bank checking cards' certificates), registered once."""
    code, name = DEMO_VERIFIER
    directory = container.settings.verifier_dir
    if (directory / code / "verifier.json").exists():
        return directory / code
    with unit_of_work(container.session_factory) as session:
        if jpki_verifiers.verifier(session=session, code=code) is not None:
            return directory / code  # registered, but its files are gone
        _identity, folder = register_verifier(
            session,
            container.settings,
            code=code,
            name=name,
            kind=VerifierKind.BOTH,
            platform=None,
            directory=directory,
        )
    return folder


def demo_business_dir(settings: Settings) -> Path:
    """Where the sample bank (examples/mirai_bank) keeps its client keys and customers."""
    return settings.data_dir / DEMO_VERIFIER[0]


def ensure_demo_business(container: Container) -> Path:
    """The demo bank registered with the authentication app, its keys made once.

    The bank's private JWK Set (a signing key for its client assertions, an encryption
    key for signed documents) and its client id go to ``authapp-client.json`` (mode
    0600) beside its customers; only the public keys are registered.
    """
    folder = demo_business_dir(container.settings)
    path = folder / "authapp-client.json"
    if path.exists():
        jwks = json.loads(path.read_text(encoding="utf-8"))["jwks"]
    else:
        keys = [
            ECKey.generate_key("P-256", {"use": use, "alg": alg, "kid": f"mirai-{use}-1"})
            for use, alg in (("sig", "ES256"), ("enc", "ECDH-ES+A256KW"))
        ]
        jwks = {"keys": [key.as_dict(private=True) for key in keys]}
    public = KeySet.import_key_set(jwks).as_dict(private=False)
    with unit_of_work(container.session_factory) as session:
        client = authapp.register_client(
            session=session,
            name=DEMO_VERIFIER[1],
            redirect_uris=[f"{DEMO_BUSINESS_URL}/callback"],
            jwks=public,
        )
    folder.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(
        json.dumps({"client_id": client.client_id, "jwks": jwks}, indent=2), encoding="utf-8"
    )
    return path


def ensure_demo_deliveries(container: Container) -> None:
    """The demo senders, linked to 山田 太郎, with his 令和7年分 documents delivered once."""
    directory = container.settings.sender_dir
    senders: list[SenderIdentity] = []
    for code, name, kind in delivery_demo.DEMO_SENDERS:
        folder = directory / code
        if (folder / "sender.json").exists():
            senders.append(load_identity(folder))
            continue
        with unit_of_work(container.session_factory) as session:
            if delivery.sender(session=session, code=code) is not None:
                continue  # registered, but its files are gone: it cannot sign any more
            senders.append(
                register_sender(session, container.settings, code, name, kind, directory)
            )
    with unit_of_work(container.session_factory) as session:
        taro = registry.ensure_personas(session=session)["taro"]
        delivery_demo.deliver_demo_documents(
            session=session, settings=container.settings, resident_id=taro.id, senders=senders
        )


def ensure_demo_staff(container: Container) -> None:
    """The demo's back-office accounts, created once with the demo password."""
    for login_id, municipality, name, role in DEMO_STAFF:
        try:
            with unit_of_work(container.session_factory) as session:
                office.create_staff(
                    session=session,
                    settings=container.settings,
                    municipality_code=municipality,
                    login_id=login_id,
                    display_name=name,
                    role=StaffRole(role),
                    password=DEMO_STAFF_PASSWORD,
                )
        except office.StaffExistsError:
            continue


def ensure_demo_counters(container: Container) -> None:
    """The library and shelters of the demo staff's municipalities (市民カード化), once."""
    for code in sorted({municipality for _login, municipality, _name, _role in DEMO_STAFF}):
        with unit_of_work(container.session_factory) as session:
            counters.ensure_facilities(session=session, municipality_code=code)


def print_demo(
    console: Console,
    cards: list[DemoCard],
    portal: str,
    reader: str,
    counter: str | None = None,
    *,
    kiosk: str | None = None,
    pdf_font: str = "",
    verifier_dir: Path = Path("var/verifiers"),
) -> None:
    """The personas, their secrets, the clinic and pharmacy, and the URLs."""
    table = Table(title="Demo residents (synthetic) / デモ住民")
    for column in ("persona", "name / 氏名", "card", "PIN (auth)", "password (sign)"):
        table.add_column(column)
    for c in cards:
        table.add_row(c.persona, c.name, c.card_id, c.pin, c.password)
    console.print(table)
    staff = Table(title="Back office / 申請管理 (" + portal + "/office)")
    for column in ("login", "municipality / 市区町村", "role", "password"):
        staff.add_column(column)
    for login_id, municipality, name, role in DEMO_STAFF:
        staff.add_row(login_id, f"{municipality} {name}", role, DEMO_STAFF_PASSWORD)
    console.print(staff)
    console.print("One-time code / ワンタイムコード: [bold]myna office code --login <login>[/bold]")
    console.print(f"Portal / ポータル:        [bold]{portal}[/bold]")
    console.print(
        f"Municipal counters / 市民カード窓口 (図書館・避難所): [bold]{portal}/office/counters"
        "[/bold] (back-office login)"
    )
    console.print(f"Card reader / カードリーダー: [bold]{reader}[/bold]")
    if counter is not None:
        clinics = Table(title="Clinic counter / 医療機関窓口 (" + counter + ")")
        for column in ("医療機関コード", "name / 名称", "reception / 受付"):
            clinics.add_column(column)
        for code, name in DEMO_INSTITUTIONS:
            clinics.add_row(code, name, f"{counter.rstrip('/')}/{code}/")
        console.print(clinics)
    if kiosk is not None:
        console.print(f"Certificate kiosk / コンビニ交付端末: [bold]{kiosk}[/bold]")
        console.print(f"Certificate verification / 証明書の検証: {portal}/certificates/verify")
    console.print(
        f"Vaccination certificate verifier / 接種証明書の検証: {portal}/vaccination/verify"
    )
    console.print(f"Usage statistics / 利用状況 (open data): {portal}/stats")
    console.print(f"JPKI CRLs, CA certificates, OCSP: {portal}/jpki/ca/")
    phone_note = (
        ""
        if "://127.0.0.1" not in portal
        else " (WebAuthn needs a host name: make demo HOST=localhost)"
    )
    console.print(f"Phone app / スマホ用電子証明書: {portal}/phone/{phone_note}")
    console.print(
        f"Sample business / みらい銀行 (ログイン・署名・最新4情報): {DEMO_BUSINESS_URL} — "
        "start it with "
        "[bold].venv/bin/python examples/mirai_bank/bank.py run[/bold]"
    )
    console.print(
        f"Verifier / 検証者 {DEMO_VERIFIER[1]}: {portal}/api/jpki/v1/status "
        f"(keys under {verifier_dir / DEMO_VERIFIER[0]})"
    )
    if not tax_pdf.font_available(pdf_font):
        console.print(
            "[yellow]No Japanese TrueType font: the tax return's PDF copy is unavailable. "
            "Install it with: sudo apt-get install -y fonts-ipaexfont-gothic "
            "(or set MYNA_PDF_FONT to a .ttf).[/yellow]"
        )
    console.print("Stop with Ctrl+C.")


async def _serve_all(servers: list[uvicorn.Server]) -> None:
    await asyncio.gather(*(server.serve() for server in servers))


def run_servers(
    container: Container,
    *,
    host: str,
    port: int,
    reader_port: int | None,
    counter_port: int | None = None,
    kiosk_port: int | None = None,
    log_level: str = "info",
) -> None:
    """Run the portal (and optionally the card reader, the clinic counter and the
    certificate kiosk) until stopped."""
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                create_app(container), host=host, port=port, log_level=log_level, **SERVER_OPTIONS
            )
        )
    ]
    if reader_port is not None:
        servers.append(
            uvicorn.Server(
                uvicorn.Config(
                    create_reader_app(container),
                    host=host,
                    port=reader_port,
                    log_level=log_level,
                    **SERVER_OPTIONS,
                )
            )
        )
    if counter_port is not None:
        servers.append(
            uvicorn.Server(
                uvicorn.Config(
                    create_counter_app(container),
                    host=host,
                    port=counter_port,
                    log_level=log_level,
                    **SERVER_OPTIONS,
                )
            )
        )
    if kiosk_port is not None:
        servers.append(
            uvicorn.Server(
                uvicorn.Config(
                    create_kiosk_app(container),
                    host=host,
                    port=kiosk_port,
                    log_level=log_level,
                    **SERVER_OPTIONS,
                )
            )
        )
    settle_heap()
    asyncio.run(_serve_all(servers))


def app_from_environment() -> object:
    """The portal app built from the environment (``uvicorn --factory`` with workers)."""
    settings = get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    app = create_app(build_container(settings))
    settle_heap()
    return app


def settle_heap() -> None:
    """Take what a server built before serving out of the garbage collector's walks.

    The modules, the apps and their routes, the ORM's mappers and the caches live as
    long as the process: some 360,000 objects, which every full collection walked again
    (about 0.2 s of CPU each, every few seconds under load). Frozen (``gc.freeze``),
    they are left alone; collections look at what the requests allocate. Called by the
    serving entry points only, never by an app factory a test may call many times.
    """
    gc.collect()
    gc.freeze()


PORTAL_FACTORY = "myna.runtime:app_from_environment"


def serve_on_socket(fd: int, *, workers: int = 1, factory: str = PORTAL_FACTORY) -> None:
    """Serve an app (the portal) on an already bound socket (descriptor ``fd``) until stopped.

    A parent that bound the socket (the benchmark harness, on port 0) hands it over, so
    no other process can take the port between choosing it and listening on it.
    """
    sock = socket.socket(fileno=fd)  # family and type read from the descriptor
    config = uvicorn.Config(
        factory,
        factory=True,
        workers=workers,
        log_level="warning",
        access_log=False,
        **SERVER_OPTIONS,
    )
    server = uvicorn.Server(config)
    if workers > 1:
        prepare_multiprocess_dir()  # the workers' metrics add up in a fresh directory
        Multiprocess(config, sockets=[sock]).run()
    else:
        server.run(sockets=[sock])
