"""Tables of the public-fund receiving accounts (公金受取口座): the account and its history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime


class PublicFundAccount(Base):
    """The one account a resident registered for public payments."""

    __tablename__ = "public_fund_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), unique=True)
    bank_code: Mapped[str] = mapped_column(String(4))
    branch_code: Mapped[str] = mapped_column(String(3))
    account_type: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(7))
    holder_kana: Mapped[str] = mapped_column(String(128))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PublicFundAccountChange(Base):
    """An audit row: a resident registered, changed or deleted the account, and when.

    It records no account details: the history says what happened, not the number.
    """

    __tablename__ = "public_fund_account_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
