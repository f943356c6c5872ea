"""Shared benchmark plumbing: a throw-away platform, servers, load loops and phases, results."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    NamedTuple,
    Protocol,
    TypeVar,
    overload,
    runtime_checkable,
)

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from myna.bootstrap import Container, build_container
from myna.platform.settings import Settings
from myna.runtime import PORTAL_FACTORY

if TYPE_CHECKING:
    from myna.bench.people import Population

# The deployment secrets of every benchmark's throw-away platform (never a real one).
BENCH_SECRETS = {
    "MYNA_SECRET_KEY": "bench-secret-key",
    "MYNA_CARD_SECRET": "bench-card-secret",
    "MYNA_CA_SECRET": "bench-ca-secret",
}


class BenchmarkError(RuntimeError):
    """A benchmark that cannot run as asked; its message says what to do instead."""


# A rate limit no benchmark reaches: the server's own work is measured, not its limiter.
UNLIMITED = "10000000/minute"
Item = TypeVar("Item")


@dataclass
class Result:
    """What every scenario reports (the JSON file's fields)."""

    scenario: str
    rate_per_s: float
    p50_ms: float
    p99_ms: float
    baseline_rate_per_s: float
    ratio: float
    details: dict[str, object] = field(default_factory=dict)

    @classmethod
    def of_load(
        cls,
        scenario: str,
        *,
        full: LoadStats,
        half: LoadStats,
        baseline: LoadStats,
        details: dict[str, object],
    ) -> Result:
        """The rate at full load, the latencies at half load, both beside the trivial rate."""
        return cls(
            scenario=scenario,
            rate_per_s=round(full.rate, 1),
            p50_ms=round(half.percentile(50), 1),
            p99_ms=round(half.percentile(99), 1),
            baseline_rate_per_s=round(baseline.rate, 1),
            ratio=round(full.rate / baseline.rate, 3) if baseline.rate else 0.0,
            details=details,
        )

    def write(self, path: Path) -> None:
        """Write the result as JSON."""
        path.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False), encoding="utf-8")


@dataclass
class LoadStats:
    """Completed operations, errors and latencies of one load phase."""

    done: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    error_samples: list[str] = field(default_factory=list)

    def failed(self, exc: Exception) -> None:
        """Count a failed operation and keep the first few reasons for the report."""
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(f"{type(exc).__name__}: {exc}")

    @property
    def rate(self) -> float:
        """Completed operations per second."""
        return self.done / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        """The q-th percentile latency in milliseconds (nearest rank)."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
        return ordered[index] * 1000


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for servers in this process; subprocesses get a socket)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bound_socket() -> socket.socket:
    """A TCP socket bound to a free port of 127.0.0.1, to hand to a server subprocess."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def port_of(sock: socket.socket) -> int:
    """The port ``sock`` is bound to."""
    port: int = sock.getsockname()[1]
    return port


@dataclass(frozen=True, slots=True)
class CpuUse:
    """CPU seconds a server and its database's backends spent between two readings."""

    server_s: float
    database_s: float | None


@dataclass(frozen=True, slots=True)
class CpuReading:
    """CPU seconds a server and its database's backends have used so far."""

    server_s: float
    backends: dict[int, float] | None

    def until(self, later: CpuReading) -> CpuUse:
        """What was spent from this reading to ``later``."""
        return CpuUse(
            later.server_s - self.server_s, backends_cpu_between(self.backends, later.backends)
        )


@dataclass(frozen=True, slots=True)
class Server:
    """A benchmark's server process: where it answers, its PID, and its database."""

    url: str
    pid: int
    database_url: str = ""

    def cpu_seconds(self) -> float:
        """User and system CPU the server and its workers have used so far (Linux /proc).

        Read before and after a phase, the difference divided by the operations done is
        the server's CPU per operation — the figure that stays true when the load
        generator shares the machine's cores.
        """
        return process_tree_cpu_seconds(self.pid)

    def cpu(self) -> CpuReading:
        """The server's CPU so far, and its database backends' (see :func:`database_backends`)."""
        return CpuReading(self.cpu_seconds(), database_backends(self.database_url))


