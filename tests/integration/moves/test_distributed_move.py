"""A move in distributed mode: the departing municipality and the police as their own nodes.

千代田区 (muni-131016, taro's municipality) and the license system (police) run as
``myna agency serve`` processes with databases of their own; 大阪市北区's records stay
with the hub. Completing the move-out writes the 転出証明書情報 into 千代田区's node,
through the hub; the arriving municipality reads it back from that node; completing the
move-in writes the new address into the police node. Each step is in taro's やりとり履歴.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from myna import agencies, network, registry
from myna.moves import service as moves
from myna.platform.clock import today_in_japan
from myna.platform.db import make_engine, unit_of_work
from tests.integration.applications.filing import file_application, signer_for
from tests.integration.network.deployment import Deployment, deploy

# One worker builds this module's shared fixture once (make test runs --dist loadgroup).
pytestmark = pytest.mark.xdist_group("integration.moves.test_distributed_move")

CHIYODA = "muni-131016"
OSAKA = "271004"
POLICE = moves.POLICE
NODES = {CHIYODA: "東京都千代田区", POLICE: "警察庁（運転免許管理システム）"}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with deploy(tmp_path_factory.mktemp("distributed-move"), NODES) as deployed:
        yield deployed


def _node_records(
    deployment: Deployment, agency: str, link_code: str, item: str
) -> list[dict[str, Any]]:
    """What the agency's own node database holds (read there, not through the hub)."""
    engine = make_engine(deployment.node_databases[agency])
    try:
        with Session(engine) as session:
            records = agencies.answer_query(
                session=session, agency_code=agency, link_code=link_code, items=[item]
            )
            return [dict(r.payload) for r in records]
    finally:
        engine.dispose()


def test_a_completed_move_reaches_the_departing_municipality_and_police_nodes(
    deployment: Deployment,
) -> None:
    settings = deployment.settings.model_copy(update={"agency_nodes": deployment.urls()})
    today = today_in_japan()
    data = {
        "move_out_date": today.isoformat(),
        "new_municipality_code": OSAKA,
        "new_address": "北区梅田1-1-1",
        "move_in_date": today.isoformat(),
        "movers": "self",
        "phone": "03-1234-5678",
        "declaration": True,
    }
    with unit_of_work(deployment.container.session_factory) as session:
        signer = signer_for(session, settings)
        filed = file_application(session, settings, signer, code=moves.MOVE_OUT, data=data)
        chiyoda_code = network.link_code_for_resident(
            session=session, resident_id=signer.resident_id, agency_code=CHIYODA
        )
    assert _node_records(deployment, CHIYODA, chiyoda_code, moves.CERTIFICATE_ITEM) == []

    with unit_of_work(deployment.container.session_factory) as session:
        sent = moves.complete_move_out(
            session=session,
            hub=deployment.hub_for(session, settings),
            receipt_number=filed.receipt_number,
            municipality_code="131016",
            actor="staff:1",
        )
    # The certificate went to 千代田区's own node and came back from it through the hub.
    [certificate] = _node_records(deployment, CHIYODA, chiyoda_code, moves.CERTIFICATE_ITEM)
    assert certificate["receipt_number"] == filed.receipt_number
    assert sent.members[0].certificate == certificate

    with unit_of_work(deployment.container.session_factory) as session:
        done = moves.complete_move_in(
            session=session,
            hub=deployment.hub_for(session, settings),
            move_id=sent.id,
            municipality_code=OSAKA,
            actor="staff:2",
            today=today,
        )
        taro = registry.get_resident(session=session, resident_id=signer.resident_id)
        police_code = network.link_code_for_resident(
            session=session, resident_id=taro.id, agency_code=POLICE
        )
    assert done.status is moves.MoveStatus.COMPLETED
    [license_record] = _node_records(deployment, POLICE, police_code, moves.LICENSE_ITEM)
    assert license_record["address"] == taro.full_address
    assert taro.full_address.endswith("北区梅田1-1-1")

    logged = deployment.logged()
    assert logged[(CHIYODA, moves.CERTIFICATE_ITEM, network.Outcome.SUCCESS)] == 2  # write, read
    assert logged[(POLICE, moves.LICENSE_ITEM, network.Outcome.SUCCESS)] == 1


def test_a_move_out_is_not_completed_when_the_departing_node_is_down(
    deployment: Deployment,
) -> None:
    down = deployment.urls(**{CHIYODA: "http://127.0.0.1:9"})
    settings = deployment.settings.model_copy(
        update={"agency_nodes": down, "agency_timeout_seconds": 2.0}
    )
    today = today_in_japan()
    data = {
        "move_out_date": today.isoformat(),
        "new_municipality_code": OSAKA,
        "new_address": "北区梅田2-2-2",
        "move_in_date": today.isoformat(),
        "movers": "self",
        "phone": "03-1234-5678",
        "declaration": True,
    }
    with unit_of_work(deployment.container.session_factory) as session:
        signer = signer_for(session, settings, persona="hanako")
        filed = file_application(session, settings, signer, code=moves.MOVE_OUT, data=data)
    with (
        pytest.raises(moves.CertificateExchangeFailedError),
        unit_of_work(deployment.container.session_factory) as session,
    ):
        moves.complete_move_out(
            session=session,
            hub=deployment.hub_for(session, settings),
            receipt_number=filed.receipt_number,
            municipality_code="131016",
            actor="staff:1",
        )
    with unit_of_work(deployment.container.session_factory) as session:
        [move] = moves.moves_of_resident(session=session, resident_id=signer.resident_id)
    assert move.status is moves.MoveStatus.FILED
