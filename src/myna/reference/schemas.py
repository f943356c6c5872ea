"""What the reference data hands out (Pydantic)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["MunicipalityRead"]


class MunicipalityRead(BaseModel):
    """A municipality (市区町村) with its prefecture."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    code: str
    prefecture_code: str
    prefecture_name: str
    prefecture_name_kana: str
    name: str
    name_kana: str

    @property
    def full_name(self) -> str:
        """Prefecture and municipality, e.g. ``東京都千代田区``."""
        return f"{self.prefecture_name}{self.name}"
