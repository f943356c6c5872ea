"""`myna bench log`: exchange-log appends per second and the resident's first page.

Phases, all in one process against a fresh database:

1. setup — a resident with ``subject_entries`` entries among four times as many of
   other residents, spread over the past year (bulk appends, not timed);
2. baseline — the same rows in the same transaction sizes from the same threads,
   inserted plainly (no Merkle tree), into a range of negative indices that is deleted
   afterwards: what the database does with no transparency at all;
3. log — ``threads`` threads each committing exchanges of 1–8 entries (the entries
   one exchange writes) through :func:`myna.network.transparency.append` (pending
   entries, group commit: ADR 0016), while the sequencer integrates what is pending and
   signs a tree head every second (as the portal's background publisher does) and a
   reader asks for the resident's first page 20 times a second; the sequencer's own CPU
   time is measured per entry it sequences;
4. page — the resident's first page (50 newest) read back to back, idle;
5. verify — :func:`verify_log` over the whole log.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from myna.bench.harness import BenchmarkError, LoadStats, Result
from myna.network import transparency as tlog
from myna.network.transparency.models import LogEntryRow
from myna.network.transparency.repository import entry_row
from myna.platform.db import make_engine, make_session_factory, unit_of_work, utcnow
from myna.platform.migrate import upgrade_to_head

SUBJECT = "100000"
PAGE_SIZE = 50
EXCHANGE_PAGE_SIZE = 20  # the やりとり履歴 page: exchanges, each opening to its items
HEAD_INTERVAL = 1.0
READER_RATE = 20.0
MAX_ENTRIES_PER_EXCHANGE = 8
PROVIDERS = ("nta", "mhlw", "jpn-pension", "mext", "hellowork", "131016", "271004", "kyokai")
ITEMS = (
    "household",
    "resident-tax.income",
    "health.insurance",
    "vaccination",
    "child-allowance",
    "pension.benefit",
    "care-insurance",
    "disability.certificate",
)


def _entry(rng: random.Random, subject: str, **extra: Any) -> tlog.NewEntry:
    return tlog.NewEntry(
        requester=rng.choice(("portal", "131016", "nta", "mhlw")),
        provider=rng.choice(PROVIDERS),
        procedure=f"proc-{rng.randrange(1, 120)}",
        item=rng.choice(ITEMS),
        subject=subject,
        outcome=tlog.Outcome.SUCCESS if rng.random() < 0.97 else tlog.Outcome.DENIED,
        **extra,
    )


def _setup(factory: sessionmaker[Session], subject_entries: int, console: Console) -> int:
    """The resident's entries among 4x as many others', over the past year."""
    rng = random.Random(1)  # noqa: S311 - synthetic data, not secrets
    total = subject_entries * 5
    now = utcnow()
    console.print(f"Setup: {total:,} entries ({subject_entries:,} for one resident)…")
    batch: list[tlog.NewEntry] = []
    for i in range(total):
        subject = SUBJECT if i % 5 == 0 else str(200_000 + rng.randrange(100_000))
        when = now - timedelta(days=365) + timedelta(seconds=i * 365 * 86400 / total)
        batch.append(_entry(rng, subject, time=when))
        if len(batch) == 2000 or i == total - 1:
            with unit_of_work(factory) as session:
                tlog.append(session=session, entries=batch)
            with unit_of_work(factory) as session:
                tlog.sequence(session=session)
            batch = []
    return total


def _pool(size: int = 4000) -> list[tlog.NewEntry]:
    rng = random.Random(2)  # noqa: S311
    return [_entry(rng, str(200_000 + rng.randrange(100_000))) for _ in range(size)]


def _sizes(seed: int) -> Callable[[], int]:
    rng = random.Random(seed)  # noqa: S311
    return lambda: rng.randint(1, MAX_ENTRIES_PER_EXCHANGE)


def _threaded(
    threads: int, duration: float, operation: Callable[[int, Callable[[], int]], int]
) -> tuple[LoadStats, int]:
    """Run ``operation(thread, sizes)`` back to back; latencies per call, rows counted."""
    stats = LoadStats()
    rows = [0] * threads
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)

    def worker(number: int) -> None:
        sizes = _sizes(number)
        latencies: list[float] = []
        barrier.wait()
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                rows[number] += operation(number, sizes)
            except Exception as exc:
                with lock:
                    stats.failed(exc)
                continue
            latencies.append(time.perf_counter() - started)
        with lock:
            stats.latencies.extend(latencies)
            stats.done += len(latencies)

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    stop_at = time.perf_counter() + duration
    began = time.perf_counter()
    barrier.wait()
    for thread in workers:
        thread.join()
    stats.elapsed = time.perf_counter() - began
    return stats, sum(rows)


def _baseline(
    factory: sessionmaker[Session], threads: int, duration: float, pool: list[tlog.NewEntry]
) -> tuple[LoadStats, int]:
    """Plain inserts of the same rows, no tree, at negative indices."""
    counter = iter(range(-1, -(10**12), -1))
    counter_lock = threading.Lock()
    table = LogEntryRow.__table__

    def operation(number: int, sizes: Callable[[], int]) -> int:
        count = sizes()
        now = utcnow()
        with counter_lock:
            indices = [next(counter) for _ in range(count)]
        rows = []
        for index in indices:
            new = pool[index % len(pool)]
            entry = tlog.LogEntry.record(index, new, now)
            # The rows the log writes, with a dummy hash: what it costs without the tree.
            rows.append(entry_row(entry, b"\x00" * 32))
        with unit_of_work(factory) as session:
            session.execute(insert(table), rows)  # type: ignore[arg-type]
        return count

    result = _threaded(threads, duration, operation)
    with unit_of_work(factory) as session:
        session.execute(delete(LogEntryRow).where(LogEntryRow.leaf_index < 0))
    return result


class _Background:
    """A thread repeating ``action`` every ``interval`` seconds until stopped."""

    def __init__(self, action: Callable[[], None], interval: float) -> None:
        self.action = action
        self.interval = interval
        self.stopped = threading.Event()
        self.latencies: list[float] = []
        self.starts: list[float] = []
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        next_at = time.perf_counter()
        while not self.stopped.is_set():
            started = time.perf_counter()
            try:
                self.action()
            except Exception as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self.starts.append(started)
            self.latencies.append(time.perf_counter() - started)
            next_at += self.interval
            self.stopped.wait(max(0.0, next_at - time.perf_counter()))

    def __enter__(self) -> _Background:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()


class _Publisher:
    """The background publisher's round: sequence what is pending, then sign a head."""

    def __init__(self, factory: sessionmaker[Session], signer: tlog.LogSigner) -> None:
        self.factory = factory
        self.signer = signer
        self.sequenced: list[int] = []
        self.cpu: list[float] = []
        self.wall: list[float] = []
        # Entries committed while the sequencer ran, sequenced by the head's own run.
        self.caught_up = 0

    def __call__(self) -> None:
        cpu, wall = time.thread_time(), time.perf_counter()
        with unit_of_work(self.factory) as session:
            given = tlog.sequence(session=session)
        self.sequenced.append(len(given))
        self.cpu.append(time.thread_time() - cpu)
        self.wall.append(time.perf_counter() - wall)
        with unit_of_work(self.factory) as session:
            head = tlog.publish_tree_head(session=session, signer=self.signer)
        self.caught_up += head.tree_size - given.stop

    def figures(self) -> dict[str, object]:
        """Entries sequenced, and the sequencer's CPU (this process) and time per entry.

        CPU and time are those of the sequencing transactions alone (not the signing),
        per entry they sequenced.
        """
        total = max(1, sum(self.sequenced))
        return {
            "entries_sequenced": sum(self.sequenced) + self.caught_up,
            "largest_sequenced_batch": max(self.sequenced, default=0),
            "sequencer_cpu_ms_per_entry": round(1000 * sum(self.cpu) / total, 4),
            "sequencer_wall_ms_per_entry": round(1000 * sum(self.wall) / total, 4),
            "sequence_p99_ms": round(_percentile(self.wall, 99), 2),
        }


