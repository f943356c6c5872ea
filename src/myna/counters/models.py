"""Tables of the municipal counters: facilities, the library's catalogue, patrons and
loans, shelter check-ins, and the residents' use history (利用履歴).

No table holds a MyNumber, a registry id or a certificate serial: residents appear as
holder pseudonyms (``myna.counters.domain.holder_pseudonym``). A shelter's roster keeps
the names it was given at check-in, as a paper 避難者名簿 would.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime


class Facility(Base):
    """A municipality's library (図書館) or evacuation shelter (避難所)."""

    __tablename__ = "counters_facilities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    municipality_code: Mapped[str] = mapped_column(String(6), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))


class Book(Base):
    """A book of a library's catalogue, lent by its code (the barcode on the book)."""

    __tablename__ = "counters_books"
    __table_args__ = (UniqueConstraint("library_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("counters_facilities.id"))
    code: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    author: Mapped[str] = mapped_column(String(100))


class Patron(Base):
    """A resident registered at a library (利用登録), known by the holder pseudonym."""

    __tablename__ = "counters_patrons"
    __table_args__ = (UniqueConstraint("library_id", "holder"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    library_id: Mapped[int] = mapped_column(ForeignKey("counters_facilities.id"))
    holder: Mapped[str] = mapped_column(String(32))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Loan(Base):
    """A book lent to a patron; ``returned_at`` once it is back."""

    __tablename__ = "counters_loans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("counters_books.id"), index=True)
    patron_id: Mapped[int] = mapped_column(ForeignKey("counters_patrons.id"), index=True)
    lent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_on: Mapped[date] = mapped_column(Date())
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Checkin(Base):
    """A person checked in at a shelter: the roster's line (避難者名簿).

    ``party`` groups the household members checked in together; ``method`` says how
    the card was presented (``pin``, ``face``, or ``household`` for those who came with
    the presenter); ``confirmed_by`` names the staff member who compared the face.
    """

    __tablename__ = "counters_checkins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shelter_id: Mapped[int] = mapped_column(ForeignKey("counters_facilities.id"), index=True)
    holder: Mapped[str] = mapped_column(String(32), index=True)
    party: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    name_kana: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date())
    sex: Mapped[int] = mapped_column(Integer)
    home_municipality: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(16))
    checked_in_by: Mapped[str] = mapped_column(String(100))
    confirmed_by: Mapped[str | None] = mapped_column(String(100))
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CardUse(Base):
    """One use of the card at a counter, shown to the resident (利用履歴)."""

    __tablename__ = "counters_card_uses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str] = mapped_column(String(32), index=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    facility_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
