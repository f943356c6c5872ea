"""The composition root: the one place that builds engines, adapters and services.

It sits at the top of the layers: it imports the contexts and wires them; no context
imports it (the web layer reaches it through ``request.app.state``, typed only).
Embedded mode (the default) wires everything in-process over one database; agencies
named in ``MYNA_AGENCY_NODES`` are reached over HTTP. Tests build the same container
with their own settings and swap adapters on it (fakes, not mocks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from myna import (
    agencies,
    authapp,
    card,
    corrections,
    delivery,
    jpki,
    network,
    notices,
    phone,
    stats,
    tax,
)
from myna.applications.procedures import Procedures
from myna.applications.submission import SignedDocumentHandler
from myna.certificates import signing as certificate_signing
from myna.jpki import service as jpki_service
from myna.moves import service as moves
from myna.network import credentials, transparency
from myna.network.node import HttpTransport
from myna.office import service as office
from myna.partners import organizations
from myna.platform.db import import_all_models, make_engine, make_session_factory, utcnow
from myna.platform.metrics import LogGauges, Metrics, MetricsAccess
from myna.platform.operations import Operations
from myna.platform.ratelimit import RateLimiter
from myna.platform.readiness import (
    Check,
    NotReadyError,
    ReadinessProbe,
    database_check,
    schema_head,
    storage_check,
)
from myna.platform.sessions import SessionStore
from myna.platform.settings import Settings
from myna.portal.phone import PhoneIssuance
from myna.tax import filing as tax_filing

__all__ = ["Container", "build_container", "import_all_models", "session_caches"]


@dataclass
class Container:
    """What a running Myna is made of, built once from settings."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    # The time proxies' authorities are judged at (a child's 15th birthday, an
    # appointment's last day); tests set their own.
    proxy_clock: Callable[[], datetime] = utcnow

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        """The process's one rate limiter, built from the settings on first use."""
        return RateLimiter.from_settings(self.settings, on_refused=self.metrics.refused)

    @cached_property
    def metrics(self) -> Metrics:
        """This portal's Prometheus collectors, in a registry of its own."""
        procedures = {
            *agencies.load_catalog().procedures,
            network.CORRECTION_REQUEST,
            network.CORRECTION_ANSWER,
            jpki.LOG_PROCEDURE,
        }
        return Metrics(procedures=procedures, log_gauges=self._log_gauges)

    @cached_property
    def metrics_access(self) -> MetricsAccess:
        """Who may scrape ``/metrics`` (``MYNA_METRICS_TOKEN``, ``MYNA_METRICS_LOOPBACK``)."""
        return MetricsAccess(
            token=self.settings.metrics_token, loopback=self.settings.metrics_loopback
        )

    @cached_property
    def operations(self) -> Operations:
        """The portal's /healthz, /readyz and /metrics: its collectors, access and checks."""
        return Operations(
            metrics=self.metrics, access=self.metrics_access, readiness=self.readiness
        )

    def _log_gauges(self) -> LogGauges:
        with self.session_factory() as session:
            status = transparency.log_status(session=session)
        age = None if status.signed_at is None else (utcnow() - status.signed_at).total_seconds()
        return LogGauges(
            entries=status.entries,
            signed_entries=status.signed_size,
            newest_head_age_seconds=age,
        )

    @cached_property
    def readiness(self) -> ReadinessProbe:
        """The checks of ``/readyz``: database, shared rate-limit storage, log signer."""
        timeout = self.settings.ready_timeout_seconds
        checks = [
            database_check(
                self._new_session,
                expected_revision=schema_head(),
                timeout_seconds=timeout,
            )
        ]
        if self.rate_limiter.shared:
            checks.append(storage_check("redis", self.rate_limiter.storage_answers))
        checks.append(Check("log_signer", self._log_signer_ready))
        return ReadinessProbe(checks, timeout_seconds=timeout)

    def _new_session(self) -> Session:
        # The factory as it is when asked: tests put one over their transaction.
        return self.session_factory()

    def _log_signer_ready(self) -> str:
        """The tree-head key is loaded and heads keep up with the log (see ``LogStatus``)."""
        signer = self.log_signer  # raises when the key can be neither read nor made
        with self.session_factory() as session:
            status = transparency.log_status(session=session)
        waited = status.unsigned_for(utcnow())
        if waited > self.settings.ready_tree_head_max_age_seconds:
            msg = f"{status.unsigned} entries unsigned for {int(waited)} s"
            raise NotReadyError(msg)
        return f"key {signer.key_id}; {status.signed_size} of {status.entries} entries signed"

    @cached_property
    def sessions(self) -> SessionStore:
        """Residents' and staff's browser sessions (tests may swap in one with their clock)."""
        return SessionStore.from_settings(self.settings)

    @cached_property
    def counter_reader(self) -> card.CardReader:
        """The card reader at the municipal counters (市民カード化): the virtual cards.

        Tests swap in a reader of their own; a deployment with card readers at its
        counters puts an ``ApduCardReader`` over PC/SC here.
        """
        return card.VirtualCardReader.from_settings(self.settings)

    @cached_property
    def stats_cache(self) -> stats.DashboardCache:
        """The usage statistics' figures, reused while fresh (``MYNA_STATS_CACHE_SECONDS``)."""
        return stats.DashboardCache(max_age_seconds=self.settings.stats_cache_seconds)

    @cached_property
    def procedures(self) -> Procedures:
        """The e-application procedure handlers (a move's saga is the moves context's)."""
        return Procedures(moves.procedure_handlers())

    @cached_property
    def agency_transport(self) -> HttpTransport | None:
        """The one connection pool to the agency nodes (None in embedded mode)."""
        return network.http_transport(self.settings)

    @cached_property
    def log_signer(self) -> transparency.LogSigner:
        """The exchange log's signing key (read, or made on first use, under the data dir)."""
        return network.load_log_signer(self.settings)

    @cached_property
    def signed_requests(self) -> jpki.SignedRequests:
        """How the JPKI opens verifiers' signed requests: the network's rule, its seen ids."""
        return NetworkSignedRequests()

    @cached_property
    def provision_log(self) -> jpki.ProvisionLog:
        """Where the JPKI writes each provision of latest 4 info: the exchange log."""
        return ExchangeLogProvisions(counter=self.metrics)

    @cached_property
    def jwks_cache(self) -> organizations.JwksCache:
        """Partners' key sets fetched from their jwks_uris, shared by the worker threads."""
        return organizations.JwksCache()

    @cached_property
    def tax_documents(self) -> tax.DocumentSource:
        """Where the tax return reads the resident's delivered documents (the 民間送達 box)."""
        return DeliveryBox()

    @cached_property
    def signed_documents(self) -> dict[str, SignedDocumentHandler]:
        """What happens to documents other than applications once the card signed them."""
        return {
            tax_filing.PURPOSE: tax_filing.ReturnFiling(hub_for=self.hub_for),
            authapp.IDENTITY_PURPOSE: authapp.IdentitySigning(),
            authapp.SIGN_PURPOSE: authapp.TransactionSigning(),
            phone.ISSUANCE_PURPOSE: PhoneIssuance(settings=self.settings),
        }

    def platform_administrator(self, session: Session, staff_id: int) -> str | None:
        """The name of a logged-in staff member who administers the platform, else None.

        Partners' review pages ask this rather than the back office, which sits below them.
        """
        return office.platform_administrator(session=session, staff_id=staff_id)

    def unread_notices(self, session: Session, resident_id: int) -> int:
        """How many of the resident's notices are unread: the layout's menu shows it.

        The platform's pages ask this rather than the notices context, which sits above it.
        """
        return notices.unread_count(session=session, resident_id=resident_id)

    def hub_for(self, session: Session) -> network.Hub:
        """The hub for one unit of work (in-process agencies share ``session``).

        Answers to residents' correction requests go to the portal's inbox.
        """
        return network.build_hub(
            session=session,
            settings=self.settings,
            remote=self.agency_transport,
            inbox=self.correction_inbox,
            counter=self.metrics,
        )

    @cached_property
    def correction_inbox(self) -> corrections.Inbox:
        """Where answers to correction requests (訂正の申出) reach the resident."""
        return corrections.Inbox()

    def publish_tree_head(self, session: Session) -> transparency.SignedTreeHead:
        """Sign a tree head over every exchange logged so far (RFC 9162 §4.10)."""
        return transparency.publish_tree_head(session=session, signer=self.log_signer)

    def close(self) -> None:
        """Release what the container holds open (the pool to the agency nodes)."""
        if "agency_transport" in self.__dict__ and self.agency_transport is not None:
            self.agency_transport.close()
            del self.__dict__["agency_transport"]