def _percentile(values: list[float], q: float) -> float:
    stats = LoadStats(latencies=values)
    return stats.percentile(q)


def _pages(factory: sessionmaker[Session], count: int, *, exchanges: bool = False) -> list[float]:
    """``count`` reads of the resident's first page: entries, or exchanges (grouped)."""
    read = tlog.exchanges_for_subject if exchanges else tlog.entries_for_subject
    size = EXCHANGE_PAGE_SIZE if exchanges else PAGE_SIZE
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        with unit_of_work(factory) as session:
            page = read(session=session, subject=SUBJECT, page_size=size)
        latencies.append(time.perf_counter() - started)
        if len(page.items) != size:
            msg = "the resident's first page is short"
            raise RuntimeError(msg)
    return latencies


def _measure(
    engine: Engine, *, duration: float, threads: int, subject_entries: int, console: Console
) -> Result:
    factory = make_session_factory(engine)
    with unit_of_work(factory) as session:
        if tlog.tree_size(session=session):
            msg = (
                "The exchange log of this database is not empty: give --database-url a "
                "new, empty database (createdb), or leave it out for a fresh SQLite file."
            )
            raise BenchmarkError(msg)
    signer = tlog.LogSigner.generate()
    setup_started = time.perf_counter()
    setup_total = _setup(factory, subject_entries, console)
    setup_seconds = time.perf_counter() - setup_started
    pool = _pool()

    console.print(f"Baseline: plain inserts, {threads} threads, {duration:.0f} s…")
    baseline, baseline_rows = _baseline(factory, threads, duration, pool)

    def append(number: int, sizes: Callable[[], int]) -> int:
        count = sizes()
        start = (number * 7919 + len(pool)) % len(pool)
        entries = [pool[(start + i) % len(pool)] for i in range(count)]
        with unit_of_work(factory) as session:
            tlog.append(session=session, entries=entries)
        return count

    publish = _Publisher(factory, signer)

    def read_page() -> None:
        with unit_of_work(factory) as session:
            tlog.entries_for_subject(session=session, subject=SUBJECT, page_size=PAGE_SIZE)

    console.print(
        f"Exchange log: {threads} threads, heads every {HEAD_INTERVAL} s, {duration:.0f} s…"
    )
    process_cpu = time.process_time()
    with (
        _Background(publish, HEAD_INTERVAL) as publisher,
        _Background(read_page, 1 / READER_RATE) as reader,
    ):
        stats, appended = _threaded(threads, duration, append)
    process_cpu = time.process_time() - process_cpu
    publish()
    with unit_of_work(factory) as session:
        covered = tlog.latest_tree_head(session=session).tree_size
    head_gaps = [b - a for a, b in zip(publisher.starts, publisher.starts[1:], strict=False)]

    console.print("Resident's first page, idle, 1,000 reads…")
    pages = _pages(factory, 1000)
    console.print("Resident's first page of exchanges (やりとり履歴, grouped), 1,000 reads…")
    exchange_pages = _pages(factory, 1000, exchanges=True)
    console.print("verify_log over the whole log…")
    verify_started = time.perf_counter()
    with unit_of_work(factory) as session:
        report = tlog.verify_log(session=session, public_key=signer.public_jwk)
    verify_seconds = time.perf_counter() - verify_started

    rate = appended / stats.elapsed if stats.elapsed else 0.0
    baseline_rate = baseline_rows / baseline.elapsed if baseline.elapsed else 0.0
    details: dict[str, object] = {
        "database": engine.dialect.name,
        "threads": threads,
        "entries_per_exchange": f"1-{MAX_ENTRIES_PER_EXCHANGE} (uniform)",
        "exchanges_per_s": round(stats.rate, 1),
        "entries_appended": appended,
        "append_errors": stats.errors,
        "error_samples": stats.error_samples + publisher.errors + reader.errors,
        "tree_heads_published": len(publisher.starts) + 1,
        **publish.figures(),
        "process_cpu_ms_per_entry": round(1000 * process_cpu / max(1, appended), 4),
        "last_head_covers_all": covered == report.tree_size == setup_total + appended,
        "max_seconds_between_heads": round(max(head_gaps, default=0.0), 3),
        "head_publish_p99_ms": round(_percentile(publisher.latencies, 99), 2),
        "page_under_load_p50_ms": round(_percentile(reader.latencies, 50), 2),
        "page_under_load_p99_ms": round(_percentile(reader.latencies, 99), 2),
        "page_p50_ms": round(_percentile(pages, 50), 2),
        "page_p99_ms": round(_percentile(pages, 99), 2),
        "page_mean_ms": round(statistics.fmean(pages) * 1000, 2),
        "exchange_page_p50_ms": round(_percentile(exchange_pages, 50), 2),
        "exchange_page_p99_ms": round(_percentile(exchange_pages, 99), 2),
        "subject_entries": subject_entries,
        "setup_entries": setup_total,
        "setup_entries_per_s": round(setup_total / setup_seconds),
        "log_size": report.tree_size,
        "verify_log_seconds": round(verify_seconds, 2),
        "verify_log_ok": report.ok,
    }
    return Result(
        scenario="log",
        rate_per_s=round(rate, 1),
        p50_ms=round(stats.percentile(50), 2),
        p99_ms=round(stats.percentile(99), 2),
        baseline_rate_per_s=round(baseline_rate, 1),
        ratio=round(rate / baseline_rate, 3) if baseline_rate else 0.0,
        details=details,
    )


