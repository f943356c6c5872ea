"""Synthetic agency data for the synthetic population, with the hub's link codes.

The agencies' generator decides who holds what; the hub issues a link code for every
(resident, agency) pair it names, so the hub can later route queries to exactly the
agencies that hold data on a person.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from myna import agencies, registry
from myna.network.domain import PORTAL, new_link_code
from myna.network.models import LinkCode
from myna.platform.attributes import from_attributes
from myna.platform.db import utcnow


class LinkCodeBook:
    """Link codes for a batch of residents: existing ones reused, new ones written at once."""

    def __init__(self, session: Session, resident_ids: list[int]) -> None:
        self._session = session
        self._numbers = registry.my_numbers_of(session=session, resident_ids=resident_ids)
        self._codes: dict[tuple[str, str], str] = {}
        numbers = list(self._numbers.values())
        for start in range(0, len(numbers), 500):
            for number, agency, code in session.execute(
                select(LinkCode.my_number, LinkCode.agency_code, LinkCode.link_code).where(
                    LinkCode.my_number.in_(numbers[start : start + 500])
                )
            ):
                self._codes[(number, agency)] = code
        self._new: list[dict[str, object]] = []

    def __call__(self, resident_id: int, agency_code: str) -> str:
        number = self._numbers[resident_id]
        code = self._codes.get((number, agency_code))
        if code is None:
            code = new_link_code()
            self._codes[(number, agency_code)] = code
            self._new.append(
                {
                    "my_number": number,
                    "agency_code": agency_code,
                    "link_code": code,
                    "issued_at": utcnow(),
                }
            )
        return code

    def flush(self) -> int:
        """Write the codes issued since the last flush; how many there were."""
        written = len(self._new)
        if self._new:
            self._session.execute(insert(LinkCode), self._new)
            self._new = []
        return written


@dataclass(frozen=True, slots=True)
class AgencySeedReport:
    """What seeding the agencies' data added."""

    residents: int
    records: int
    link_codes: int


def seed_agency_data(
    *,
    session: Session,
    seed: int,
    after_household_id: int = 0,
    on_progress: Callable[[int], None] | None = None,
) -> AgencySeedReport:
    """Generate and store every agency's records for households after the given id."""
    residents = records = codes = 0
    for batch in registry.iter_households(session=session, after_household_id=after_household_id):
        facts = [f for members in batch for f in facts_from_members(members)]
        book = LinkCodeBook(session, [f.resident_id for f in facts])
        report = agencies.seed_agency_data(
            session=session, residents=facts, link_code_for=book, seed=seed
        )
        for fact in facts:
            # The portal is a requester for everyone (自己情報開示).
            book(fact.resident_id, PORTAL)
        codes += book.flush()
        residents += len(facts)
        records += report.records
        if on_progress is not None:
            on_progress(len(facts))
    return AgencySeedReport(residents=residents, records=records, link_codes=codes)


# -- the registry's people as the generator sees them -----------------------------------


_PERSONA_KEYS = {(p.family_name, p.given_name, p.birth_date): p.key for p in registry.PERSONAS}


def facts_from_members(members: Sequence[registry.ResidentRead]) -> list[agencies.ResidentFacts]:
    """The generator's view of each member of one household (registry records, head first).

    A member who is one of the registry's personas (same name and birth date) is marked
    with the persona's key, so their hand-written records are used.
    """
    ordered = sorted(members, key=lambda m: (m.relation != registry.Relation.HEAD, m.id))
    household = tuple(
        agencies.HouseholdMember(m.id, m.relation, m.birth_date, m.sex) for m in ordered
    )
    return [
        from_attributes(
            agencies.ResidentFacts,
            m,
            resident_id=m.id,
            household=household,
            address=m.full_address,
            persona=_PERSONA_KEYS.get((m.family_name, m.given_name, m.birth_date)),
            name=m.full_name,
            name_kana=m.full_name_kana,
        )
        for m in ordered
    ]


def facts_for_household(*, session: Session, household_id: int) -> list[agencies.ResidentFacts]:
    """The generator's view of every member of a household, from the registry."""
    return facts_from_members(
        registry.household_members(session=session, household_id=household_id)
    )
