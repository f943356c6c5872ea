"""`myna bench verify` end to end, tiny: what it counts as answered is on the statement."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from myna.bench import harness
from myna.bench import verify as bench

PLAN = harness.Plan(residents=0, duration=1.0, concurrency=2, workers=1)


@pytest.fixture(autouse=True)
def _logging_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # The command quiets the process's logging for its console; the suite's other tests
    # in this worker read their logs, so the test leaves the configuration alone.
    monkeypatch.setattr(bench, "configure_logging", lambda **_: None)


def _run(off_loop: Callable[..., Any], tmp_path: Path, **options: Any) -> harness.Result:
    database_url = f"sqlite:///{(tmp_path / 'bench.db').as_posix()}"
    result: harness.Result = off_loop(
        bench.run,
        plan=dataclasses.replace(PLAN, database_url=database_url),
        console=Console(quiet=True),
        **options,
    )
    return result


def test_every_batch_it_counts_was_answered_truly_and_billed(
    off_loop: Callable[..., Any], tmp_path: Path
) -> None:
    result = _run(off_loop, tmp_path, certificates=100, batch=20)

    details = result.details
    assert result.scenario == "verify"
    assert details["errors"] == 0, details["error_samples"]
    assert result.rate_per_s > 0
    assert details["serials_per_s"] == pytest.approx(result.rate_per_s * 20, rel=0.01)
    assert details["server_cpu_ms_per_batch"] > 0
    # Each batch: 20 serials, one unknown (never billed), the rest issued certificates.
    answered = details["batches_answered"]
    assert answered > bench.WARM_UP
    assert details["statuses_billed_as_answered"] == answered * 19
    assert details["statuses_on_the_statement"] == answered * 19


def test_a_wrong_status_counts_as_an_error(
    off_loop: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue = bench._issue

    def lies(*args: Any) -> dict[str, str]:
        # The load generator expects every certificate revoked: none of them is.
        return dict.fromkeys(issue(*args), "revoked")

    monkeypatch.setattr(bench, "_issue", lies)
    result = _run(off_loop, tmp_path, certificates=100, batch=100)

    details = result.details
    # 90 % of the certificates are good: every batch meets a lie and counts as an error.
    assert details["batches_answered"] == 0
    assert details["errors"] > 0
    assert any("statuses differ" in sample for sample in details["error_samples"])
