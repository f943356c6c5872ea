"""The shelter roster as the back office exports it (JSON; the CSV has the same columns)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class RosterEntry(BaseModel):
    """One person checked in at a shelter (a line of the 避難者名簿)."""

    id: int
    party: str = Field(description="Household members checked in together share it")
    name: str
    name_kana: str
    birth_date: date
    sex: int = Field(description="ISO/IEC 5218: 1 male, 2 female")
    home_municipality: str = Field(description="Where the person is registered as a resident")
    method: str = Field(description="pin, face (confirmed by staff) or household")
    checked_in_by: str
    confirmed_by: str | None = Field(description="The staff member who compared the face")
    checked_in_at: datetime
    checked_out_at: datetime | None


class Roster(BaseModel):
    """A shelter's roster at the moment of the export."""

    shelter_id: int
    shelter: str
    municipality_code: str
    exported_at: datetime
    inside: int = Field(description="How many are checked in and not yet out")
    entries: list[RosterEntry]
