"""訂正の申出 in distributed mode: the holder (千代田区) is its own node and answers from there.

The portal sends taro's request through the hub over HTTP to 千代田区's node, which queues
it (evidence included) in its own database; the node's staff answer with
``myna agency answer-correction``, which corrects the record in the node's database and
sends the signed answer to the hub over HTTP — or, when the hub does not take it,
corrects nothing.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import agencies, corrections, network
from myna.agencies.models import AgencyCorrection, AgencyRecord
from myna.bench.harness import free_port
from myna.corrections.models import CorrectionRequestRow
from myna.platform.db import make_engine, unit_of_work
from tests.integration.network.deployment import Deployment, deploy
from tests.integration.network.nodekit import myna_command, run_myna

# One worker builds this module's shared fixture once (make test runs --dist loadgroup).
pytestmark = pytest.mark.xdist_group("integration.network.test_distributed_corrections")

CHIYODA = "muni-131016"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy(
        tmp_path_factory.mktemp("distributed-corrections"), {CHIYODA: "東京都千代田区"}
    ) as d:
        yield d


def _send(deployment: Deployment, proposed: str) -> None:
    settings = deployment.settings.model_copy(update={"agency_nodes": deployment.urls()})
    with unit_of_work(deployment.container.session_factory) as session:
        corrections.file_correction(
            session=session,
            hub=deployment.hub_for(session, settings),
            resident_id=deployment.taro_id,
            draft=corrections.CorrectionDraft(
                owner=CHIYODA,
                item="resident-tax",
                field="total_income",
                current="3,800,000円",
                proposed=proposed,
                reason="源泉徴収票の金額と違います。",
                evidence=corrections.EvidenceUpload("gensen.png", PNG),
            ),
        )


@contextmanager
def _node_session(deployment: Deployment) -> Iterator[Session]:
    """A session on 千代田区's own node database (its engine disposed after)."""
    engine = make_engine(deployment.node_databases[CHIYODA])
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _answer_args(deployment: Deployment, correction_id: int, record_id: int, hub: str) -> list[str]:
    keys = deployment.keys / CHIYODA
    return [
        "agency", "answer-correction", str(correction_id),
        "--agency", CHIYODA,
        "--key", str(keys / f"{CHIYODA}.key.pem"),
        "--cert", str(keys / f"{CHIYODA}.crt.pem"),
        "--database-url", deployment.node_databases[CHIYODA],
        "--hub", hub,
        "--corrected", "--record", str(record_id),
        "--field", "total_income", "--value", "4120000",
        "--reason", "源泉徴収票を確認し、訂正しました。",
    ]  # fmt: skip


def _open_request(deployment: Deployment, proposed: str) -> tuple[int, int]:
    """The node's queued request with ``proposed``, and taro's resident-tax record there."""
    with _node_session(deployment) as node:
        queued = node.scalars(
            select(AgencyCorrection).where(AgencyCorrection.proposed_value == proposed)
        ).one()
        assert queued.evidence == PNG  # the evidence travelled with the request
        record = node.scalars(
            select(AgencyRecord).where(
                AgencyRecord.link_code == queued.link_code,
                AgencyRecord.item_code == "resident-tax",
            )
        ).first()
        assert record is not None
        return queued.id, record.id


def test_the_node_queues_the_request_and_answers_it_through_the_hub(
    deployment: Deployment,
) -> None:
    _send(deployment, "4,120,000円")
    correction_id, record_id = _open_request(deployment, "4,120,000円")
    listed = run_myna(
        deployment.environment,
        "agency", "corrections", "--agency", CHIYODA,
        "--database-url", deployment.node_databases[CHIYODA],
    )  # fmt: skip
    assert "resident-tax" in listed
    assert "4,120,000円" in listed

    said = run_myna(
        deployment.environment,
        *_answer_args(deployment, correction_id, record_id, deployment.settings.portal_url),
    )
    assert "corrected" in said
    with _node_session(deployment) as node:
        record = node.get(AgencyRecord, record_id)
        assert record is not None
        assert record.payload["total_income"] == 4_120_000
        assert node.get(AgencyCorrection, correction_id).status == "corrected"  # type: ignore[union-attr]
    with unit_of_work(deployment.container.session_factory) as session:
        (row,) = session.scalars(
            select(CorrectionRequestRow).where(CorrectionRequestRow.proposed_value == "4,120,000円")
        ).all()
        assert row.status == corrections.CORRECTED
    logged = deployment.logged()
    assert logged[(CHIYODA, "resident-tax", network.Outcome.SUCCESS)] >= 1
    assert logged[("portal", "resident-tax", network.Outcome.SUCCESS)] >= 1  # the answer

    # An answer is final: the node refuses to answer the same request twice.
    again = subprocess.run(
        myna_command(
            *_answer_args(deployment, correction_id, record_id, deployment.settings.portal_url)
        ),
        env={**os.environ, **deployment.environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 1
    assert "correction_already_answered" in again.stderr


def test_an_answer_the_hub_does_not_take_corrects_nothing(deployment: Deployment) -> None:
    _send(deployment, "5,000,000円")
    correction_id, record_id = _open_request(deployment, "5,000,000円")
    with _node_session(deployment) as node:
        before = dict(node.get(AgencyRecord, record_id).payload)  # type: ignore[union-attr]
    down = f"http://127.0.0.1:{free_port()}"
    failed = subprocess.run(
        myna_command(*_answer_args(deployment, correction_id, record_id, down)),
        env={**os.environ, **deployment.environment},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert failed.returncode == 1
    assert "hub_refused" in failed.stderr
    with _node_session(deployment) as node:
        assert node.get(AgencyRecord, record_id).payload == before  # type: ignore[union-attr]
        queued = node.get(AgencyCorrection, correction_id)
        assert queued is not None
        assert queued.status == agencies.CorrectionStatus.OPEN.value
