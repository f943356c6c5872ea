"""Queries on the municipalities table (select()-based, no rules)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from myna.reference.models import Municipality

__all__ = ["municipalities_by_code", "municipality_values", "ordered", "prefectures"]

_MUNICIPALITIES = cast(Table, Municipality.__table__)
# Naming one agency of a municipality (an inbox's senders, an answer's sources): a Core
# select compiled once, not an ORM object to be read once.
_ONE = select(_MUNICIPALITIES).where(_MUNICIPALITIES.c.code == bindparam("code"))


def municipality_values(session: Session, code: str) -> dict[str, Any] | None:
    """The columns of municipality ``code``, by name, or None."""
    row = session.execute(_ONE, {"code": code}).one_or_none()
    return None if row is None else dict(row._mapping)


def municipalities_by_code(session: Session, codes: Iterable[str]) -> dict[str, Municipality]:
    """The municipalities among ``codes`` that exist, by code."""
    wanted = list(codes)
    found: dict[str, Municipality] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for municipality in session.scalars(
            select(Municipality).where(Municipality.code.in_(chunk))
        ):
            found[municipality.code] = municipality
    return found


def ordered(session: Session, prefecture_code: str | None) -> list[Municipality]:
    """Municipalities in code order, optionally of one prefecture."""
    query = select(Municipality).order_by(Municipality.code)
    if prefecture_code is not None:
        query = query.where(Municipality.prefecture_code == prefecture_code)
    return list(session.scalars(query))


def prefectures(session: Session) -> list[tuple[str, str]]:
    """The distinct prefectures of the municipalities, (code, name) in code order."""
    query = (
        select(Municipality.prefecture_code, Municipality.prefecture_name)
        .distinct()
        .order_by(Municipality.prefecture_code)
    )
    return [(code, name) for code, name in session.execute(query)]
