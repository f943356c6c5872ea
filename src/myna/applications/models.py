"""Service tables: drafts, signing requests, applications; staff tables live in office_models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from myna.platform.db import Base, UTCDateTime, utcnow

__all__ = [
    "Application",
    "ApplicationAttachment",
    "ApplicationDraft",
    "ApplicationEvent",
    "Base",
    "DraftAttachment",
    "SigningRequest",
]


class ApplicationDraft(Base):
    """A resident's unfinished e-application (申請の下書き), one per procedure and municipality.

    The resident is referenced by id only: the registry owns residents (no cross-context
    foreign key, as for notices).
    """

    __tablename__ = "application_drafts"
    __table_args__ = (UniqueConstraint("resident_id", "municipality_code", "procedure_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(Integer, index=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    procedure_code: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DraftAttachment(Base):
    """A file attached to a draft (添付書類), before the application is signed.

    Keyed like the draft; on submission the rows move to ``application_attachments``
    in the same transaction.
    """

    __tablename__ = "application_draft_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(Integer, index=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    procedure_code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SigningRequest(Base):
    """A prepared document waiting for the card's signing key (署名待ち).

    ``content`` is the canonical form that gets signed; ``submission_key`` comes from
    the page the resident submitted, so a second click finds the same request
    (idempotent double submission). Once an application is signed, ``application_id``
    is set; a document of another ``purpose`` keeps its ``receipt_number`` here.
    """

    __tablename__ = "signing_requests"
    __table_args__ = (UniqueConstraint("resident_id", "submission_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resident_id: Mapped[int] = mapped_column(Integer, index=True)
    submission_key: Mapped[str] = mapped_column(String(64))
    municipality_code: Mapped[str] = mapped_column(String(6))
    procedure_code: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    content_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    application_id: Mapped[int | None] = mapped_column(Integer)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    # What is signed: an e-application, or another context's document (a tax return),
    # which keeps its own receipt number, signature and page here.
    purpose: Mapped[str] = mapped_column(String(32), server_default="application")
    receipt_number: Mapped[str | None] = mapped_column(String(32))
    signature: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    done_path: Mapped[str | None] = mapped_column(String(200))
    # Prepared by a proxy (代理人) for the resident: the proxy's card must sign it.
    proxy_id: Mapped[int | None] = mapped_column(Integer)


class Application(Base):
    """A signed e-application (電子申請) filed with a municipality.

    ``content`` is exactly the signed canonical document and ``signature`` the detached
    CMS SignedData over it, so anyone can check them with ``openssl cms -verify``.
    """

    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("receipt_number"),
        UniqueConstraint("signing_request_id"),
        Index("ix_applications_municipality_status", "municipality_code", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_number: Mapped[str] = mapped_column(String(32))
    signing_request_id: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[int] = mapped_column(Integer, index=True)
    municipality_code: Mapped[str] = mapped_column(String(6))
    procedure_code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    certificate_serial: Mapped[str] = mapped_column(String(40))
    signer_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Filed by a proxy (代理人) on the resident's behalf, signed with the proxy's card.
    proxy_id: Mapped[int | None] = mapped_column(Integer)


class ApplicationAttachment(Base):
    """A file of a filed application; its digest is inside the signed content."""

    __tablename__ = "application_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)


class ApplicationEvent(Base):
    """One step in an application's history: a status change or a comment (written at the site).

    ``actor`` is "resident", "system" or ``staff:<id>``; ``visible_to_resident`` is false
    for internal staff comments.
    """

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(24))
    comment: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(40))
    visible_to_resident: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
