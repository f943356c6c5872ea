"""Back-office (申請管理) tables: staff accounts and their staff cards, applicants."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime


class StaffMember(Base):
    """A municipality's staff member (職員); secrets are stored hashed or encrypted only.

    ``password_hash`` is an scrypt record (see ``office.hash_password``); ``totp_secret``
    is the RFC 6238 secret sealed with AES-GCM under a key derived from the deployment's
    secret key; ``totp_last_step`` is the newest accepted time step, so a code is
    accepted once.
    """

    __tablename__ = "office_staff"
    __table_args__ = (UniqueConstraint("login_id", name="uq_office_staff_login_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    municipality_code: Mapped[str] = mapped_column(String(6), index=True)
    login_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str] = mapped_column(String(255))
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StaffCard(Base):
    """A staff member's MyNumber card registered as their staff ID (職員証).

    What is kept is the binding to one user-authentication certificate — its serial
    number and its subject (the opaque CN J-LIS gives each certificate) — as the card
    proved it to an administrator through the card login. A re-issued card has a new
    certificate and is registered again; a certificate belongs to one account at most.
    """

    __tablename__ = "office_staff_cards"
    __table_args__ = (
        UniqueConstraint("certificate_serial", name="uq_office_staff_cards_certificate_serial"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("office_staff.id", ondelete="CASCADE"), index=True
    )
    certificate_serial: Mapped[str] = mapped_column(String(64))
    certificate_subject: Mapped[str] = mapped_column(String(64))
    certificate_not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_by: Mapped[int | None] = mapped_column(Integer)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApplicantIdentity(Base):
    """Who filed an application: J-LIS's 本人確認情報 as the municipality received it.

    Asked through the hub once, when staff first open the application (procedure
    ``e-application-review``, item ``basic-info``), so the exchange is in the applicant's
    やりとり履歴. ``search_key`` is the name, its kana and the certificate's name folded
    for search (``catalog.domain.normalise``).
    """

    __tablename__ = "office_applicant_identities"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True
    )
    municipality_code: Mapped[str] = mapped_column(String(6), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_kana: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date())
    sex: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(400))
    search_key: Mapped[str] = mapped_column(String(800))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())
