"""Tables of an agency's intermediate server (中間サーバー): the replica records (副本).

One table serves every agency: in embedded mode all agencies share it (the
``agency_code`` column keeps them apart); in distributed mode each agency node has its
own database holding only its own rows. People are reached by the per-agency link code
(機関別符号) only: there is no MyNumber and no resident id here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime

__all__ = ["AgencyCorrection", "AgencyRecord", "Base"]


class AgencyRecord(Base):
    """One record of an item an agency holds about the person behind a link code."""

    __tablename__ = "agency_records"
    # Also the index of every query: an agency, a link code, then its items; the second
    # finds a record by its key (an insured id in the eligibility service's own store).
    __table_args__ = (
        UniqueConstraint("agency_code", "link_code", "item_code", "record_key"),
        Index(
            "ix_agency_records_agency_code_item_code_record_key",
            "agency_code",
            "item_code",
            "record_key",
        ),
    )

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


class AgencyCorrection(Base):
    """A resident's correction request (訂正の申出) waiting in the holder's queue.

    Delivered by the hub with the agency's own link code; the agency answers it from its
    staff view, and the answer goes back through the hub.
    """

    __tablename__ = "agency_corrections"
    __table_args__ = (Index("ix_agency_corrections_agency_code_status", "agency_code", "status"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    agency_code: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    requester: Mapped[str] = mapped_column(String(64))
    link_code: Mapped[str] = mapped_column(String(64))
    item_code: Mapped[str] = mapped_column(String(48))
    field_name: Mapped[str] = mapped_column(String(64))
    current_value: Mapped[str] = mapped_column(String(200))
    proposed_value: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(1000))
    evidence_name: Mapped[str | None] = mapped_column(String(200))
    evidence_type: Mapped[str | None] = mapped_column(String(64))
    evidence: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    answer_reason: Mapped[str | None] = mapped_column(String(1000))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
