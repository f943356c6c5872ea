"""Tables of moves (転出届・転入予約・転出証明書情報).

A move links the move-out notification filed with the departing municipality and the
move-in reservation made at the arriving one (two ``applications`` rows carrying the
same signed content), and the people who move. The arriving municipality's copy of the
move-out certificate information (転出証明書情報) is kept per member once it arrives
through the hub.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime

__all__ = ["Move", "MoveMember"]


class Move(Base):
    """One move between two municipalities (引越し): 転出届 + 転入予約 in one submission.

    ``status`` is ``filed`` → ``certificate-sent`` (転出証明書情報 delivered) →
    ``completed`` (転入 recorded in the registry). Residents are referenced by id only.
    """

    __tablename__ = "moves"
    __table_args__ = (Index("ix_moves_to_municipality", "to_municipality_code", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(Integer, index=True)
    move_out_application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    move_in_application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    from_municipality_code: Mapped[str] = mapped_column(String(6))
    to_municipality_code: Mapped[str] = mapped_column(String(6))
    new_address: Mapped[str] = mapped_column(String(200))
    move_out_date: Mapped[date] = mapped_column(Date)
    move_in_date: Mapped[date] = mapped_column(Date)
    scope: Mapped[str] = mapped_column(String(16))
    new_head_name: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(24))
    certificate_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MoveMember(Base):
    """A person who moves, and what the arriving municipality received about them.

    ``certificate`` is the 転出証明書情報 as the hub delivered it (None until then).
    """

    __tablename__ = "move_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    move_id: Mapped[int] = mapped_column(ForeignKey("moves.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int] = mapped_column(Integer, index=True)
    position: Mapped[int] = mapped_column(Integer)
    certificate: Mapped[dict[str, Any] | None] = mapped_column(JSON)
