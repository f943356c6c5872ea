"""`myna bench login` end to end from two client processes: logins done, server CPU each."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from myna.cli import app


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
