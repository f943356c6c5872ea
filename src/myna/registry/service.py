"""Use cases of the resident registry (住民基本台帳)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from myna import reference
from myna.platform.attributes import from_attributes
from myna.platform.errors import N_, MynaError, NotFoundError
from myna.reference import MunicipalityRead, Relation, Sex
from myna.registry import repository
from myna.registry.domain import (
    AddressChangeReason,
    MunicipalityRow,
    ResidentStatus,
    age_band,
    age_on,
    is_katakana,
    parse_municipality_csv,
    validate_my_number,
)
from myna.registry.models import AddressHistory, Household, Municipality, Resident
from myna.registry.schemas import (
    AddressHistoryRead,
    MunicipalityLoadResult,
    ResidentCreate,
    ResidentRead,
)
from myna.registry.shipped import shipped_municipalities_csv


class ResidentNotFoundError(NotFoundError, code="resident_not_found"):
    """No resident matches (the message never says which number was asked for)."""

    message = N_("No resident with this record was found. Check the details and try again.")


class HouseholdNotFoundError(NotFoundError, code="household_not_found"):
    """A household id that does not exist."""

    message = N_("The household {household_id} does not exist. Check the household number.")


class ResidentNotActiveError(MynaError, code="resident_not_active", status_code=409):
    """The record is closed (死亡 or 転出), so it cannot change."""

    message = N_(
        "This resident's record is closed ({status}), so it cannot be changed. "
        "Ask the municipality that holds the record."
    )


class InvalidMoveError(MynaError, code="invalid_move"):
    """A move that contradicts the resident's address history."""

    message = N_(
        "A move must be dated after the current address began ({since}) and a household "
        "joined must be at the new address. Check the date and the household."
    )


class InvalidResidentError(MynaError, code="invalid_resident"):
    """Registration details that break a rule of the 住民票."""

    message = N_(
        "The readings of the name must be written in katakana and the birth date must not "
        "be after the registration date. Correct the details and try again."
    )


# -- municipalities ----------------------------------------------------------------------


def _municipality_read(municipality: Municipality) -> MunicipalityRead:
    return MunicipalityRead.model_validate(municipality)


