"""Queries on the registry tables (select()-based, no business rules)."""

# municipalities_by_code: the reference data's query, used for the registry's loads too.

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import date
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, func, select
from sqlalchemy.orm import Session

from myna.registry.models import AddressHistory, Household, Municipality, Resident


def count_municipalities(session: Session) -> int:
    """How many municipalities are registered."""
    return session.scalar(select(func.count()).select_from(Municipality)) or 0


def count_residents(session: Session) -> int:
    """How many residents are registered, whatever their status."""
    return session.scalar(select(func.count()).select_from(Resident)) or 0


def residents_by_municipality_and_birth_date(
    session: Session, ids: Collection[int] | None = None
) -> list[tuple[str, date, int]]:
    """Active residents counted by municipality and date of birth, of ``ids`` if given."""
    statement = (
        select(Resident.municipality_code, Resident.birth_date, func.count())
        .where(Resident.status == "active")
        .group_by(Resident.municipality_code, Resident.birth_date)
    )
    if ids is not None:
        statement = statement.where(Resident.id.in_(ids))
    return [(code, born, count) for code, born, count in session.execute(statement)]


def active_residents_placed(session: Session) -> Iterator[tuple[int, str, date]]:
    """Every active resident's id, municipality and date of birth, streamed in batches."""
    rows = session.execute(
        select(Resident.id, Resident.municipality_code, Resident.birth_date)
        .where(Resident.status == "active")
        .execution_options(yield_per=5000)
    )
    yield from ((resident_id, code, born) for resident_id, code, born in rows)


def resident_with_municipality(
    session: Session, resident_id: int
) -> tuple[Resident, Municipality] | None:
    """A resident and their municipality, or None."""
    row = session.execute(
        select(Resident, Municipality)
        .join(Municipality, Municipality.code == Resident.municipality_code)
        .where(Resident.id == resident_id)
    ).first()
    return (row[0], row[1]) if row else None


_RESIDENTS = cast(Table, Resident.__table__)
# The hub maps a person on every exchange, both ways: Core selects compiled once.
_MY_NUMBER = select(_RESIDENTS.c.my_number).where(_RESIDENTS.c.id == bindparam("resident_id"))
_RESIDENT_ID = select(_RESIDENTS.c.id).where(_RESIDENTS.c.my_number == bindparam("my_number"))


def my_number_of(session: Session, resident_id: int) -> str | None:
    """The MyNumber of resident ``resident_id``, or None."""
    number: str | None = session.scalar(_MY_NUMBER, {"resident_id": resident_id})
    return number


_MUNICIPALITIES = cast(Table, Municipality.__table__)
# A resident's record as other contexts read it: every column but the MyNumber, with the
# municipality's names. Built once, read with Core (the card login reads it each time).
_RESIDENT_RECORD = (
    select(
        *(column for column in _RESIDENTS.c if column.key != "my_number"),
        _MUNICIPALITIES.c.prefecture_name,
        _MUNICIPALITIES.c.name.label("municipality_own_name"),
    )
    .join_from(
        _RESIDENTS, _MUNICIPALITIES, _MUNICIPALITIES.c.code == _RESIDENTS.c.municipality_code
    )
    .where(_RESIDENTS.c.id == bindparam("resident_id"))
)


def resident_record(session: Session, resident_id: int) -> Row[Any] | None:
    """A resident's columns (not the MyNumber) and their municipality's names, or None.

    A Core read: nothing enters the session (for reading; changes load the objects).
    """
    return cast(
        "Row[Any] | None", session.execute(_RESIDENT_RECORD, {"resident_id": resident_id}).first()
    )


def resident_id_by_my_number(session: Session, my_number: str) -> int | None:
    """The id of the resident holding ``my_number``, or None."""
    resident_id: int | None = session.scalar(_RESIDENT_ID, {"my_number": my_number})
    return resident_id


def residents_of_household(session: Session, household_id: int) -> list[Resident]:
    """A household's members, head first, then by birth date."""
    return list(
        session.scalars(
            select(Resident)
            .where(Resident.household_id == household_id)
            .order_by(Resident.relation != "世帯主", Resident.birth_date, Resident.id)
        )
    )


def open_address(session: Session, resident_id: int) -> AddressHistory | None:
    """The current (open-ended) address record of a resident."""
    return session.scalars(
        select(AddressHistory)
        .where(AddressHistory.resident_id == resident_id, AddressHistory.valid_to.is_(None))
        .order_by(AddressHistory.valid_from.desc(), AddressHistory.id.desc())
    ).first()


def address_history(session: Session, resident_id: int) -> list[AddressHistory]:
    """Every address record of a resident, oldest first."""
    return list(
        session.scalars(
            select(AddressHistory)
            .where(AddressHistory.resident_id == resident_id)
            .order_by(AddressHistory.valid_from, AddressHistory.id)
        )
    )


def existing_my_numbers(session: Session, candidates: list[str]) -> set[str]:
    """Which of ``candidates`` already belong to someone."""
    taken: set[str] = set()
    for start in range(0, len(candidates), 5000):
        chunk = candidates[start : start + 5000]
        taken.update(
            session.scalars(select(Resident.my_number).where(Resident.my_number.in_(chunk)))
        )
    return taken


def max_ids(session: Session) -> tuple[int, int, int]:
    """The highest household, resident and address-history ids in use (0 if none)."""
    return (
        session.scalar(select(func.max(Household.id))) or 0,
        session.scalar(select(func.max(Resident.id))) or 0,
        session.scalar(select(func.max(AddressHistory.id))) or 0,
    )
