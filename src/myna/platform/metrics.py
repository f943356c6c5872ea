"""Prometheus metrics of one running portal: requests, exchanges, refusals, the log.

Every collector belongs to a :class:`Metrics`, which owns a ``CollectorRegistry`` of its
own; the composition root keeps one per container, so several apps in one process (the
tests) never share or clash over a module-global collector.

With several worker processes (``myna serve --workers N``) each worker counts apart;
prometheus-client's multiprocess mode adds them up when ``PROMETHEUS_MULTIPROC_DIR``
names a directory every worker writes to (set before the processes start: the client
chooses its value store at import). The scrape then reads that directory
(``MultiProcessCollector``) instead of the process's own registry. Values computed at
scrape time — the exchange log's size and the age of its newest signed tree head — are
read from the database by whichever worker answers, the same in any mode.

Labels carry no personal data and stay few: the route *template*
(``/office/applications/{application_id}``, never the path with its ids), the method,
the status, a procedure of the catalog (``other`` for any name it does not list), an
exchange outcome, a limit's name.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from pydantic import SecretStr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from myna.platform.logging import get_logger

__all__ = [
    "CONTENT_TYPE_LATEST",
    "MULTIPROCESS_ENV",
    "LogGauges",
    "Metrics",
    "MetricsAccess",
    "MetricsMiddleware",
    "multiprocess_dir",
    "prepare_multiprocess_dir",
    "route_of",
]

log = get_logger(__name__)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The route label of a request no route matched (a 404): never the path it asked for.
UNMATCHED = "unmatched"
OTHER_PROCEDURE = "other"
# Request latencies from a cached page to a slow hub exchange with agency nodes.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# The files prometheus-client writes in multiprocess mode (one per metric kind and pid).
_MULTIPROCESS_FILES = ("counter_*.db", "histogram_*.db", "gauge_*.db", "summary_*.db")


def multiprocess_dir() -> Path | None:
    """The multiprocess directory from the environment, or None in single-process mode."""
    value = os.environ.get(MULTIPROCESS_ENV, "")
    return Path(value) if value else None


def prepare_multiprocess_dir() -> Path | None:
    """Create the multiprocess directory and remove the previous run's counts.

    Called once by the parent before it starts the workers: files of processes long
    gone would otherwise be added to the new run's figures.
    """
    directory = multiprocess_dir()
    if directory is None:
        return None
    directory.mkdir(parents=True, exist_ok=True)
    for pattern in _MULTIPROCESS_FILES:
        for stale in directory.glob(pattern):
            stale.unlink(missing_ok=True)
    return directory


@dataclass(frozen=True, slots=True)
class LogGauges:
    """The exchange log as the scrape reports it (no entry's content)."""

    entries: int
    signed_entries: int
    newest_head_age_seconds: float | None


class _LogCollector(Collector):
    """Reads the exchange log's gauges from the database at each scrape."""

    def __init__(self, read: Callable[[], LogGauges]) -> None:
        self._read = read

    def collect(self) -> Iterable[Metric]:
        try:
            gauges = self._read()
        except Exception:
            log.warning("metrics_log_unreadable")
            return []
        entries = GaugeMetricFamily(
            "myna_exchange_log_entries", "Entries in the exchange log (やりとり履歴)."
        )
        entries.add_metric([], gauges.entries)
        signed = GaugeMetricFamily(
            "myna_exchange_log_signed_entries",
            "Entries covered by the newest signed tree head.",
        )
        signed.add_metric([], gauges.signed_entries)
        found: list[Metric] = [entries, signed]
        if gauges.newest_head_age_seconds is not None:
            age = GaugeMetricFamily(
                "myna_exchange_log_tree_head_age_seconds",
                "Seconds since the newest tree head was signed.",
            )
            age.add_metric([], gauges.newest_head_age_seconds)
            found.append(age)
        return found


class Metrics:
    """The portal's collectors in a registry of their own (one per composition root)."""

    def __init__(
        self,
        *,
        procedures: Collection[str] = (),
        log_gauges: Callable[[], LogGauges] | None = None,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._procedures = frozenset(procedures)
        self._log = None if log_gauges is None else _LogCollector(log_gauges)
        self.requests = Counter(
            "myna_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "myna_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ("route", "method"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.exchange_items = Counter(
            "myna_exchange_items",
            "Items the hub exchanged and logged, by procedure (事務) and outcome.",
            ("procedure", "outcome"),
            registry=self.registry,
        )
        # Route templates, methods and statuses are few: their children are kept.
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.rate_limited = Counter(
            "myna_rate_limit_refusals",
            "Attempts refused by a named rate limit.",
            ("limit",),
            registry=self.registry,
        )

    def observe_request(self, *, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        key = (route, method, status)
        found = self._request_children.get(key)
        if found is None:
            # A child per label set, kept: ``labels`` checks and locks on every call.
            found = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route, method),
            )
            self._request_children[key] = found
        found[0].inc()
        found[1].observe(seconds)

    def exchanged(self, procedure: str, outcomes: Sequence[str]) -> None:
        """Count the items of one exchange the hub logged, by their outcome."""
        label = procedure if procedure in self._procedures else OTHER_PROCEDURE
        for outcome in outcomes:
            self.exchange_items.labels(label, outcome).inc()

    def refused(self, limit: str) -> None:
        """Count one attempt a rate limit refused."""
        self.rate_limited.labels(limit).inc()

    def exposition(self) -> bytes:
        """The text exposition format: this process's counts, or every worker's."""
        registry = CollectorRegistry(auto_describe=False)
        directory = multiprocess_dir()
        if directory is not None:
            MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
        else:
            registry.register(self.registry)
        if self._log is not None:
            registry.register(self._log)
        return generate_latest(registry)


def route_of(scope: Scope) -> str:
    """The matched route's template (a mount's prefix), or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class MetricsMiddleware:
    """Counts every HTTP request by route template, method and status, with its latency."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.observe_request(
                route=route_of(scope),
                method=str(scope["method"]),
                status=status,
                seconds=time.perf_counter() - started,
            )


class MetricsAccess:
    """Who may read ``/metrics``: a bearer token's holder, or loopback clients if allowed."""

    def __init__(self, *, token: SecretStr | None, loopback: bool) -> None:
        self._token = None if token is None else token.get_secret_value().encode()
        self._loopback = loopback

    @property
    def enabled(self) -> bool:
        """Whether the endpoint exists at all (a token or loopback scraping configured)."""
        return self._token is not None or self._loopback

    @property
    def wants_token(self) -> bool:
        """Whether a bearer token is configured (a refusal then asks for it)."""
        return self._token is not None

    def allows(self, *, authorization: str | None, peer: str | None) -> bool:
        """Whether a request with this Authorization header from ``peer`` may scrape."""
        if self._token is not None and authorization is not None:
            scheme, _, presented = authorization.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(
                presented.strip().encode(), self._token
            ):
                return True
        return self._loopback and _is_loopback(peer)


def _is_loopback(peer: str | None) -> bool:
    if not peer:
        return False
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False
