"""Seeding a synthetic population through the bulk writer (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna.registry import (
    ResidentCreate,
    Sex,
    address_history,
    household_members,
    register_resident,
    seed_population,
    validate_my_number,
)
from myna.registry.models import AddressHistory, Household, Resident


def _numbers(session: Session) -> list[str]:
    return list(session.scalars(select(Resident.my_number).order_by(Resident.id)))


def test_seeding_writes_people_households_and_their_first_address(session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(Resident)) or 0
    progress: list[int] = []
    summary = seed_population(
        session=session, residents=1200, seed=7, batch_size=500, on_progress=progress.append
    )
    assert summary.residents == 1200 == sum(progress)
    assert len(progress) >= 3
    assert session.scalar(select(func.count()).select_from(Resident)) == before + 1200
    assert summary.households > 400
    assert summary.municipalities > 20
    numbers = _numbers(session)
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert validate_my_number(number) == number
    # Every seeded resident has exactly one open address record matching the record.
    seeded = session.scalars(select(Resident).order_by(Resident.id.desc()).limit(50)).all()
    for resident in seeded:
        history = address_history(session=session, resident_id=resident.id)
        assert len(history) == 1
        assert (history[0].address, history[0].valid_to) == (resident.address, None)
        members = household_members(session=session, household_id=resident.household_id)
        assert resident.id in {m.id for m in members}


def test_the_same_seed_on_the_same_database_gives_the_same_people(session: Session) -> None:
    def run() -> list[tuple[str, str, date]]:
        nested = session.begin_nested()
        seed_population(session=session, residents=300, seed=11)
        people = [
            (r.my_number, r.family_name + r.given_name, r.birth_date)
            for r in session.scalars(select(Resident).order_by(Resident.id.desc()).limit(300))
        ]
        nested.rollback()
        return people

    assert run() == run()


def test_seeding_again_adds_new_people_with_new_numbers(session: Session) -> None:
    seed_population(session=session, residents=400, seed=3)
    first = set(_numbers(session))
    seed_population(session=session, residents=400, seed=3)
    second = set(_numbers(session))
    assert len(second) == len(first) + 400


def test_ordinary_inserts_continue_after_seeded_ids(session: Session) -> None:
    seed_population(session=session, residents=200, seed=5)
    top = session.scalar(select(func.max(Resident.id))) or 0
    top_household = session.scalar(select(func.max(Household.id))) or 0
    top_history = session.scalar(select(func.max(AddressHistory.id))) or 0
    created = register_resident(
        session=session,
        data=ResidentCreate(
            my_number="100000000005",
            family_name="高橋",
            given_name="健",
            family_name_kana="タカハシ",
            given_name_kana="ケン",
            birth_date=date(2000, 1, 1),
            sex=Sex.MALE,
            municipality_code="131016",
            address="丸の内一丁目1番1号",
            registered_on=date(2020, 1, 1),
        ),
    )
    assert created.id > top
    assert created.household_id > top_household
    assert session.scalar(select(func.max(AddressHistory.id))) == top_history + 1
