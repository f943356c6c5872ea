"""`myna bench api` end to end on a tiny population: tokens issued, calls answered, no errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console

from myna.bench import api


def test_the_api_benchmark_issues_tokens_and_serves_signed_calls(
    off_loop: Callable[..., Any],
) -> None:
    result = off_loop(
        api.run,
        residents=200,
        duration=1.0,
        concurrency=2,
        workers=1,
        codes=30,
        database_url="",
        console=Console(quiet=True),
    )
    assert result.scenario == "api"
    assert result.details["errors"] == 0, result.details["error_samples"]
    assert 0 < result.details["tokens_issued"] <= 30
    assert result.rate_per_s > 0
    assert result.baseline_rate_per_s > 0
    assert result.details["server_cpu_ms_per_resource_call"] > 0
    assert result.details["server_cpu_ms_per_token"] > 0
    assert result.details["server_cpu_ms_per_trivial_request"] > 0