class NetworkSignedRequests:
    """Organisations' signed requests opened as the network opens them (JWS, x5c, once).

    The JPKI sits below the network, so its verifier API gets the network's rule — the
    one agencies, senders and institutions are held to — from here, not a copy of it.
    """

    def open(
        self, token: str, *, session: Session, settings: Settings, max_bytes: int
    ) -> jpki.SignedRequest:
        """Verify ``token`` with its government-CA certificate; its signer and payload."""
        opened = network.open_signed(token, session=session, settings=settings, max_bytes=max_bytes)
        return jpki.SignedRequest(signer=opened.sender, payload=opened.payload)

    def admit_once(
        self, *, session: Session, request_id: str, requester: str, issued_at: datetime
    ) -> None:
        """Accept a request id once, within the clock skew (``network.admit_once``)."""
        network.admit_once(
            session=session, request_id=request_id, requester=requester, issued_at=issued_at
        )


class ExchangeLogProvisions:
    """Provisions of latest 4 info (最新4情報の提供) written to the exchange log.

    J-LIS gives a verifier the 4 info without the hub (it holds them itself), yet the
    holder sees the provision in やりとり履歴 beside every exchange of the network: the
    verifier as the requester (``jv-<code>``), J-LIS as the provider, the consented
    purpose, written in the transaction of the answer.
    """

    def __init__(self, *, counter: network.ExchangeCounter | None = None) -> None:
        self.counter = counter

    def record(self, *, session: Session, provisions: list[jpki.Provision]) -> None:
        """Append one log entry per provision."""
        transparency.append(
            session=session,
            entries=[
                transparency.NewEntry(
                    time=provision.at,
                    requester=provision.verifier_organization,
                    provider=jpki.LOG_PROVIDER,
                    procedure=jpki.LOG_PROCEDURE,
                    item=jpki.LOG_ITEM,
                    subject=str(provision.holder_id),
                    outcome=transparency.Outcome.SUCCESS,
                    purpose=provision.purpose,
                )
                for provision in provisions
            ],
        )
        if self.counter is not None:
            self.counter.exchanged(
                jpki.LOG_PROCEDURE, [transparency.Outcome.SUCCESS.value] * len(provisions)
            )


