"""Tables of the tax return (確定申告): the return, its filled fields, their corrections.

A return is the resident's for one year (年分), in the portal's own tables: the resident
appears by the portal's id, never by MyNumber. Each field keeps where its value came
from (a delivered document, the insurers' 医療費通知, or the resident's own entry), and
every correction is a row of its own: a value is never changed without one. The fields,
in their order, are what a signed return's XML will be written from.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime

__all__ = [
    "Base",
    "TaxFilingRow",
    "TaxReturnCorrectionRow",
    "TaxReturnFieldRow",
    "TaxReturnPreviousRow",
    "TaxReturnRow",
]

# 64-bit on PostgreSQL; on SQLite only INTEGER is the rowid that autoincrements.
_ID = BigInteger().with_variant(Integer(), "sqlite")


class TaxReturnRow(Base):
    """One resident's return for one year: a draft until signed, then filed."""

    __tablename__ = "tax_returns"
    __table_args__ = (UniqueConstraint("resident_id", "year"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(Integer)
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # draft / signed / filed
    # The date of birth the hub answered (本人確認情報): ages decide several deductions.
    birth_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    gathered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TaxReturnFieldRow(Base):
    """A filled field of a return: its value and where the value came from.

    ``section``, ``group_key`` and ``item`` place it on the return (e.g. ``salary`` /
    the delivery id of the 源泉徴収票 / ``withheld``); ``source_kind`` is ``document``,
    ``medical_notice``, ``municipality`` (a relative's income as assessed), ``assumed``
    (no source knew it) or ``resident``; for a document the delivery id, the document's
    own id, the sender's name and the day it was received are kept beside it. A
    relative's group key names them (see :mod:`myna.tax.service`).
    """

    __tablename__ = "tax_return_fields"
    __table_args__ = (UniqueConstraint("return_id", "section", "group_key", "item"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("tax_returns.id", ondelete="CASCADE"))
    section: Mapped[str] = mapped_column(String(32))
    group_key: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(32))
    value: Mapped[int] = mapped_column(BigInteger())
    source_kind: Mapped[str] = mapped_column(String(16))
    source_delivery_id: Mapped[str | None] = mapped_column(String(64))
    source_document_id: Mapped[str | None] = mapped_column(String(64))
    source_name: Mapped[str] = mapped_column(String(200))
    source_date: Mapped[date | None] = mapped_column(Date)
    gathered_value: Mapped[int] = mapped_column(BigInteger())  # as the source gave it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TaxReturnCorrectionRow(Base):
    """A correction of a field: the value before and after, who made it and when."""

    __tablename__ = "tax_return_corrections"
    __table_args__ = (Index("ix_tax_return_corrections_field_id", "field_id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("tax_return_fields.id", ondelete="CASCADE"))
    old_value: Mapped[int] = mapped_column(BigInteger())
    new_value: Mapped[int] = mapped_column(BigInteger())
    corrected_by: Mapped[int] = mapped_column(Integer)  # the resident's id
    corrected_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TaxFilingRow(Base):
    """A return signed with the card and filed: what was signed, the signature, the receipt.

    ``content`` is exactly the document the card signed (canonical JSON naming the
    return's figures and the SHA-256 of ``return_xml``, the e-Tax-shaped form data) and
    ``signature`` the detached CMS SignedData over it: ``openssl cms -verify`` checks them.
    """

    __tablename__ = "tax_filings"
    __table_args__ = (
        UniqueConstraint("return_id"),
        UniqueConstraint("receipt_number"),
        UniqueConstraint("signing_request_id"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("tax_returns.id", ondelete="CASCADE"))
    receipt_number: Mapped[str] = mapped_column(String(32))  # 受付番号
    signing_request_id: Mapped[str] = mapped_column(String(64))
    office_name: Mapped[str] = mapped_column(String(100))  # 提出先 (所轄税務署)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    return_xml: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    certificate_serial: Mapped[str] = mapped_column(String(64))
    signer_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The figures the receipt (受信通知) and the PDF show, as filed.
    declared_tax: Mapped[int] = mapped_column(BigInteger())
    refund: Mapped[int] = mapped_column(BigInteger())
    due: Mapped[int] = mapped_column(BigInteger())


class TaxReturnPreviousRow(Base):
    """The return of the year before, as the National Tax Agency holds it: read-only.

    Read through the hub when the resident agrees (its ``income-tax-return`` record of
    the year before) and kept to compare with, not as a field: nothing of it is filed.
    ``found`` is false when the NTA holds no return of that year for the resident.
    """

    __tablename__ = "tax_return_previous"
    __table_args__ = (UniqueConstraint("return_id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("tax_returns.id", ondelete="CASCADE"))
    income_year: Mapped[int] = mapped_column(Integer)
    found: Mapped[bool] = mapped_column(Boolean)
    total_income: Mapped[int | None] = mapped_column(BigInteger())  # 合計所得金額
    total_tax: Mapped[int | None] = mapped_column(BigInteger())  # 所得税及び復興特別所得税の額
    due: Mapped[int | None] = mapped_column(BigInteger())
    refund: Mapped[int | None] = mapped_column(BigInteger())
    receipt_number: Mapped[str | None] = mapped_column(String(32))
    filed_on: Mapped[date | None] = mapped_column(Date)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())
