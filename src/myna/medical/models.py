"""Tables of the オンライン資格確認等システム (online eligibility confirmation service).

People appear here by the service's own link code (機関別符号) only: no MyNumber, no
registry id. The coverage itself stays with the insurers and is asked through the hub
on each confirmation, so every look is in the exchange log.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime

__all__ = ["Base", "Enrolment", "Institution", "Visit"]


class Institution(Base):
    """A medical institution or pharmacy (保険医療機関・保険薬局) allowed to confirm eligibility."""

    __tablename__ = "medical_institutions"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)  # 医療機関コード
    name: Mapped[str] = mapped_column(String(200))
    # The code in its message-signing certificate from the government CA (mi-<code>).
    organization_code: Mapped[str] = mapped_column(String(32), unique=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Enrolment(Base):
    """マイナ保険証の利用登録: the resident chose to use the card as the insurance card.

    Registered once, with the card; the insured id is the one the insurer answered at
    registration (shown back to the resident), the coverage is asked afresh each time.
    """

    __tablename__ = "medical_enrolments"

    link_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    insurer_number: Mapped[str] = mapped_column(String(8))
    insured_symbol: Mapped[str] = mapped_column(String(20))
    insured_number: Mapped[str] = mapped_column(String(20))
    insured_branch: Mapped[str] = mapped_column(String(2))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Visit(Base):
    """One confirmation at a counter (受付): the card, then the patient's consents.

    ``view_until`` is the end of the window in which the institution may read what the
    patient consented to (24 hours from the consent, as the real service allows).
    """

    __tablename__ = "medical_visits"
    __table_args__ = (Index("ix_medical_visits_link_code", "link_code"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    institution_code: Mapped[str] = mapped_column(
        String(10), ForeignKey("medical_institutions.code")
    )
    nonce: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    link_code: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str | None] = mapped_column(String(16))  # pin | face
    confirmed_by: Mapped[str | None] = mapped_column(String(100))  # staff, for face
    certificate_serial: Mapped[str | None] = mapped_column(String(64))
    identified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consent_medication: Mapped[bool | None] = mapped_column(Boolean)
    consent_checkup: Mapped[bool | None] = mapped_column(Boolean)
    consent_limit: Mapped[bool | None] = mapped_column(Boolean)
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    view_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    visit_date: Mapped[date | None] = mapped_column(Date)