def process_tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and every process below it (``/proc/*/stat``)."""
    return sum(process_tree(pid).values())


def _stat_fields(pid: int | str) -> list[str] | None:
    """``/proc/<pid>/stat`` after the command name: state, ppid, … utime, stime; or None."""
    try:
        # The command name may hold spaces and parentheses: split after its last ")".
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None  # the process ended, or is not one of this host's


def _cpu_ticks(fields: list[str]) -> int:
    return int(fields[11]) + int(fields[12])


def process_tree(pid: int) -> dict[int, float]:
    """``pid`` and every process below it (uvicorn's workers, say), each one's CPU seconds.

    Each process's own user + system time, all its threads, from ``/proc/<pid>/stat``; a
    process that has ended is no longer counted (a server's workers live as long as it).
    """
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(entry.name)
        if fields is None:
            continue  # the process ended while the table was read
        parents[int(entry.name)] = int(fields[1])
        ticks[int(entry.name)] = _cpu_ticks(fields)
    tree = {pid}
    grew = True
    while grew:
        below = {child for child, parent in parents.items() if parent in tree} - tree
        grew = bool(below)
        tree |= below
    per_second = os.sysconf("SC_CLK_TCK")
    return {p: ticks[p] / per_second for p in tree if p in ticks}


# PostgreSQL on one of these runs on this host, so its backends are in this /proc.
_THIS_HOST = frozenset({"127.0.0.1", "localhost", "::1"})
_BACKENDS = text(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
    "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
)


def database_backends(database_url: str) -> dict[int, float] | None:
    """CPU seconds so far of each PostgreSQL backend connected to ``database_url``'s database.

    The server's own CPU leaves out the database's work; on PostgreSQL that is done in a
    backend process per connection, which ``/proc`` shows when the server runs on this
    host. Client backends of that one database only: another database's work on the same
    server, autovacuum and PostgreSQL's background processes are not counted. None when
    there is nothing to read: SQLite (its work runs inside the server process, already
    counted), or a PostgreSQL server elsewhere (a host not this one, or a backend that is
    not a ``postgres`` process here, as behind a container's port).
    """
    if not database_url.startswith("postgresql"):
        return None
    url = make_url(database_url)
    if url.host is not None and url.host not in _THIS_HOST:
        return None
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            pids = list(connection.execute(_BACKENDS).scalars())
    finally:
        engine.dispose()
    per_second = os.sysconf("SC_CLK_TCK")
    backends: dict[int, float] = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue  # the backend ended since the query
        if not stat.startswith(f"{pid} (postgres) "):
            return None  # not this host's PostgreSQL
        fields = stat.rsplit(")", 1)[1].split()
        backends[pid] = _cpu_ticks(fields) / per_second
    if pids and not backends:
        return None  # none of them is a process here
    return backends


def backends_cpu_between(
    before: dict[int, float] | None, after: dict[int, float] | None
) -> float | None:
    """The backends' CPU from one reading to the next; None if either could not be read.

    A backend that started in between counts whole; one that ended in between is missed
    (a benchmark's server keeps its pooled connections open, so few end).
    """
    if before is None or after is None:
        return None
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


@contextmanager
def server_process(
    env: dict[str, str],
    *,
    sock: socket.socket,
    workers: int,
    factory: str = PORTAL_FACTORY,
    prelude: str = "",
) -> Iterator[Server]:
    """Run the portal (or ``factory``'s app) in a subprocess on ``sock``; stop it by its PID.

    The socket is bound here and inherited by the server, so the port cannot be taken by
    another process (a parallel test run, say) between choosing it and listening on it.
    ``prelude`` is Python run first in the subprocess (a fault test's set-up).
    """
    fd, port = sock.fileno(), port_of(sock)
    code = (
        "from myna.runtime import serve_on_socket; "
        f"serve_on_socket({fd}, workers={workers}, factory={factory!r})"
    )
    if prelude:
        code = f"{prelude}\n{code}"
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", code], env={**os.environ, **env}, pass_fds=(fd,)
    )
    sock.close()  # the server holds its own copy
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                msg = "the benchmark server exited during start-up"
                raise RuntimeError(msg)
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                msg = "the benchmark server did not start within 60 s"
                raise RuntimeError(msg)
            time.sleep(0.2)
        yield Server(url, process.pid, env.get("MYNA_DATABASE_URL", ""))
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def portal_process(
    env: dict[str, str], *, workers: int, sock: socket.socket | None = None
) -> Iterator[str]:
    """The portal in a subprocess, told its own URL (its cookies and CSRF checks need it)."""
    with portal_server(env, workers=workers, sock=sock) as server:
        yield server.url


@contextmanager
def portal_server(
    env: dict[str, str], *, workers: int, sock: socket.socket | None = None, prelude: str = ""
) -> Iterator[Server]:
    """:func:`portal_process`, giving the server (its URL and PID, for its CPU time)."""
    sock = sock or bound_socket()
    env = {**env, "MYNA_PORTAL_URL": f"http://127.0.0.1:{port_of(sock)}"}
    with server_process(env, sock=sock, workers=workers, prelude=prelude) as server:
        yield server


Operation = Callable[[httpx.AsyncClient], Awaitable[None]]


def get_ok(url: str) -> Operation:
    """The operation ``GET url``, failing unless the answer is a success."""

    async def get(client: httpx.AsyncClient) -> None:
        response = await client.get(url)
        response.raise_for_status()

    return get


def _clients(count: int) -> list[httpx.AsyncClient]:
    # Made before the clock starts: building a client loads a TLS context, tens of
    # milliseconds of client CPU that would otherwise show up as server latency.
    return [httpx.AsyncClient(timeout=30.0) for _ in range(count)]


async def _close(clients: list[httpx.AsyncClient]) -> None:
    await asyncio.gather(*(client.aclose() for client in clients))


async def _timed(
    operation: Operation, client: httpx.AsyncClient, stats: LoadStats, *, since: float
) -> None:
    """Run ``operation`` once: its latency from ``since`` when it succeeds, else a failure."""
    try:
        await operation(client)
    except Exception as exc:
        stats.failed(exc)
        return
    stats.latencies.append(time.perf_counter() - since)
    stats.done += 1


async def closed_loop(
    operation: Operation,
    *,
    concurrency: int,
    duration: float,
    exhausted: Callable[[], bool] | None = None,
) -> LoadStats:
    """``concurrency`` clients each repeating ``operation`` back to back for ``duration``.

    ``exhausted`` ends the phase early when the operations' supply runs out (e.g. the
    single-use codes of a token phase).
    """
    stats = LoadStats()
    clients = _clients(concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < stop_at and not (exhausted is not None and exhausted()):
            await _timed(operation, client, stats, since=time.perf_counter())

    began = time.perf_counter()
    stop_at = began + duration
    await asyncio.gather(*(worker(client) for client in clients))
    stats.elapsed = time.perf_counter() - began
    await _close(clients)
    return stats


async def paced_loop(
    operation: Operation, *, rate: float, duration: float, concurrency: int
) -> LoadStats:
    """Open-loop load: operations start at ``rate`` per second whatever the latency."""
    stats = LoadStats()
    interval = 1.0 / rate if rate > 0 else duration
    total = int(duration * rate)
    queue: asyncio.Queue[float] = asyncio.Queue()
    clients = _clients(concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            scheduled = await queue.get()
            if scheduled < 0:
                return
            # Latency counts from the scheduled start, so queueing delay shows.
            await _timed(operation, client, stats, since=scheduled)

    workers = [asyncio.create_task(worker(client)) for client in clients]
    began = time.perf_counter()
    for i in range(total):
        scheduled = began + i * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(scheduled)
    for _ in workers:
        queue.put_nowait(-1.0)
    await asyncio.gather(*workers)
    stats.elapsed = time.perf_counter() - began
    await _close(clients)
    return stats


async def in_turn(
    operation: Callable[[httpx.AsyncClient, Item], Awaitable[None]], items: Iterable[Item]
) -> LoadStats:
    """``operation`` once per item, one after another, from one client: a warm-up.

    The first requests of a server process are cold (keys decrypted, caches filled);
    a failure is counted, as in the load loops, and the next item is tried.
    """
    stats = LoadStats()
    async with httpx.AsyncClient(timeout=30.0) as client:
        for item in items:
            began = time.perf_counter()
            try:
                await operation(client, item)
            except Exception as exc:
                stats.failed(exc)
                continue
            stats.latencies.append(time.perf_counter() - began)
            stats.done += 1
    return stats


class Load(NamedTuple):
    """How hard a scenario's phases push: clients at once, seconds each; where they report.

    ``clients`` load-generator processes share the ``concurrency`` (and a paced phase's
    rate) between them, so one process's event loop does not cap the figure.
    """

    concurrency: int
    duration: float
    console: Console
    clients: int = 1


@runtime_checkable
class SharedOperation(Protocol):
    """An operation with state to split among client processes and to gather back."""

    def share(self, index: int, count: int) -> None:
        """In client process ``index`` of ``count``: keep only this process's part."""

    def tally(self) -> object:
        """What this process counted (picklable), for :meth:`absorb` in the parent."""

    def absorb(self, tally: object) -> None:
        """Add a client process's :meth:`tally` to this operation's counts."""


def share_of(total: int, index: int, count: int) -> int:
    """Process ``index``'s part of ``total`` split evenly over ``count`` (at least one)."""
    return max(1, total // count + (1 if index < total % count else 0))


def merged(parts: list[LoadStats]) -> LoadStats:
    """One phase from its client processes' parts: counts summed, latencies pooled.

    The elapsed time is the longest part's, so the rate is every operation done over the
    phase's wall time (the parts' rates summed, give or take their start-up skew).
    """
    return LoadStats(
        done=sum(part.done for part in parts),
        errors=sum(part.errors for part in parts),
        latencies=[latency for part in parts for latency in part.latencies],
        elapsed=max((part.elapsed for part in parts), default=0.0),
        error_samples=[sample for part in parts for sample in part.error_samples][:5],
    )


LoopOf = Callable[[int, int], Coroutine[Any, Any, LoadStats]]


def _client_process(
    operation: object, index: int, count: int, loop_of: LoopOf, sender: Connection
) -> None:
    """A forked client process: its part of the operation's state, its loop, its stats."""
    try:
        if isinstance(operation, SharedOperation):
            operation.share(index, count)
        stats = asyncio.run(loop_of(index, count))
        tally = operation.tally() if isinstance(operation, SharedOperation) else None
        sender.send((stats, tally, ""))
    except Exception as exc:  # reported to the parent, which raises it
        sender.send((None, None, f"{type(exc).__name__}: {exc}"))
    finally:
        sender.close()


def in_processes(operation: object, clients: int, loop_of: LoopOf) -> LoadStats:
    """``loop_of(index, clients)`` in ``clients`` forked client processes, merged.

    With one client the loop runs in this process, as it always did. Forked, each
    process has the operation as it was (logged-in sessions, keys, tokens); one that is a
    :class:`SharedOperation` keeps its part of the state and sends its tally back.
    """
    if clients <= 1:
        return asyncio.run(loop_of(0, 1))
    context = multiprocessing.get_context("fork")
    started: list[tuple[multiprocessing.context.ForkProcess, Connection]] = []
    for index in range(clients):
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_client_process,
            args=(operation, index, clients, loop_of, sender),
            daemon=True,
        )
        process.start()
        sender.close()  # the child holds its own end
        started.append((process, receiver))
    parts: list[LoadStats] = []
    failures: list[str] = []
    for process, receiver in started:
        try:
            stats, tally, failure = receiver.recv()
        except EOFError:
            stats, tally, failure = None, None, "a client process ended without its results"
        receiver.close()
        process.join()
        if failure or stats is None:
            failures.append(failure)
            continue
        parts.append(stats)
        if isinstance(operation, SharedOperation):
            operation.absorb(tally)
    if failures:
        msg = "; ".join(failures)
        raise RuntimeError(msg)
    return merged(parts)


def closed_load(
    operation: Operation,
    load: Load,
    *,
    exhausted: Callable[[], bool] | None = None,
) -> LoadStats:
    """:func:`closed_loop` at ``load`` from its client processes, ``concurrency`` shared.

    An operation drawing on a supply (``exhausted``) runs in this process only: each
    forked copy of the supply would hand every item out once more.
    """
    clients = 1 if exhausted is not None else load.clients

    def loop_of(index: int, count: int) -> Coroutine[Any, Any, LoadStats]:
        return closed_loop(
            operation,
            concurrency=share_of(load.concurrency, index, count),
            duration=load.duration,
            exhausted=exhausted,
        )

    return in_processes(operation, clients, loop_of)


def paced_load(
    operation: Operation, load: Load, *, rate: float, concurrency: int, clients: int
) -> LoadStats:
    """:func:`paced_loop` from ``clients`` processes, the rate and the clients shared."""

    def loop_of(index: int, count: int) -> Coroutine[Any, Any, LoadStats]:
        return paced_loop(
            operation,
            rate=rate / count,
            duration=load.duration,
            concurrency=share_of(concurrency, index, count),
        )

    return in_processes(operation, clients, loop_of)


def _processes(clients: int) -> str:
    return f" from {clients} client processes" if clients > 1 else ""


def baseline_phase(url: str, load: Load) -> LoadStats:
    """The server's trivial endpoint (``GET /healthz``) back to back: every ratio's yardstick."""
    load.console.print(
        f"Trivial endpoint, {load.concurrency} clients{_processes(load.clients)}, "
        f"{load.duration:.0f} s…"
    )
    return closed_load(get_ok(f"{url}/healthz"), load)


def full_and_half_load(
    operation: Operation,
    what: str,
    load: Load,
    *,
    min_rate: float = 1.0,
    exhausted: Callable[[], bool] | None = None,
    before_half: Callable[[int], None] | None = None,
) -> tuple[LoadStats, LoadStats]:
    """``operation`` back to back, then paced at half the rate reached (open loop).

    The paced phase gets four times the clients, so answers queue behind a slow one only
    when the server, not the client pool, is saturated. ``exhausted`` can end the first
    phase early (see :func:`closed_loop`); ``before_half`` is told how many operations the
    paced phase will start, before it starts (to reset counters or prepare that many).
    """
    concurrency, duration, console, _ = load
    # Operations drawn from a supply run in one client process (see closed_load).
    clients = 1 if exhausted is not None else load.clients
    console.print(f"{what}, {concurrency} clients{_processes(clients)}, {duration:.0f} s…")
    full = closed_load(operation, load, exhausted=exhausted)
    half_rate = max(min_rate, full.rate / 2)
    if before_half is not None:
        before_half(int(duration * half_rate))
    # A floor below one per second needs a decimal to be read.
    shown = f"{half_rate:.0f}" if min_rate >= 1 else f"{half_rate:.1f}"
    console.print(f"{what} paced at half load ({shown}/s){_processes(clients)}, {duration:.0f} s…")
    half = paced_load(operation, load, rate=half_rate, concurrency=concurrency * 4, clients=clients)
    return full, half


class WarmOperation(Protocol):
    """A scenario's operation for the load loops, with the warm-up that comes before them."""

    async def __call__(self, client: httpx.AsyncClient) -> None:
        """Run the operation once; raise unless it did what it should."""

    async def warm_up(self) -> LoadStats:
        """The first operations of the server process, untimed by the phases."""


@dataclass(frozen=True, slots=True)
class Plan:
    """How an HTTP scenario runs: the population it seeds and the load it puts on a server."""

    residents: int
    duration: float
    concurrency: int
    workers: int
    database_url: str = ""
    reuse: bool = False
    clients: int = 1

    def load(self, console: Console) -> Load:
        """The load of each phase, reported on ``console``."""
        return Load(self.concurrency, self.duration, console, self.clients)


@dataclass(frozen=True, slots=True)
class Measured:
    """The phases of an HTTP scenario, and the server CPU the trivial and the real ones used."""

    cold: LoadStats
    baseline: LoadStats
    full: LoadStats
    half: LoadStats
    trivial_cpu_s: float
    busy_cpu_s: float
    trivial_database_cpu_s: float | None = None
    busy_database_cpu_s: float | None = None

    @property
    def cpu_ms_per_operation(self) -> float:
        """Server CPU per completed operation over the full and half load phases."""
        return self.busy_cpu_s * 1000 / max(1, self.full.done + self.half.done)

    @property
    def cpu_ms_per_trivial_request(self) -> float:
        """Server CPU per trivial request (the yardstick's cost)."""
        return self.trivial_cpu_s * 1000 / max(1, self.baseline.done)

    @property
    def database_cpu_ms_per_operation(self) -> float | None:
        """PostgreSQL's CPU per completed operation (its backends), when it could be read."""
        return cpu_ms_per(self.busy_database_cpu_s, self.full, self.half)

    @property
    def database_cpu_ms_per_trivial_request(self) -> float | None:
        """PostgreSQL's CPU per trivial request, when it could be read."""
        return cpu_ms_per(self.trivial_database_cpu_s, self.baseline)

    def phases(self, noun: str) -> dict[str, LoadStats]:
        """The phases by the names a table shows, the warm-up last."""
        return {
            **load_phases(noun, self.baseline, self.full, self.half),
            f"first {noun} (warm-up)": self.cold,
        }

    def details(self, noun: str) -> dict[str, object]:
        """What every HTTP scenario's result says about its phases."""
        every = (self.cold, self.baseline, self.full, self.half)
        return {
            "p95_ms": round(self.half.percentile(95), 1),
            "full_load_p50_ms": round(self.full.percentile(50), 1),
            "full_load_p95_ms": round(self.full.percentile(95), 1),
            "full_load_p99_ms": round(self.full.percentile(99), 1),
            "full_load_errors": self.full.errors,
            "half_load_rate_per_s": round(self.half.rate, 1),
            "half_load_errors": self.half.errors,
            "warm_up_errors": self.cold.errors,
            "errors": sum(stats.errors for stats in every),
            "error_samples": sorted({sample for stats in every for sample in stats.error_samples}),
            f"first_{noun}_p50_ms": round(self.cold.percentile(50), 1),
            f"first_{noun}_max_ms": round(max(self.cold.latencies, default=0.0) * 1000, 1),
            f"server_cpu_ms_per_{noun}": round(self.cpu_ms_per_operation, 2),
            "server_cpu_ms_per_trivial_request": round(self.cpu_ms_per_trivial_request, 3),
            f"database_cpu_ms_per_{noun}": self.database_cpu_ms_per_operation,
            "database_cpu_ms_per_trivial_request": self.database_cpu_ms_per_trivial_request,
            "baseline_p50_ms": round(self.baseline.percentile(50), 1),
        }

    def result(
        self,
        scenario: str,
        noun: str,
        *,
        plan: Plan,
        population: Population,
        database_url: str,
        details: dict[str, object],
    ) -> Result:
        """The scenario's result: the shared fields, then ``details`` of its own."""
        return Result.of_load(
            scenario,
            full=self.full,
            half=self.half,
            baseline=self.baseline,
            details={
                "population": population.size,
                "database": database_kind(database_url),
                "reused_database": population.reused,
                "setup_s": round(population.setup_s, 1),
                **load_settings(plan.duration, plan.concurrency, plan.workers, plan.clients),
                **self.details(noun),
                **details,
            },
        )


def measure(
    server: Server,
    operation: WarmOperation,
    what: str,
    load: Load,
    *,
    warm_up: str,
    exhausted: Callable[[], bool] | None = None,
    before_half: Callable[[int], None] | None = None,
) -> Measured:
    """Warm-up, the trivial endpoint, then ``operation`` at full and half load.

    The server's CPU (and its PostgreSQL backends', when they can be read) is read around
    the trivial phase and around the two load phases together, so each result gives the
    CPU per operation beside the rate.
    """
    load.console.print(f"Warm-up: {warm_up}…")
    cold = asyncio.run(operation.warm_up())
    before = server.cpu()
    baseline = baseline_phase(server.url, load)
    trivial = before.until(server.cpu())
    before = server.cpu()
    full, half = full_and_half_load(
        operation, what, load, exhausted=exhausted, before_half=before_half
    )
    busy = before.until(server.cpu())
    return Measured(
        cold,
        baseline,
        full,
        half,
        trivial.server_s,
        busy.server_s,
        trivial.database_s,
        busy.database_s,
    )


def bench_settings(data_dir: Path, database_url: str) -> Settings:
    """The settings of a benchmark's platform: production mode, the bench secrets."""
    return Settings(
        environment="production",
        data_dir=data_dir,
        database_url=database_url,
        secret_key=BENCH_SECRETS["MYNA_SECRET_KEY"],
        card_secret=BENCH_SECRETS["MYNA_CARD_SECRET"],
        ca_secret=BENCH_SECRETS["MYNA_CA_SECRET"],
    )


def load_phases(
    what: str, baseline: LoadStats, full: LoadStats, half: LoadStats
) -> dict[str, LoadStats]:
    """The three phases every HTTP scenario runs, by the names its table shows."""
    return {"trivial endpoint": baseline, f"{what}, full load": full, f"{what}, half load": half}


def print_phases(console: Console, title: str, phases: dict[str, LoadStats]) -> None:
    """One line per phase (rate, p50, p95, p99, errors), then the distinct error samples."""
    table = Table(title=title)
    for column in ("phase", "rate/s", "p50 ms", "p95 ms", "p99 ms", "errors"):
        table.add_column(column, justify="right")
    for name, stats in phases.items():
        table.add_row(
            name,
            f"{stats.rate:.0f}" if stats.elapsed else "—",
            f"{stats.percentile(50):.1f}",
            f"{stats.percentile(95):.1f}",
            f"{stats.percentile(99):.1f}",
            str(stats.errors),
        )
    console.print(table)
    for sample in {s for stats in phases.values() for s in stats.error_samples}:
        console.print(f"[red]error:[/red] {sample}")


def database_kind(url: str) -> str:
    """How a result names its database."""
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def load_settings(
    duration: float, concurrency: int, workers: int, clients: int = 1
) -> dict[str, object]:
    """How an HTTP scenario was run, as every result's details say it."""
    return {
        "duration_s": duration,
        "concurrency": concurrency,
        "workers": workers,
        "client_processes": clients,
    }


def database_cpu_note(ms: object, noun: str) -> str:
    """The console's mention of PostgreSQL's CPU per operation, when it was read."""
    return f", PostgreSQL {ms} ms per {noun}" if ms is not None else ""


@overload
def cpu_ms_per(cpu_s: float, *phases: LoadStats) -> float: ...
@overload
def cpu_ms_per(cpu_s: float | None, *phases: LoadStats) -> float | None: ...
def cpu_ms_per(cpu_s: float | None, *phases: LoadStats) -> float | None:
    """CPU milliseconds per operation completed in ``phases`` (rounded for a result).

    None stays None: a CPU time that could not be read (a database's, say).
    """
    if cpu_s is None:
        return None
    return round(cpu_s * 1000 / max(1, sum(phase.done for phase in phases)), 3)


@dataclass(frozen=True, slots=True)
class Workspace:
    """A scenario's throw-away platform: a data directory, a database and their container."""

    data_dir: Path
    database_url: str
    container: Container

    @property
    def settings(self) -> Settings:
        """The platform's settings (production mode, the bench secrets)."""
        return self.container.settings

    def server_env(self, **settings: str) -> dict[str, str]:
        """The environment of a server process on this platform, plus ``settings``."""
        return {
            **BENCH_SECRETS,
            "MYNA_ENVIRONMENT": "production",
            "MYNA_DATA_DIR": str(self.data_dir),
            "MYNA_DATABASE_URL": self.database_url,
            "MYNA_LOG_LEVEL": "WARNING",
            **settings,
        }


@contextmanager
def workspace(prefix: str, database_url: str, **settings: object) -> Iterator[Workspace]:
    """A temporary data directory; ``database_url``, or a fresh SQLite file in it."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        data_dir = Path(tmp)
        url = database_url or f"sqlite:///{(data_dir / 'bench.db').as_posix()}"
        configured = bench_settings(data_dir, url).model_copy(update=settings)
        yield Workspace(data_dir, url, build_container(configured))


def print_measures(console: Console, title: str, rows: list[tuple[str, str]]) -> None:
    """A two-column table: what was measured, and its value."""
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
