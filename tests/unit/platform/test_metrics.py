"""Metrics: per-container registries, and several worker processes added up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from myna.platform import metrics
from myna.platform.metrics import Metrics, MetricsAccess

WORKER = """
from myna.platform.metrics import Metrics
m = Metrics(procedures=("self-disclosure",))
for _ in range({n}):
    m.observe_request(route="/healthz", method="GET", status=200, seconds=0.01)
m.exchanged("self-disclosure", ["success", "denied"])
m.refused("login")
"""
SCRAPE = (
    "import sys; from myna.platform.metrics import Metrics; "
    "sys.stdout.buffer.write(Metrics().exposition())"
)


def _python(code: str, directory: Path) -> str:
    env = {**os.environ, metrics.MULTIPROCESS_ENV: str(directory)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_workers_counts_are_added_up_in_multiprocess_mode(tmp_path: Path) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    _python(WORKER.replace("{n}", "2"), directory)
    _python(WORKER.replace("{n}", "3"), directory)
    text = _python(SCRAPE, directory)
    assert 'myna_http_requests_total{method="GET",route="/healthz",status="200"} 5.0' in text
    assert 'myna_exchange_items_total{outcome="denied",procedure="self-disclosure"} 2.0' in text
    assert 'myna_rate_limit_refusals_total{limit="login"} 2.0' in text


def test_a_new_run_starts_from_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    _python(WORKER.replace("{n}", "2"), directory)
    (directory / "notes.txt").write_text("kept", encoding="utf-8")
    assert list(directory.glob("counter_*.db"))
    monkeypatch.setenv(metrics.MULTIPROCESS_ENV, str(directory))
    assert metrics.prepare_multiprocess_dir() == directory
    assert sorted(p.name for p in directory.iterdir()) == ["notes.txt"]
    monkeypatch.delenv(metrics.MULTIPROCESS_ENV)
    assert metrics.prepare_multiprocess_dir() is None


def test_unknown_procedures_are_counted_as_other() -> None:
    counted = Metrics(procedures={"child-allowance"})
    counted.exchanged("child-allowance", ["success"])
    counted.exchanged("anything-an-agency-signs", ["denied", "denied"])
    text = counted.exposition().decode()
    assert 'myna_exchange_items_total{outcome="success",procedure="child-allowance"} 1.0' in text
    assert 'myna_exchange_items_total{outcome="denied",procedure="other"} 2.0' in text
    assert "anything-an-agency-signs" not in text


def test_access_needs_the_exact_token_or_a_loopback_peer() -> None:
    token = SecretStr("a" * 32)
    by_token = MetricsAccess(token=token, loopback=False)
    assert by_token.allows(authorization="Bearer " + "a" * 32, peer="203.0.113.9")
    assert by_token.allows(authorization="bearer " + "a" * 32, peer=None)
    assert not by_token.allows(authorization="Bearer " + "a" * 31, peer="127.0.0.1")
    assert not by_token.allows(authorization="Basic " + "a" * 32, peer="127.0.0.1")
    assert not by_token.allows(authorization=None, peer="127.0.0.1")
    by_loopback = MetricsAccess(token=None, loopback=True)
    assert by_loopback.allows(authorization=None, peer="127.0.0.1")
    assert by_loopback.allows(authorization=None, peer="::1")
    assert not by_loopback.allows(authorization=None, peer="10.0.0.1")
    assert not by_loopback.allows(authorization=None, peer="localhost")
    assert not by_loopback.allows(authorization=None, peer=None)
    assert not MetricsAccess(token=None, loopback=False).enabled
