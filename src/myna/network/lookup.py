"""Which resident an agency means by its link code (for services addressing a person)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from myna import registry
from myna.network.domain import UnknownLinkCodeError
from myna.network.linkcodes import my_number_of


def resident_of_link_code(*, session: Session, agency_code: str, link_code: str) -> int:
    """The registry id behind ``agency_code``'s ``link_code``, or UnknownLinkCodeError.

    The MyNumber is looked up and used inside the hub only; callers get the registry id.
    """
    my_number = my_number_of(session=session, agency_code=agency_code, link_code=link_code)
    try:
        return registry.resident_id_of(session=session, my_number=my_number)
    except registry.ResidentNotFoundError as exc:
        raise UnknownLinkCodeError from exc