def load_municipalities(
    *, session: Session, rows: Iterable[MunicipalityRow]
) -> MunicipalityLoadResult:
    """Insert or update municipalities from already validated rows."""
    incoming = {row.code: row for row in rows}
    existing = reference.municipalities_by_code(session, incoming)
    inserted = updated = 0
    for code, row in incoming.items():
        values = {
            "prefecture_code": row.prefecture_code,
            "prefecture_name": row.prefecture_name,
            "prefecture_name_kana": row.prefecture_name_kana,
            "name": row.name,
            "name_kana": row.name_kana,
        }
        current = existing.get(code)
        if current is None:
            session.add(Municipality(code=code, **values))
            inserted += 1
        elif any(getattr(current, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(current, key, value)
            updated += 1
    session.flush()
    return MunicipalityLoadResult(inserted=inserted, updated=updated)


def load_municipality_file(*, session: Session, data: bytes) -> MunicipalityLoadResult:
    """Load a 総務省 全国地方公共団体コード CSV: every row is checked before any is written."""
    return load_municipalities(session=session, rows=parse_municipality_csv(data))


def ensure_municipalities(*, session: Session) -> int:
    """Load the shipped municipality list if the registry has none; the number loaded."""
    if repository.count_municipalities(session):
        return 0
    return load_municipality_file(session=session, data=shipped_municipalities_csv()).inserted


def _require_municipality(session: Session, code: str) -> Municipality:
    return reference.require_municipality(session=session, code=code)


# -- residents ---------------------------------------------------------------------------


class _Place(NamedTuple):
    """A municipality's names, as a resident's record reads them."""

    prefecture_name: str
    name: str


def _resident_read(
    resident: Resident | Row[Any], municipality: Municipality | MunicipalityRead | _Place
) -> ResidentRead:
    municipality_name = f"{municipality.prefecture_name}{municipality.name}"
    return from_attributes(
        ResidentRead,
        resident,
        sex=Sex(resident.sex),
        municipality_name=municipality_name,
        full_address=f"{municipality_name}{resident.address}",
        relation=Relation(resident.relation),
        status=ResidentStatus(resident.status),
    )


def count_residents(*, session: Session) -> int:
    """How many residents the registry holds (the demo reuses an existing population)."""
    return repository.count_residents(session)


# Resident ids per query when counting a given set (well under every database's limit
# of bound parameters), and how many such queries before one pass over the register.
_COUNT_CHUNK = 500
_COUNT_CHUNKS = 10


def residents_by_municipality_and_age_band(
    *,
    session: Session,
    on: date,
    band_starts: Sequence[int],
    among: Iterable[int] | None = None,
) -> dict[tuple[str, int], int]:
    """Active residents (住民) by municipality and age band on ``on``: counts, no one's data.

    The key is (local government code, the band's first age, see :func:`age_band`); only
    groups with someone in them appear. ``among`` restricts the count to those resident
    ids (the holders of a card, say): read in chunks, or in one pass for many ids.
    """
    rows: list[tuple[str, date, int]]
    if among is None:
        rows = repository.residents_by_municipality_and_birth_date(session)
    else:
        ids = sorted(set(among))
        if len(ids) <= _COUNT_CHUNKS * _COUNT_CHUNK:
            rows = [
                row
                for start in range(0, len(ids), _COUNT_CHUNK)
                for row in repository.residents_by_municipality_and_birth_date(
                    session, ids[start : start + _COUNT_CHUNK]
                )
            ]
        else:
            # Many ids: one pass over the register beats thousands of IN lists.
            wanted = set(ids)
            rows = [
                (code, born, 1)
                for resident_id, code, born in repository.active_residents_placed(session)
                if resident_id in wanted
            ]
    counts: dict[tuple[str, int], int] = {}
    for code, born, count in rows:
        key = (code, age_band(age_on(born, on), band_starts))
        counts[key] = counts.get(key, 0) + count
    return counts


def get_resident(*, session: Session, resident_id: int) -> ResidentRead:
    """A resident's record by id."""
    row = repository.resident_record(session, resident_id)
    if row is None:
        raise ResidentNotFoundError
    return _resident_read(row, _Place(row.prefecture_name, row.municipality_own_name))


def find_resident_by_my_number(*, session: Session, my_number: str) -> ResidentRead:
    """The resident holding ``my_number`` (validated first: a typo is told apart)."""
    resident_id = repository.resident_id_by_my_number(session, validate_my_number(my_number))
    if resident_id is None:
        raise ResidentNotFoundError
    return get_resident(session=session, resident_id=resident_id)


def get_my_number(*, session: Session, resident_id: int) -> str:
    """The resident's MyNumber. Only the network hub's link-code issuance may call this."""
    found = repository.my_number_of(session, resident_id)
    if found is None:
        raise ResidentNotFoundError
    return found


def my_numbers_of(*, session: Session, resident_ids: Sequence[int]) -> dict[int, str]:
    """Many residents' MyNumbers at once. Only the hub's bulk link-code issuance may call this."""
    found: dict[int, str] = {}
    for start in range(0, len(resident_ids), 500):
        chunk = list(resident_ids[start : start + 500])
        rows = session.execute(
            select(Resident.id, Resident.my_number).where(Resident.id.in_(chunk))
        )
        found.update((resident_id, number) for resident_id, number in rows)
    missing = set(resident_ids) - found.keys()
    if missing:
        raise ResidentNotFoundError
    return found


def resident_id_of(*, session: Session, my_number: str) -> int:
    """The registry id behind a MyNumber (for the hub's log subject; no validation cost)."""
    resident_id = repository.resident_id_by_my_number(session, my_number)
    if resident_id is None:
        raise ResidentNotFoundError
    return resident_id


def household_members(*, session: Session, household_id: int) -> list[ResidentRead]:
    """The members of a household (世帯), head first."""
    members = repository.residents_of_household(session, household_id)
    if not members:
        raise HouseholdNotFoundError(household_id=household_id)
    municipalities = reference.municipalities_by_code(
        session, {m.municipality_code for m in members}
    )
    return [_resident_read(m, municipalities[m.municipality_code]) for m in members]


def iter_households(
    *, session: Session, after_household_id: int = 0, batch_size: int = 5_000
) -> Iterator[list[list[ResidentRead]]]:
    """Every household after ``after_household_id``, members head first, in batches.

    For bulk work over the whole population (seeding the agencies' data).
    """
    municipalities = {m.code: m for m in reference.list_municipalities(session=session)}
    last = after_household_id
    while True:
        ids = list(
            session.scalars(
                select(Household.id)
                .where(Household.id > last)
                .order_by(Household.id)
                .limit(batch_size)
            )
        )
        if not ids:
            return
        members: dict[int, list[ResidentRead]] = {household_id: [] for household_id in ids}
        for resident in session.scalars(
            select(Resident)
            .where(Resident.household_id.in_(ids))
            .order_by(Resident.household_id, Resident.id)
        ):
            members[resident.household_id].append(
                _resident_read(resident, municipalities[resident.municipality_code])
            )
        yield [group for group in members.values() if group]
        last = ids[-1]


def max_household_id(*, session: Session) -> int:
    """The newest household's id (0 when there are none)."""
    return session.scalar(select(func.max(Household.id))) or 0


def address_history(*, session: Session, resident_id: int) -> list[AddressHistoryRead]:
    """Every address a resident had, oldest first."""
    get_resident(session=session, resident_id=resident_id)
    return [
        AddressHistoryRead.model_validate(row)
        for row in repository.address_history(session, resident_id)
    ]


_CHECKED_ON_REGISTRATION = {"my_number", "sex", "municipality_code", "household_id", "relation"}


def register_resident(*, session: Session, data: ResidentCreate) -> ResidentRead:
    """Register a resident (住民登録) in a new household or in ``data.household_id``'s."""
    my_number = validate_my_number(data.my_number)
    municipality = _require_municipality(session, data.municipality_code)
    if (
        not is_katakana(data.family_name_kana)
        or not is_katakana(data.given_name_kana)
        or data.birth_date > data.registered_on
    ):
        raise InvalidResidentError
    if data.household_id is None:
        household = Household(municipality_code=municipality.code, address=data.address)
        session.add(household)
        session.flush()
    else:
        existing = session.get(Household, data.household_id)
        if existing is None:
            raise HouseholdNotFoundError(household_id=data.household_id)
        household = existing
    # Names, birth date, address and date as entered; the rest checked or converted.
    entered = data.model_dump(exclude=_CHECKED_ON_REGISTRATION)
    resident = Resident(
        **entered,
        my_number=my_number,
        sex=int(data.sex),
        municipality_code=municipality.code,
        household_id=household.id,
        relation=data.relation.value,
        status=ResidentStatus.ACTIVE.value,
    )
    session.add(resident)
    session.flush()
    reason = (
        AddressChangeReason.BIRTH
        if data.birth_date == data.registered_on
        else AddressChangeReason.MOVE_IN
    )
    session.add(
        AddressHistory(
            resident_id=resident.id,
            municipality_code=municipality.code,
            address=data.address,
            valid_from=data.registered_on,
            valid_to=None,
            reason=reason.value,
        )
    )
    session.flush()
    return _resident_read(resident, municipality)


def record_move(
    *,
    session: Session,
    resident_id: int,
    municipality_code: str,
    address: str,
    moved_on: date,
    reason: AddressChangeReason | None = None,
    household_id: int | None = None,
    relation: Relation | None = None,
) -> ResidentRead:
    """Record a move (転入 / 転居): close the current address, open the new one.

    The resident joins ``household_id`` if given; otherwise a household of one moves
    with them, and someone leaving a larger household heads a new one. Callers move a
    whole family by moving the head, then each member with the head's household_id.
    """
    found = repository.resident_with_municipality(session, resident_id)
    if found is None:
        raise ResidentNotFoundError
    resident, _ = found
    if resident.status != ResidentStatus.ACTIVE:
        raise ResidentNotActiveError(status=resident.status)
    municipality = _require_municipality(session, municipality_code)
    current = repository.open_address(session, resident_id)
    if current is not None and moved_on <= current.valid_from:
        raise InvalidMoveError(since=current.valid_from.isoformat())
    if reason is None:
        same_place = municipality.code == resident.municipality_code
        reason = AddressChangeReason.MOVE_WITHIN if same_place else AddressChangeReason.MOVE_IN

    if household_id is not None:
        household = session.get(Household, household_id)
        if household is None:
            raise HouseholdNotFoundError(household_id=household_id)
        if household.municipality_code != municipality.code or household.address != address:
            raise InvalidMoveError(since=current.valid_from.isoformat() if current else "-")
        resident.household_id = household.id
        resident.relation = (relation or Relation.COHABITANT).value
    else:
        others = [
            m
            for m in repository.residents_of_household(session, resident.household_id)
            if m.id != resident.id
        ]
        if others:
            household = Household(municipality_code=municipality.code, address=address)
            session.add(household)
            session.flush()
            resident.household_id = household.id
            resident.relation = Relation.HEAD.value
        else:
            household = session.get_one(Household, resident.household_id)
            household.municipality_code = municipality.code
            household.address = address
            if relation is not None:
                resident.relation = relation.value

    if current is not None:
        current.valid_to = moved_on
    resident.municipality_code = municipality.code
    resident.address = address
    session.add(
        AddressHistory(
            resident_id=resident.id,
            municipality_code=municipality.code,
            address=address,
            valid_from=moved_on,
            valid_to=None,
            reason=reason.value,
        )
    )
    session.flush()
    return _resident_read(resident, municipality)
