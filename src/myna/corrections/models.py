"""The portal's record of each correction request a resident sent (訂正の申出).

What the resident asked, of which agency, the agency's reference, and its answer; the
evidence file itself went to the agency (only its name, type and size are kept here).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime


class CorrectionRequestRow(Base):
    """One resident's request to correct one item an agency holds."""

    __tablename__ = "correction_requests"
    __table_args__ = (Index("ix_correction_requests_resident_id", "resident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    resident_id: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(64))
    item_code: Mapped[str] = mapped_column(String(48))
    field_name: Mapped[str] = mapped_column(String(64))
    current_value: Mapped[str] = mapped_column(String(200))
    proposed_value: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(1000))
    evidence_name: Mapped[str | None] = mapped_column(String(200))
    evidence_type: Mapped[str | None] = mapped_column(String(64))
    evidence_size: Mapped[int | None] = mapped_column(Integer)
    agency_reference: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    answer_reason: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
