"""`myna bench delivery` end to end, tiny: what it counts as accepted is in the residents' boxes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import select

from myna.bench import delivery as bench
from myna.bench import harness
from myna.bootstrap import build_container
from myna.delivery import Document, documents_of
from myna.delivery.identity import SenderIdentity
from myna.delivery.models import DeliveryLink
from myna.platform.db import unit_of_work

PLAN = harness.Plan(residents=60, duration=1.0, concurrency=2, workers=1)


def _run(off_loop: Callable[..., Any], database_url: str, **options: Any) -> harness.Result:
    result: harness.Result = off_loop(
        bench.run,
        plan=dataclasses.replace(PLAN, database_url=database_url),
        console=Console(quiet=True),
        **options,
    )
    return result


def _boxes(tmp_path: Path, database_url: str) -> dict[str, int]:
    """Every document id in the linked residents' boxes, with how often it is there."""
    container = build_container(harness.bench_settings(tmp_path / "read", database_url))
    found: dict[str, int] = {}
    with unit_of_work(container.session_factory) as session:
        residents = set(session.scalars(select(DeliveryLink.resident_id)))
        for resident_id in residents:
            for received in documents_of(session=session, resident_id=resident_id):
                document_id = received.document.document_id
                found[document_id] = found.get(document_id, 0) + 1
    container.engine.dispose()
    return found


@pytest.fixture(autouse=True)
def _logging_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # The command quiets the process's logging for its console; the suite's other tests
    # in this worker read their logs, so the test leaves the configuration alone.
    monkeypatch.setattr(bench, "configure_logging", lambda **_: None)


def test_the_documents_it_counts_as_accepted_are_in_the_residents_boxes_once(
    off_loop: Callable[..., Any], tmp_path: Path
) -> None:
    database_url = f"sqlite:///{(tmp_path / 'bench.db').as_posix()}"
    result = _run(off_loop, database_url, recipients=4, documents=80, resends=True)

    details = result.details
    assert result.scenario == "delivery"
    assert details["errors"] == 0, details["error_samples"]
    assert details["recipients_linked"] == 4
    assert result.rate_per_s > 0
    assert details["server_cpu_ms_per_document"] > 0
    boxes = _boxes(tmp_path, database_url)
    # Each accepted document is in a box, once, although the resend phase sent some again.
    assert details["accepted_documents"] == details["documents_sent"] == len(boxes) > 0
    assert set(boxes.values()) == {1}
    assert details["resend_rate_per_s"] > 0
    assert details["resend_errors"] == 0


def test_a_refused_document_counts_as_an_error_and_not_as_accepted(
    off_loop: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tampered: set[str] = set()
    sign = bench._sign

    def every_third_tampered(sender: SenderIdentity, document: Document) -> bytes:
        signed = sign(sender, document)
        if int(document.document_id.rsplit("-", 1)[1]) % 3:
            return signed
        tampered.add(document.document_id)
        # Another document id under the sender's signature: the digest no longer matches.
        return signed.replace(document.document_id.encode(), b"BENCH-FORGED", 1)

    monkeypatch.setattr(bench, "_sign", every_third_tampered)
    database_url = f"sqlite:///{(tmp_path / 'bench.db').as_posix()}"
    result = _run(off_loop, database_url, recipients=3, documents=60, resends=False)

    details = result.details
    boxes = _boxes(tmp_path, database_url)
    assert details["refused_documents"] > 0
    assert details["accepted_documents"] == len(boxes) > 0
    assert details["accepted_documents"] + details["refused_documents"] == details["documents_sent"]
    assert not tampered & set(boxes)
    assert details["errors"] == details["refused_documents"]
    assert any("422 tampered_document" in sample for sample in details["error_samples"])
