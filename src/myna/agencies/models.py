"""Tables of an agency's intermediate server (中間サーバー): the replica records (副本).

One table serves every agency: in embedded mode all agencies share it (the
``agency_code`` column keeps them apart); in distributed mode each agency node has its
own database holding only its own rows. People are reached by the per-agency link code
(機関別符号) only: there is no MyNumber and no resident id here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime

__all__ = ["AgencyRecord", "Base"]


class AgencyRecord(Base):
    """One record of an item an agency holds about the person behind a link code."""

    __tablename__ = "agency_records"
    # Also the index of every query: an agency, a link code, then its items.
    __table_args__ = (UniqueConstraint("agency_code", "link_code", "item_code", "record_key"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    agency_code: Mapped[str] = mapped_column(String(32))
    link_code: Mapped[str] = mapped_column(String(64))
    item_code: Mapped[str] = mapped_column(String(48))
    record_key: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(128))
    valid_from: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
