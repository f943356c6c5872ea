"""Registry side of a move between municipalities (転入): several people, one new address."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from myna.reference import Relation
from myna.registry.domain import AddressChangeReason
from myna.registry.schemas import ResidentRead
from myna.registry.service import get_resident, record_move


def record_move_in(
    *,
    session: Session,
    resident_ids: Sequence[int],
    municipality_code: str,
    address: str,
    moved_on: date,
) -> list[ResidentRead]:
    """Record a 転入 for the people moving together, the first heading the new household.

    The first person moves first (a new household when others stay behind), then each
    other person joins that household keeping their relation to the head. Everyone's
    current address closes on ``moved_on`` and the new one opens, in the caller's
    transaction: a refusal for anyone leaves nobody moved once the caller rolls back.
    """
    moved: list[ResidentRead] = []
    for resident_id in resident_ids:
        if not moved:
            household_id, relation = None, Relation.HEAD
        else:
            before = get_resident(session=session, resident_id=resident_id)
            household_id = moved[0].household_id
            relation = Relation.COHABITANT if before.relation is Relation.HEAD else before.relation
        moved.append(
            record_move(
                session=session,
                resident_id=resident_id,
                municipality_code=municipality_code,
                address=address,
                moved_on=moved_on,
                reason=AddressChangeReason.MOVE_IN,
                household_id=household_id,
                relation=relation,
            )
        )
    return moved
