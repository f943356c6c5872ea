"""`myna bench apply` end to end on a tiny population: every submission is verified and filed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console

from myna.bench import apply


def test_the_apply_benchmark_files_signed_applications_without_errors(
    off_loop: Callable[..., Any],
) -> None:
    result = off_loop(
        apply.run,
        residents=300,
        duration=1.0,
        concurrency=2,
        workers=1,
        clients=2,
        cards=4,
        database_url="",
        console=Console(quiet=True),
    )
    assert result.scenario == "apply"
    assert result.details["errors"] == 0, result.details["error_samples"]
    assert isinstance(result.details["submissions_full_load"], int)
    assert result.details["submissions_full_load"] > 0
    assert result.rate_per_s > 0
    assert result.baseline_rate_per_s > 0
    assert result.details["applicants"] == 4
    assert result.details["client_processes"] == 2
    # The verification times of both client processes are gathered back.
    assert result.details["verify_and_file_p50_ms"] > 0
    assert result.details["server_cpu_ms_per_submission"] > 0
