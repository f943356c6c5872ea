"""`myna bench return` end to end, tiny: what it counts as a return holds the ten documents."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import func, select

from myna.bench import harness
from myna.bench import taxreturn as bench
from myna.bootstrap import build_container
from myna.platform.db import unit_of_work
from myna.tax import TaxInputError, service
from myna.tax.models import TaxFilingRow, TaxReturnFieldRow, TaxReturnRow

pytestmark = pytest.mark.slow

PLAN = harness.Plan(residents=200, duration=1.0, concurrency=2, workers=1)


@dataclass(frozen=True, slots=True)
class Gathered:
    """A return in the benchmark's database: its documents and fields, and whether it computes."""

    documents: int
    medical: bool
    computes: bool


def _run(off_loop: Callable[..., Any], database_url: str, **options: Any) -> harness.Result:
    result: harness.Result = off_loop(
        bench.run,
        plan=dataclasses.replace(PLAN, database_url=database_url),
        console=Console(quiet=True),
        **options,
    )
    return result


def _returns(tmp_path: Path, database_url: str) -> tuple[list[Gathered], int]:
    """Every return the run started, as the database holds it; how many were filed."""
    container = build_container(harness.bench_settings(tmp_path / "read", database_url))
    found: list[Gathered] = []
    with unit_of_work(container.session_factory) as session:
        for row in session.scalars(select(TaxReturnRow)):
            fields = list(
                session.scalars(
                    select(TaxReturnFieldRow).where(TaxReturnFieldRow.return_id == row.id)
                )
            )
            try:
                service.compute_return(session=session, resident_id=row.resident_id, year=row.year)
            except TaxInputError:
                computes = False
            else:
                computes = True
            found.append(
                Gathered(
                    documents=len({f.source_document_id for f in fields if f.source_document_id}),
                    medical=any(f.source_kind == service.MEDICAL_NOTICE for f in fields),
                    computes=computes,
                )
            )
        filed = session.scalar(select(func.count()).select_from(TaxFilingRow)) or 0
    container.engine.dispose()
    return found, filed


@pytest.fixture(autouse=True)
def _logging_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # The command quiets the process's logging for its console; the suite's other tests
    # in this worker read their logs, so the test leaves the configuration alone.
    monkeypatch.setattr(bench, "configure_logging", lambda **_: None)


def test_each_return_it_counts_holds_the_ten_documents_computes_and_is_filed(
    off_loop: Callable[..., Any], tmp_path: Path
) -> None:
    database_url = f"sqlite:///{(tmp_path / 'bench.db').as_posix()}"
    result = _run(off_loop, database_url, returns=8, medical=True)

    details = result.details
    assert result.scenario == "return"
    assert details["errors"] == 0, details["error_samples"]
    assert details["documents_delivered"] == 10 * details["returns_prepared"]
    assert result.rate_per_s > 0
    assert details["server_cpu_ms_per_return"] > 0
    returns, filed = _returns(tmp_path, database_url)
    # Every return started was counted, and each holds the ten documents and the
    # 医療費通知, and computes.
    assert len(returns) == details["returns_computed"] > 0
    assert {r.documents for r in returns} == {10}
    assert all(r.medical and r.computes for r in returns)
    # Each return the filing phase took (all, unless its time ran out first on a busy
    # machine) was signed and filed once, and its copy fetched and rendered.
    assert 0 < details["filings_done"] == filed <= details["returns_computed"]
    assert details["filing_errors"] == 0, details["filing_error_samples"]
    assert details["server_cpu_ms_per_filing"] > 0
    assert details["rendered_returns"] == min(bench.RENDERED, filed)
    assert details["xml_render_ms_p50"] > 0
    assert details["pdf_render_ms_p50"] > 0


def test_a_return_missing_a_document_counts_as_an_error_and_is_not_filed(
    off_loop: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agreed = bench.agreed_sources
    short: set[int] = set()

    def one_certificate_left_out_for_some(filer: bench.Filer, *, medical: bool) -> list[str]:
        keys = agreed(filer, medical=medical)
        if filer.resident_id % 2:
            return keys
        short.add(filer.resident_id)
        first = next(k for k in keys if k.startswith("certificate:"))
        return [k for k in keys if k != first]

    monkeypatch.setattr(bench, "agreed_sources", one_certificate_left_out_for_some)
    database_url = f"sqlite:///{(tmp_path / 'bench.db').as_posix()}"
    result = _run(off_loop, database_url, returns=8, medical=True)

    details = result.details
    returns, filed = _returns(tmp_path, database_url)
    assert short, "some resident's gathering left a document out"
    assert details["errors"] > 0
    assert any("missing from the return" in s for s in details["error_samples"])
    # Only the returns holding every document were counted, and only those were filed.
    assert details["returns_computed"] == sum(r.documents == 10 for r in returns)
    assert details["errors"] == sum(r.documents < 10 for r in returns)
    assert filed == details["filings_done"] == details["returns_computed"]
