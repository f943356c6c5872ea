"""Tables of the resident registry (住民基本台帳).

The MyNumber column exists only here; other contexts reach people by ``resident_id``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime
from myna.reference.models import Municipality

__all__ = [
    "AddressHistory",
    "Base",
    "Household",
    "Municipality",
    "Resident",
    "SealRegistration",
]

# The municipalities table is the reference data's (myna.reference); residents point at it.


class Household(Base):
    """A household (世帯): people registered together at one address."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(
        String(6), ForeignKey("municipalities.code"), index=True
    )
    address: Mapped[str] = mapped_column(String(200))


class Resident(Base):
    """A resident's record (住民票): basic 4 info, MyNumber, household and status."""

    __tablename__ = "residents"
    # Name-and-birth-date lookups (本人確認 by the basic 4 info) use this index.
    __table_args__ = (Index("ix_residents_kana_birth", "family_name_kana", "birth_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    my_number: Mapped[str] = mapped_column(String(12), unique=True)
    family_name: Mapped[str] = mapped_column(String(32))
    given_name: Mapped[str] = mapped_column(String(32))
    family_name_kana: Mapped[str] = mapped_column(String(64))
    given_name_kana: Mapped[str] = mapped_column(String(64))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[int] = mapped_column(SmallInteger)
    municipality_code: Mapped[str] = mapped_column(
        String(6), ForeignKey("municipalities.code"), index=True
    )
    address: Mapped[str] = mapped_column(String(200))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    registered_on: Mapped[date] = mapped_column(Date)
    # 本籍 and 筆頭者: printed on a 住民票の写し only when asked for.
    domicile: Mapped[str | None] = mapped_column(String(200), default=None)
    domicile_head: Mapped[str | None] = mapped_column(String(64), default=None)


class SealRegistration(Base):
    """A registered seal (印鑑登録): the imprint, its number, and whether it still stands."""

    __tablename__ = "seal_registrations"
    __table_args__ = (UniqueConstraint("municipality_code", "registration_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    municipality_code: Mapped[str] = mapped_column(String(6), ForeignKey("municipalities.code"))
    registration_number: Mapped[str] = mapped_column(String(16))
    image_png: Mapped[bytes] = mapped_column(LargeBinary)
    image_sha256: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_by: Mapped[str] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class AddressHistory(Base):
    """One address a resident had, from ``valid_from`` up to ``valid_to`` (open if None)."""

    __tablename__ = "address_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    municipality_code: Mapped[str] = mapped_column(String(6), ForeignKey("municipalities.code"))
    address: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(16))


import myna.registry.account_models  # noqa: E402, F401 - registers the accounts' tables
