"""The return of the year before, read from the National Tax Agency to compare (not a field)."""

from __future__ import annotations

from datetime import date

from myna import network
from myna.tax import service as tax
from tests.integration.tax.conftest import (
    NTA,
    YEAR,
    TaxWorld,
    Unanswering,
    filed_before,
    nothing_filed,
)

RETURN_ITEM = "income-tax-return"


def _gather(world: TaxWorld, hub: network.Hub | None = None) -> tax.GatherReport:
    tax.start_return(session=world.session, hub=world.hub(), resident_id=world.taro, year=YEAR)
    return tax.gather(
        session=world.session,
        hub=hub or world.hub(),
        documents=world.box,
        resident_id=world.taro,
        year=YEAR,
        consents=tax.Consents(previous=True),
    )


def _previous(world: TaxWorld) -> tax.PreviousRead | None:
    return tax.previous_year(session=world.session, resident_id=world.taro, year=YEAR)


def test_the_return_of_the_year_before_is_read_to_compare(world: TaxWorld) -> None:
    filed_before(world, 2023, total_income=3_900_000, refund=5_000)
    filed_before(world, 2024, total_income=4_200_000, refund=12_000)
    before = world.exchanges(RETURN_ITEM)
    report = _gather(world)
    assert report.previous == tax.FOUND
    assert world.exchanges(RETURN_ITEM) == before + 1
    previous = _previous(world)
    assert previous is not None
    assert (previous.year, previous.name, previous.found) == (2024, "令和6年分", True)
    assert (previous.total_income, previous.total_tax) == (4_200_000, 160_000)
    assert (previous.refund, previous.due) == (12_000, 0)
    assert previous.filed_on == date(2025, 2, 20)
    assert previous.receipt_number == "20250220103045123456"
    assert tax.fields(session=world.session, resident_id=world.taro, year=YEAR) == []


def test_without_a_return_of_the_year_before_it_says_none(world: TaxWorld) -> None:
    nothing_filed(world)
    filed_before(world, 2023, total_income=3_900_000, refund=5_000)  # two years before
    report = _gather(world)
    assert report.previous == tax.NONE_FOUND
    previous = _previous(world)
    assert previous is not None
    assert (previous.year, previous.found, previous.total_income) == (2024, False, None)


def test_the_nta_is_asked_only_with_consent(world: TaxWorld) -> None:
    before = world.exchanges(RETURN_ITEM)
    tax.start_return(session=world.session, hub=world.hub(), resident_id=world.taro, year=YEAR)
    tax.gather(
        session=world.session,
        hub=world.hub(),
        documents=world.box,
        resident_id=world.taro,
        year=YEAR,
        consents=tax.Consents(salary=True, household=True),
    )
    assert world.exchanges(RETURN_ITEM) == before
    assert _previous(world) is None


def test_when_the_nta_does_not_answer_what_was_read_before_stays(world: TaxWorld) -> None:
    filed_before(world, 2024, total_income=4_200_000, refund=12_000)
    _gather(world)
    hub = world.hub()
    hub.transport = Unanswering(hub.transport, {NTA})
    report = _gather(world, hub)
    assert report.previous == tax.UNAVAILABLE
    assert report.notes == ("previous-unavailable",)
    previous = _previous(world)
    assert previous is not None
    assert (previous.found, previous.total_income) == (True, 4_200_000)
