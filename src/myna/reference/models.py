"""The reference data's table: the municipalities (全国地方公共団体コード)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base

__all__ = ["Municipality"]


class Municipality(Base):
    """A municipality (市区町村) keyed by its 全国地方公共団体コード."""

    __tablename__ = "municipalities"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    prefecture_code: Mapped[str] = mapped_column(String(2), index=True)
    prefecture_name: Mapped[str] = mapped_column(String(8))
    prefecture_name_kana: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(32))
    name_kana: Mapped[str] = mapped_column(String(64))
