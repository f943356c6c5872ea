"""Agencies paying benefits read the public-fund account through the hub, logged."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from myna import network, registry
from myna.network import transparency
from myna.network.domain import ExchangeRequest, new_request_id
from myna.network.messages import sign
from myna.platform.db import utcnow
from myna.platform.settings import Settings
from myna.portal import accounts_service
from tests.integration.network.conftest import World

FORM = registry.AccountForm(
    bank_code="0005",
    branch_code="010",
    account_type="普通",
    number="1234567",
    holder_kana="ヤマダ タロウ",
)


def _ask(
    session: Session, settings: Settings, world: World, requester: str, procedure: str
) -> network.ExchangeOutcome:
    credential = network.credential_for(session=session, settings=settings, code=requester)
    request = ExchangeRequest(
        request_id=new_request_id(),
        requester=requester,
        procedure=procedure,
        subject=network.link_code_for_resident(
            session=session, resident_id=world.residents["taro"].id, agency_code=requester
        ),
        items=("public-fund-account",),
        issued_at=utcnow(),
    )
    return world.hub.exchange(session=session, token=sign(request.to_json(), credential))


def _entries(session: Session, world: World) -> list[transparency.LogEntry]:
    subject = str(world.residents["taro"].id)
    return transparency.entries_for_subject(session=session, subject=subject).items


def test_a_municipality_paying_the_child_allowance_gets_the_account_and_it_is_logged(
    session: Session, settings: Settings, world: World
) -> None:
    accounts_service.save_account(
        session=session, hub=world.hub, resident_id=world.residents["taro"].id, form=FORM
    )
    outcome = _ask(session, settings, world, "muni-131016", "child-allowance")
    [result] = outcome.results
    assert (result.provider, result.outcome) == ("digital", network.Outcome.SUCCESS)
    [record] = result.records
    assert record.payload["account_number"] == "1234567"
    assert record.payload["bank_name"] == "三菱UFJ銀行"
    entries = [(e.requester, e.provider, e.item, e.procedure) for e in _entries(session, world)]
    assert sorted(entries) == sorted(
        [
            # The registration itself: the portal wrote the Digital Agency's register.
            ("portal", "digital", "public-fund-account", "public-fund-account-registration"),
            ("muni-131016", "digital", "public-fund-account", "child-allowance"),
        ]
    )


def test_the_pension_service_gets_the_account_for_a_pension(
    session: Session, settings: Settings, world: World
) -> None:
    accounts_service.save_account(
        session=session, hub=world.hub, resident_id=world.residents["taro"].id, form=FORM
    )
    outcome = _ask(session, settings, world, "jps", "national-pension")
    assert outcome.results[0].records


def test_an_agency_without_a_benefit_to_pay_is_denied_and_logged(
    session: Session, settings: Settings, world: World
) -> None:
    accounts_service.save_account(
        session=session, hub=world.hub, resident_id=world.residents["taro"].id, form=FORM
    )
    outcome = _ask(session, settings, world, "police", "driver-license")
    [result] = outcome.results
    assert result.outcome is not network.Outcome.SUCCESS
    assert not result.records
    # Only the registration reached the Digital Agency; the police's query did not.
    assert world.transport.calls == ["digital"]
    assert [e.outcome for e in _entries(session, world) if e.requester == "police"] == [
        result.outcome
    ]


def test_a_deleted_account_is_no_longer_given(
    session: Session, settings: Settings, world: World
) -> None:
    taro = world.residents["taro"].id
    accounts_service.save_account(session=session, hub=world.hub, resident_id=taro, form=FORM)
    accounts_service.remove_account(session=session, hub=world.hub, resident_id=taro)
    outcome = _ask(session, settings, world, "jps", "national-pension")
    assert not outcome.results[0].records


def test_the_registration_goes_through_the_hub_and_is_refused_when_the_register_is_down(
    session: Session, world: World
) -> None:
    taro = world.residents["taro"].id
    world.transport.failing["digital"] = ConnectionError("digital")
    with pytest.raises(network.UpdateFailedError):
        accounts_service.save_account(session=session, hub=world.hub, resident_id=taro, form=FORM)
    assert world.transport.calls == ["digital"]


def test_an_agency_may_not_write_the_register_of_another(
    session: Session, settings: Settings, world: World
) -> None:
    taro = world.residents["taro"].id
    with pytest.raises(network.UpdateNotAllowedError):
        network.update_records(
            session=session,
            hub=world.hub,
            publisher="muni-131016",
            owner="digital",
            resident_id=taro,
            procedure="public-fund-account-registration",
            records=[
                network.RecordUpdate(
                    item="public-fund-account",
                    payload=None,
                    source="x",
                    valid_from=utcnow().date(),
                )
            ],
        )
    assert world.transport.calls == []
