"""`myna bench eligibility` end to end on a tiny population: confirmations answered, no errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rich.console import Console

from myna.bench import eligibility, harness


def test_the_eligibility_benchmark_confirms_with_cards_and_reports_server_cpu(
    off_loop: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command quiets the process's logging for its console; the suite's other tests
    # in this worker read their logs, so the test leaves the configuration alone.
    monkeypatch.setattr(eligibility, "configure_logging", lambda **_: None)
    result = off_loop(
        eligibility.run,
        plan=harness.Plan(residents=200, duration=1.0, concurrency=2, workers=1),
        cards=4,
        console=Console(quiet=True),
    )
    assert result.scenario == "eligibility"
    assert result.details["errors"] == 0, result.details["error_samples"]
    assert 0 < result.details["cards_registered"] <= 4
    assert result.rate_per_s > 0
    assert result.details["server_cpu_ms_per_confirmation"] > 0
