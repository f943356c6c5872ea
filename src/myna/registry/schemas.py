"""What the registry hands to other contexts (Pydantic). The MyNumber is never here."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from myna.reference import Relation, Sex
from myna.registry.domain import (
    ResidentStatus,
)


class ResidentRead(BaseModel):
    """A resident's record (住民票の記載事項) as other contexts may see it."""

    model_config = ConfigDict(frozen=True)

    id: int
    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: Sex
    municipality_code: str
    municipality_name: str = Field(description="Prefecture and municipality, e.g. 東京都千代田区")
    address: str = Field(description="The street part below the municipality")
    full_address: str
    household_id: int
    relation: Relation
    status: ResidentStatus
    registered_on: date

    @property
    def full_name(self) -> str:
        """The name as written on the 住民票: ``山田 太郎``."""
        return f"{self.family_name} {self.given_name}"

    @property
    def full_name_kana(self) -> str:
        """The name's reading in katakana: ``ヤマダ タロウ``."""
        return f"{self.family_name_kana} {self.given_name_kana}"


class ResidentCreate(BaseModel):
    """What registering a resident (住民登録) needs."""

    my_number: str = Field(repr=False)
    family_name: str = Field(min_length=1, max_length=32)
    given_name: str = Field(min_length=1, max_length=32)
    family_name_kana: str = Field(min_length=1, max_length=64)
    given_name_kana: str = Field(min_length=1, max_length=64)
    birth_date: date
    sex: Sex
    municipality_code: str
    address: str = Field(min_length=1, max_length=200)
    household_id: int | None = None
    relation: Relation = Relation.HEAD
    registered_on: date


class AddressHistoryRead(BaseModel):
    """One address a resident had (住民票の住所の履歴)."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    municipality_code: str
    address: str
    valid_from: date
    valid_to: date | None
    reason: str


class MunicipalityLoadResult(BaseModel):
    """How a municipality list load went."""

    inserted: int
    updated: int


class SeedSummary(BaseModel):
    """What a seeding run added."""

    residents: int
    households: int
    municipalities: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        """Residents written per second."""
        return self.residents / self.seconds if self.seconds > 0 else 0.0
