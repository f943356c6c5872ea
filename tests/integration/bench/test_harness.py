"""The benchmark harness: load from several client processes, CPU of a process tree."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console

from myna.bench import harness
from myna.bench.harness import LoadStats


@dataclass
class _Counted:
    """An operation that records which process ran it and how often (a SharedOperation)."""

    shares: list[tuple[int, int]] = field(default_factory=list)
    calls: int = 0
    absorbed: list[tuple[int, int]] = field(default_factory=list)

    async def __call__(self, client: httpx.AsyncClient) -> None:
        self.calls += 1
        await asyncio.sleep(0.005)

    def share(self, index: int, count: int) -> None:
        self.shares.append((index, count))
        self.calls = 0

    def tally(self) -> object:
        return (os.getpid(), self.calls)

    def absorb(self, tally: object) -> None:
        assert isinstance(tally, tuple)
        self.absorbed.append(tally)


def _load(clients: int, *, concurrency: int = 4, duration: float = 0.2) -> harness.Load:
    return harness.Load(concurrency, duration, Console(quiet=True), clients)


def test_stats_of_client_processes_are_merged_counts_summed_latencies_pooled() -> None:
    first = LoadStats(done=3, errors=1, latencies=[0.1, 0.2, 0.3], elapsed=1.0)
    second = LoadStats(done=2, errors=0, latencies=[0.4, 0.5], elapsed=1.2)
    first.error_samples.append("ValueError: x")
    merged = harness.merged([first, second])
    assert (merged.done, merged.errors, merged.elapsed) == (5, 1, 1.2)
    assert sorted(merged.latencies) == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert merged.error_samples == ["ValueError: x"]
    assert merged.percentile(100) == pytest.approx(500.0)


def test_the_clients_are_shared_out_evenly_and_none_gets_nothing() -> None:
    assert [harness.share_of(8, i, 3) for i in range(3)] == [3, 3, 2]
    assert [harness.share_of(1, i, 2) for i in range(2)] == [1, 1]


def test_a_closed_load_from_two_processes_runs_in_both_and_gathers_their_tallies(
    off_loop: Callable[..., Any],
) -> None:
    operation = _Counted()
    stats = off_loop(harness.closed_load, operation, _load(2))
    pids = {pid for pid, _ in operation.absorbed}
    assert len(pids) == 2
    assert os.getpid() not in pids
    # Every completed operation was counted by the process that ran it.
    assert sum(calls for _, calls in operation.absorbed) == stats.done > 0
    assert len(stats.latencies) == stats.done
    assert stats.errors == 0
    # The parent's copy never ran: the work was done in the client processes.
    assert operation.calls == 0
    assert operation.shares == []


def test_a_paced_load_from_two_processes_shares_the_rate(
    off_loop: Callable[..., Any],
) -> None:
    operation = _Counted()
    stats = off_loop(
        harness.paced_load, operation, _load(2, duration=0.3), rate=100, concurrency=4, clients=2
    )
    # Each process starts 0.3 s x 50/s operations: 15 each.
    assert stats.done == 30
    assert sorted(calls for _, calls in operation.absorbed) == [15, 15]


def test_one_client_runs_the_loop_in_this_process(off_loop: Callable[..., Any]) -> None:
    operation = _Counted()
    stats = off_loop(harness.closed_load, operation, _load(1))
    assert operation.calls == stats.done > 0
    assert operation.absorbed == []


def test_an_operation_drawing_on_a_supply_stays_in_this_process(
    off_loop: Callable[..., Any],
) -> None:
    operation = _Counted()
    supply = list(range(10))

    def exhausted() -> bool:
        if not supply:
            return True
        supply.pop()
        return False

    stats = off_loop(harness.closed_load, operation, _load(2), exhausted=exhausted)
    assert operation.absorbed == []
    assert operation.calls == stats.done
    assert stats.done <= 10


def test_a_failing_client_process_fails_the_phase(off_loop: Callable[..., Any]) -> None:
    @dataclass
    class _Broken(_Counted):
        def share(self, index: int, count: int) -> None:
            raise ValueError("no share for " + str(index))

    with pytest.raises(RuntimeError, match="ValueError: no share for"):
        off_loop(harness.closed_load, _Broken(), _load(2))


@pytest.fixture
def burning_child(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A process whose child burns half a second of CPU, then waits to be ended."""
    ready = tmp_path / "ready"
    child = (
        "import time, pathlib\n"
        "while time.process_time() < 0.5: pass\n"
        f"pathlib.Path({str(ready)!r}).write_text('ok')\n"
        "time.sleep(60)\n"
    )
    parent = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {child!r}])\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", parent])
    try:
        yield process.pid, ready
    finally:
        for pid in harness.process_tree(process.pid):
            if pid != process.pid:
                os.kill(pid, 15)
        process.terminate()
        process.wait()


def test_the_cpu_of_a_process_tree_counts_its_children(
    burning_child: tuple[int, Path],
) -> None:
    pid, ready = burning_child
    while not ready.exists():  # the child writes it once its CPU is spent
        time.sleep(0.05)
    tree = harness.process_tree(pid)
    assert len(tree) == 2
    [child] = set(tree) - {pid}
    assert tree[child] >= 0.45
    assert harness.process_tree_cpu_seconds(pid) == pytest.approx(tree[pid] + tree[child])
    assert harness.Server("http://127.0.0.1:1", pid).cpu_seconds() >= tree[child]


def test_a_server_with_two_workers_counts_every_worker(off_loop: Callable[..., Any]) -> None:
    env = {"MYNA_LOG_LEVEL": "WARNING"}
    sock = harness.bound_socket()
    with harness.server_process(
        env, sock=sock, workers=2, factory="myna.bench.bare:create_bare_app"
    ) as server:
        off_loop(harness.closed_load, harness.get_ok(f"{server.url}/healthz"), _load(2))
        tree = harness.process_tree(server.pid)
        # uvicorn's parent and its two workers at least (a resource tracker may join them).
        assert len(tree) >= 3
        assert server.cpu_seconds() >= sum(tree.values()) - 0.05
        assert server.cpu_seconds() > tree[server.pid]


def test_the_database_cpu_is_read_only_for_a_postgresql_server_on_this_host() -> None:
    # SQLite works inside the server process, whose CPU is already counted.
    assert harness.database_backends("sqlite:////tmp/bench.db") is None
    # A server on another host has no backends in this machine's /proc (nothing connects).
    assert harness.database_backends("postgresql+psycopg://postgres@10.255.255.1/bench") is None
    assert harness.Server("http://127.0.0.1:1", os.getpid()).cpu().backends is None


def test_the_database_cpu_between_readings_counts_new_backends_whole_and_none_stays_none() -> None:
    before = {10: 1.0, 11: 2.0, 12: 0.5}
    # 10 worked 0.25 s, 11 ended (missed), 13 started after the first reading.
    after = {10: 1.25, 12: 0.5, 13: 0.4}
    assert harness.backends_cpu_between(before, after) == pytest.approx(0.65)
    assert harness.backends_cpu_between(None, after) is None
    assert harness.backends_cpu_between(before, None) is None
    use = harness.CpuReading(3.0, before).until(harness.CpuReading(3.5, after))
    assert use.server_s == pytest.approx(0.5)
    assert use.database_s == pytest.approx(0.65)
    assert harness.cpu_ms_per(use.database_s, LoadStats(done=5)) == pytest.approx(130.0)
    assert harness.cpu_ms_per(None, LoadStats(done=5)) is None
