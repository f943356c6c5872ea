"""What the replica store takes and gives (Pydantic): records by link code, never by person."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RecordWrite(BaseModel):
    """A record an agency publishes to its replica store (副本の登録)."""

    model_config = ConfigDict(frozen=True)

    link_code: str = Field(min_length=1, max_length=64, repr=False)
    item_code: str = Field(min_length=1, max_length=48)
    key: str = Field(default="", max_length=64, description="Tells apart records of one item")
    payload: dict[str, Any]
    source: str = Field(min_length=1, max_length=128, description="The ledger it comes from")
    valid_from: date


class ItemRecord(BaseModel):
    """One record in an agency's answer to the hub (情報提供)."""

    model_config = ConfigDict(frozen=True)

    item_code: str
    key: str
    payload: dict[str, Any]
    source: str
    valid_from: date
    updated_at: datetime
    provider: str = Field(description="The code of the agency that answered")


class SeedReport(BaseModel):
    """What a synthetic seeding of the replica stores wrote."""

    residents: int
    records: int
    link_codes: int
    agencies: int
    seconds: float

    @property
    def records_per_second(self) -> float:
        """Records written per second."""
        return self.records / self.seconds if self.seconds > 0 else 0.0

    @property
    def residents_per_second(self) -> float:
        """Residents handled per second."""
        return self.residents / self.seconds if self.seconds > 0 else 0.0
