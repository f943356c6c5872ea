"""Service tables: e-application drafts; back-office tables live in office_models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime, utcnow
from myna.services import office_models  # noqa: F401 - registers the back-office tables

__all__ = ["ApplicationDraft", "Base"]


class ApplicationDraft(Base):
    """A resident's unfinished e-application (申請の下書き), one per procedure and municipality.

    The resident is referenced by id only: the registry owns residents (no cross-context
    foreign key, as for notices).
    """

    __tablename__ = "application_drafts"
    __table_args__ = (UniqueConstraint("resident_id", "municipality_code", "procedure_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(Integer, index=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    procedure_code: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
