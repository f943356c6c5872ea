"""``myna bench notices`` end to end with a tiny population on SQLite (no timing asserted)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from myna.bench import notices as bench
from myna.cli import app
from myna.platform.logging import configure_logging

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    # The benchmark quietens logging for its console; later tests expect the default.
    yield
    configure_logging(level="INFO", json=False)


def _quiet() -> Console:
    return Console(file=io.StringIO(), width=200)


def test_the_http_mode_sends_a_segment_notice_that_every_logged_in_adult_sees(
    off_loop: Callable[..., Any],
    tmp_path: Path,
) -> None:
    out = tmp_path / "result.json"
    database = f"sqlite:///{(tmp_path / 'bench.db').as_posix()}"
    result = off_loop(
        CliRunner().invoke,
        app,
        [
            "bench", "notices", "--http", "-n", "300", "--duration", "1", "--segments", "3",
            "--cards", "3", "--concurrency", "2", "--database-url", database, "--json", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    details = written["details"]
    assert written["scenario"] == "notices"
    assert details["mode"] == "http"
    assert details["database"] == "sqlite"
    assert details["residents"] == 300
    assert details["reused_database"] is False
    assert details["notice_rows_added"] == 1
    assert details["segment_notices_live"] == 3
    assert details["residents_logged_in"] == 3
    assert details["residents_who_see_it"] == 3
    assert details["visibility_polls"] >= 1
    assert details["visible_after_ms"] >= details["send_ms"] > 0
    assert details["full_load_reads"] > 0
    assert details["half_load_reads"] > 0
    assert details["errors"] == 0, details["error_samples"]
    assert details["server_cpu_ms_per_inbox_page"] > 0
    assert details["server_cpu_ms_per_trivial_request"] > 0
    assert written["rate_per_s"] > 0
    assert written["baseline_rate_per_s"] > 0
    assert 0 < written["p50_ms"] <= written["p99_ms"] <= details["half_load_max_ms"]
    assert 0 <= details["half_load_over_50ms"] <= details["half_load_reads"]
    assert "myna bench notices --http" in result.output


def test_the_http_mode_reuses_a_population_seeded_by_the_in_process_mode(
    tmp_path: Path, off_loop: Callable[..., Any]
) -> None:
    database = f"sqlite:///{(tmp_path / 'bench.db').as_posix()}"
    in_process = off_loop(
        bench.run,
        residents=200,
        duration=1,
        segments=2,
        database_url=database,
        reuse=False,
        console=_quiet(),
    )
    assert in_process.details["mode"] == "in-process"
    assert in_process.details["residents"] == 200
    assert in_process.details["notice_rows_added"] == 1
    assert in_process.details["segment_notices_live"] == 2
    assert in_process.details["inbox_errors"] == 0
    assert in_process.rate_per_s > 0

    over_http = off_loop(
        bench.run_http,
        residents=200,
        duration=1,
        segments=2,
        concurrency=2,
        workers=1,
        cards=2,
        database_url=database,
        reuse=True,
        console=_quiet(),
    )
    details = over_http.details
    assert details["reused_database"] is True
    assert details["residents"] == 200  # not seeded a second time
    assert details["notice_rows_added"] == 1
    # The earlier run's two notices count towards --segments; only the new one is added.
    assert details["segment_notices_live"] == 3
    assert details["residents_who_see_it"] == details["residents_logged_in"] == 2
    assert details["errors"] == 0, details["error_samples"]
    assert over_http.rate_per_s > 0
