"""Seeding the replica stores from the registry: link codes only, never a MyNumber."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from myna.agencies import (
    answer_query,
    count_records,
    load_catalog,
    seed_agency_data,
)
from myna.agencies.models import AgencyRecord
from myna.network import facts_for_household
from myna.registry import (
    count_residents,
    ensure_personas,
    get_my_number,
    get_resident,
    seed_population,
)


def link_code_for(resident_id: int, agency_code: str) -> str:
    """A stand-in for the hub's link codes: opaque, distinct per person and agency."""
    return hashlib.sha256(f"test:{resident_id}:{agency_code}".encode()).hexdigest()[:32]


def _facts_of_everyone(session: Session):  # type: ignore[no-untyped-def]
    households: set[int] = set()
    for resident_id in range(1, count_residents(session=session) + 1):
        households.add(get_resident(session=session, resident_id=resident_id).household_id)
    return [
        f for h in sorted(households) for f in facts_for_household(session=session, household_id=h)
    ]


def test_the_personas_get_their_records_under_their_link_codes(session: Session) -> None:
    personas = ensure_personas(session=session)
    facts = [
        f
        for key in ("taro", "misaki", "ichiro")
        for f in facts_for_household(session=session, household_id=personas[key].household_id)
    ]
    assert {f.persona for f in facts} == {"taro", "hanako", "haruto", "misaki", "ichiro"}
    report = seed_agency_data(session=session, residents=facts, link_code_for=link_code_for, seed=1)
    assert report.residents == 5
    assert report.records > 40
    haruto = personas["haruto"].id
    vaccinations = answer_query(
        session=session,
        agency_code="muni-131016",
        link_code=link_code_for(haruto, "muni-131016"),
        items=["vaccination", "infant-checkup"],
    )
    assert {r.item_code for r in vaccinations} == {"vaccination", "infant-checkup"}
    taro = personas["taro"].id
    allowance = answer_query(
        session=session,
        agency_code="muni-131016",
        link_code=link_code_for(taro, "muni-131016"),
        items=["child-allowance"],
    )
    assert allowance[0].payload["child_birth_date"] == "2016-06-20"
    care = answer_query(
        session=session,
        agency_code="muni-011002",
        link_code=link_code_for(personas["ichiro"].id, "muni-011002"),
        items=["long-term-care"],
    )
    assert care[0].payload["care_level"] == "要介護1"


def test_seeding_again_replaces_rather_than_duplicates(session: Session) -> None:
    personas = ensure_personas(session=session)
    facts = facts_for_household(session=session, household_id=personas["misaki"].household_id)
    seed_agency_data(session=session, residents=facts, link_code_for=link_code_for, seed=1)
    before = count_records(session=session)
    again = seed_agency_data(session=session, residents=facts, link_code_for=link_code_for, seed=1)
    assert again.records > 0
    assert count_records(session=session) == before


def test_no_agency_table_holds_a_my_number_or_a_resident_id(session: Session) -> None:
    columns = {c["name"] for c in inspect(session.connection()).get_columns("agency_records")}
    assert columns == {
        "id", "agency_code", "link_code", "item_code", "record_key", "payload", "source",
        "valid_from", "updated_at",
    }  # fmt: skip
    assert not any("number" in c or "resident" in c for c in columns)

    seed_population(session=session, residents=300, seed=5)
    facts = _facts_of_everyone(session)
    report = seed_agency_data(session=session, residents=facts, link_code_for=link_code_for, seed=5)
    assert report.residents == len(facts) >= 300
    my_numbers = {get_my_number(session=session, resident_id=f.resident_id) for f in facts}
    assert len(my_numbers) == len(facts)
    rows = session.execute(select(AgencyRecord)).scalars().all()
    assert len(rows) == count_records(session=session) >= report.records
    for row in rows:
        text = json.dumps(
            [
                row.agency_code,
                row.link_code,
                row.item_code,
                row.record_key,
                row.payload,
                row.source,
            ],
            ensure_ascii=False,
        )
        digits = "".join(ch if ch.isdigit() else " " for ch in text).split()
        assert not my_numbers.intersection(digits), row.item_code
        assert not any(n in text for n in my_numbers)
    catalog = load_catalog()
    assert all(catalog.provides(row.agency_code, row.item_code) for row in rows)