class DeliveryBox:
    """The 民間送達 box as the tax return's document source."""

    def documents(
        self, *, session: Session, resident_id: int, year: int
    ) -> list[tax.DeliveredDocument]:
        """The resident's documents of ``year`` (年分), as delivered and verified."""
        return [
            tax.DeliveredDocument(r.delivery_id, r.sender_name, r.received_at, r.document)
            for r in delivery.documents_of(session=session, resident_id=resident_id, year=year)
        ]


def session_caches() -> dict[str, object]:
    """The process's caches that travel with each session (``Session.info``).

    The JPKI CAs' decrypted material and CRLs, the agencies' decrypted credentials, the
    municipalities' certificate-signing keys and material: the code that needs them works
    with a session, so the root hands them over that way.
    """
    return {
        jpki_service.CACHE_KEY: jpki_service.new_cache(),
        credentials.CACHE_KEY: credentials.new_cache(),
        certificate_signing.CACHE_KEY: certificate_signing.new_cache(),
    }


def build_container(settings: Settings, *, engine: Engine | None = None) -> Container:
    """Build engine, session factory and adapters from ``settings``."""
    import_all_models()
    engine = engine or make_engine(settings.effective_database_url)
    factory = make_session_factory(engine, info=session_caches())
    return Container(settings=settings, engine=engine, session_factory=factory)
