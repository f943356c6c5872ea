"""`myna bench login` end to end from two client processes: logins done, server CPU each."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from typer.testing import CliRunner

from myna import registry, runtime
from myna.bench import harness
from myna.bootstrap import build_container
from myna.cli import app


def _seeded(tmp_path: Path, residents: int) -> str:
    """A database already holding ``residents`` people, seeded the ``myna seed`` way."""
    url = f"sqlite:///{(tmp_path / 'seeded.db').as_posix()}"
    container = build_container(harness.bench_settings(tmp_path / "seeding", url))
    runtime.prepare_database(container)
    runtime.seed_residents(container, Console(quiet=True), residents=residents, seed=1)
    container.engine.dispose()
    return url


def test_the_login_benchmark_logs_in_from_two_client_processes_and_reports_server_cpu(
    off_loop: Callable[..., Any], tmp_path: Path
) -> None:
    out = tmp_path / "login.json"
    result = off_loop(
        CliRunner().invoke,
        app,
        ["bench", "login", "--duration", "1", "--concurrency", "2", "--clients", "2",
         "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    details = written["details"]
    assert written["scenario"] == "login"
    assert details["client_processes"] == 2
    assert details["errors"] == 0, details["error_samples"]
    assert written["rate_per_s"] > 0
    assert details["half_load_rate_per_s"] > 0
    assert details["server_cpu_ms_per_login"] > 0
    assert details["server_cpu_ms_per_trivial_request"] > 0
    assert details["bare_fastapi_cpu_ms_per_request"] > 0
    assert "from 2 client processes" in result.output
    # A fresh database: the personas (taro, who logs in, and the others) are all its people.
    assert details["population"] == len(registry.PERSONAS)
    # SQLite's work is in the server's CPU; there are no database backends to read.
    assert details["database_cpu_ms_per_login"] is None


def test_the_login_benchmark_runs_on_a_seeded_database_as_it_is(
    off_loop: Callable[..., Any], tmp_path: Path
) -> None:
    url = _seeded(tmp_path, 300)
    out = tmp_path / "login.json"
    result = off_loop(
        CliRunner().invoke,
        app,
        ["bench", "login", "--duration", "1", "--concurrency", "2", "--database-url", url,
         "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    details = json.loads(out.read_text(encoding="utf-8"))["details"]
    assert details["errors"] == 0, details["error_samples"]
    # The 300 seeded people were kept (nothing reseeded or emptied), plus the personas.
    assert details["population"] == 300 + len(registry.PERSONAS)
    assert f"population {300 + len(registry.PERSONAS)}" in result.output
