"""Link codes (情報提供用個人識別符号): the hub's map between a person and each agency.

The MyNumber is read from the registry only here and kept only in this table; agencies
see their own link code, never the MyNumber and never another agency's code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from myna import registry
from myna.network.domain import UnknownLinkCodeError, new_link_code
from myna.network.models import LinkCode
from myna.platform.db import insert_row, utcnow

_LINK_CODES = cast(Table, LinkCode.__table__)
# Every exchange maps its person through these: Core selects compiled once.
_CODE_OF = select(_LINK_CODES.c.link_code).where(
    _LINK_CODES.c.my_number == bindparam("my_number"),
    _LINK_CODES.c.agency_code == bindparam("agency_code"),
)
_NUMBER_OF = select(_LINK_CODES.c.my_number).where(
    _LINK_CODES.c.agency_code == bindparam("agency_code"),
    _LINK_CODES.c.link_code == bindparam("link_code"),
)
_HOLDING = select(_LINK_CODES.c.agency_code, _LINK_CODES.c.link_code).where(
    _LINK_CODES.c.my_number == bindparam("my_number")
)


def _code_of(session: Session, my_number: str, agency_code: str) -> str | None:
    code: str | None = session.scalar(
        _CODE_OF, {"my_number": my_number, "agency_code": agency_code}
    )
    return code


def link_code_for_resident(*, session: Session, resident_id: int, agency_code: str) -> str:
    """The agency's link code for a resident, issued on first use."""
    my_number = registry.get_my_number(session=session, resident_id=resident_id)
    return _ensure(session, my_number, agency_code)


def ensure_link_code(*, session: Session, my_number: str, agency_code: str) -> str:
    """The agency's link code for the person, issued on first use (hub-internal only)."""
    return _ensure(session, my_number, agency_code)


def _ensure(session: Session, my_number: str, agency_code: str) -> str:
    existing = _code_of(session, my_number, agency_code)
    if existing is not None:
        return existing
    code = new_link_code()
    try:
        # A savepoint: two first uses at once (PostgreSQL, several workers) issue one code.
        with session.begin_nested():
            insert_row(
                session,
                LinkCode,
                {
                    "my_number": my_number,
                    "agency_code": agency_code,
                    "link_code": code,
                    "issued_at": utcnow(),
                },
            )
    except IntegrityError:
        issued = _code_of(session, my_number, agency_code)
        if issued is None:  # pragma: no cover - the unique key said it exists
            raise
        return issued
    return code


def issue_many(
    *, session: Session, pairs: Iterable[tuple[int, str]], batch_size: int = 20_000
) -> dict[tuple[int, str], str]:
    """Issue link codes for many (resident id, agency) pairs at once (seeding)."""
    wanted = sorted(set(pairs))
    resident_ids = sorted({resident_id for resident_id, _ in wanted})
    numbers = registry.my_numbers_of(session=session, resident_ids=resident_ids)
    existing: dict[tuple[str, str], str] = {}
    by_number = {number: rid for rid, number in numbers.items()}
    chunk = list(by_number)
    for start in range(0, len(chunk), 500):
        for number, agency, code in session.execute(
            select(LinkCode.my_number, LinkCode.agency_code, LinkCode.link_code).where(
                LinkCode.my_number.in_(chunk[start : start + 500])
            )
        ):
            existing[(number, agency)] = code
    issued: dict[tuple[int, str], str] = {}
    rows: list[dict[str, object]] = []
    now = utcnow()
    for resident_id, agency in wanted:
        number = numbers[resident_id]
        found = existing.get((number, agency))
        if found is None:
            found = new_link_code()
            rows.append(
                {"my_number": number, "agency_code": agency, "link_code": found, "issued_at": now}
            )
        issued[(resident_id, agency)] = found
    for start in range(0, len(rows), batch_size):
        session.execute(insert(LinkCode), rows[start : start + batch_size])
    return issued


def my_number_of(*, session: Session, agency_code: str, link_code: str) -> str:
    """The person behind ``agency_code``'s ``link_code`` (hub-internal only)."""
    number: str | None = session.scalar(
        _NUMBER_OF, {"agency_code": agency_code, "link_code": link_code}
    )
    if number is None:
        raise UnknownLinkCodeError
    return number


def agencies_holding(*, session: Session, my_number: str) -> dict[str, str]:
    """Every agency with a link code for this person, and that code."""
    rows = session.execute(_HOLDING, {"my_number": my_number}).all()
    return {agency: code for agency, code in rows}  # noqa: C416 - rows are Row objects