def _print(console: Console, result: Result) -> None:
    table = Table(title="myna bench log")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("appends/s (entries)", f"{result.rate_per_s:,.0f}")
    table.add_row("append transaction p50 / p99", f"{result.p50_ms} / {result.p99_ms} ms")
    table.add_row("plain inserts/s (baseline)", f"{result.baseline_rate_per_s:,.0f}")
    table.add_row("ratio", f"{result.ratio:.0%}")
    for key, value in result.details.items():
        if key != "error_samples":
            table.add_row(key, str(value))
    console.print(table)
    for sample in result.details.get("error_samples", []):  # type: ignore[attr-defined]
        console.print(f"[red]{sample}[/red]")


def run(
    *,
    duration: float,
    threads: int,
    subject_entries: int,
    database_url: str,
    console: Console,
) -> Result:
    """Run the exchange-log scenario and return its result."""
    with tempfile.TemporaryDirectory(prefix="myna-bench-log-") as tmp:
        url = database_url or f"sqlite:///{(Path(tmp) / 'bench.db').as_posix()}"
        engine = make_engine(url)
        try:
            upgrade_to_head(engine)
            result = _measure(
                engine,
                duration=duration,
                threads=threads,
                subject_entries=subject_entries,
                console=console,
            )
        finally:
            engine.dispose()
    _print(console, result)
    return result
