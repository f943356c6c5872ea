"""The replica store: records go in by link code and come out only as asked."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from myna.agencies import (
    InvalidPayloadError,
    ItemNotProvidedError,
    RecordWrite,
    UnknownAgencyError,
    answer_query,
    count_records,
    remove_records,
    upsert_records,
)

CHIYODA = "muni-131016"


def _tax(link: str, amount: int) -> RecordWrite:
    return RecordWrite(
        link_code=link,
        item_code="resident-tax",
        key="2026",
        payload={
            "assessment_year": 2026,
            "income_year": 2025,
            "total_income": 4_520_000,
            "taxable_income": 2_861_000,
            "income_levy": amount - 5_000,
            "per_capita_levy": 5_000,
            "tax_amount": amount,
            "non_taxable": False,
        },
        source="個人住民税課税台帳",
        valid_from=date(2026, 6, 1),
    )


def _household(link: str) -> RecordWrite:
    return RecordWrite(
        link_code=link,
        item_code="household",
        payload={
            "is_head": True,
            "relation_to_head": "世帯主",
            "member_count": 1,
            "member_relations": ["世帯主"],
        },
        source="住民基本台帳",
        valid_from=date(2020, 4, 1),
    )


def test_an_agency_answers_with_the_records_it_holds(session: Session) -> None:
    assert (
        upsert_records(
            session=session, agency_code=CHIYODA, records=[_tax("L-A", 288_600), _household("L-A")]
        )
        == 2
    )
    answer = answer_query(
        session=session, agency_code=CHIYODA, link_code="L-A", items=["resident-tax"]
    )
    assert [r.item_code for r in answer] == ["resident-tax"]
    record = answer[0]
    assert record.payload["tax_amount"] == 288_600
    assert record.provider == CHIYODA
    assert record.key == "2026"
    assert record.valid_from == date(2026, 6, 1)
    assert record.updated_at.tzinfo is not None


def test_a_second_write_replaces_the_record(session: Session) -> None:
    upsert_records(session=session, agency_code=CHIYODA, records=[_tax("L-B", 100_000)])
    upsert_records(session=session, agency_code=CHIYODA, records=[_tax("L-B", 120_000)])
    answer = answer_query(
        session=session, agency_code=CHIYODA, link_code="L-B", items=["resident-tax"]
    )
    assert [r.payload["tax_amount"] for r in answer] == [120_000]


def test_an_unknown_link_code_gets_an_empty_answer(session: Session) -> None:
    upsert_records(session=session, agency_code=CHIYODA, records=[_household("L-C")])
    assert (
        answer_query(
            session=session, agency_code=CHIYODA, link_code="L-unknown", items=["household"]
        )
        == []
    )


def test_one_agency_never_answers_with_another_agencys_records(session: Session) -> None:
    upsert_records(session=session, agency_code=CHIYODA, records=[_household("L-D")])
    assert (
        answer_query(
            session=session, agency_code="muni-141003", link_code="L-D", items=["household"]
        )
        == []
    )


def test_an_item_the_agency_does_not_provide_is_refused(session: Session) -> None:
    with pytest.raises(ItemNotProvidedError):
        answer_query(session=session, agency_code="jps", link_code="L-E", items=["resident-tax"])
    with pytest.raises(ItemNotProvidedError):
        upsert_records(session=session, agency_code="jps", records=[_tax("L-E", 1)])


def test_an_unknown_agency_is_refused(session: Session) -> None:
    with pytest.raises(UnknownAgencyError):
        answer_query(session=session, agency_code="muni-99", link_code="L-F", items=["household"])


def test_a_malformed_payload_stores_nothing(session: Session) -> None:
    before = count_records(session=session, agency_code=CHIYODA)
    broken = _tax("L-G", 1).model_copy(update={"payload": {"assessment_year": "2026"}})
    with pytest.raises(InvalidPayloadError):
        upsert_records(session=session, agency_code=CHIYODA, records=[_household("L-G"), broken])
    assert count_records(session=session, agency_code=CHIYODA) == before


def test_records_can_be_removed(session: Session) -> None:
    upsert_records(
        session=session, agency_code=CHIYODA, records=[_tax("L-H", 10_000), _household("L-H")]
    )
    assert (
        remove_records(
            session=session, agency_code=CHIYODA, link_code="L-H", items=["resident-tax"]
        )
        == 1
    )
    answer = answer_query(
        session=session, agency_code=CHIYODA, link_code="L-H", items=["resident-tax", "household"]
    )
    assert [r.item_code for r in answer] == ["household"]
