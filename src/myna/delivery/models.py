"""Tables of 民間送達 (private delivery): senders, links, documents, hand-overs, the log.

A resident appears here by the portal's internal resident id (never the MyNumber); a
sender knows them only by the pairwise recipient id of their link, which is random and
says nothing about the person.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
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
    "Delivery",
    "DeliveryLink",
    "DeliveryLogEntry",
    "Handover",
    "HandoverDocument",
    "Sender",
]

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class Sender(Base):
    """An organisation that delivers tax documents (送達元): insurer, employer, fund..."""

    __tablename__ = "delivery_senders"

    code: Mapped[str] = mapped_column(String(48), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    # The code in its signing certificate from the government CA (ds-<code>).
    organization_code: Mapped[str] = mapped_column(String(64), unique=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeliveryLink(Base):
    """The resident's consent that one sender may deliver to their box (連携).

    ``recipient_id`` is the pairwise identifier the sender addresses documents to; a
    revoked link keeps it (linking again restores the same one) but delivers nothing.
    """

    __tablename__ = "delivery_links"
    __table_args__ = (
        UniqueConstraint("sender_code", "resident_id", name="uq_delivery_links_sender_code"),
        Index("ix_delivery_links_resident_id", "resident_id"),
    )

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    sender_code: Mapped[str] = mapped_column(String(48), ForeignKey("delivery_senders.code"))
    resident_id: Mapped[int] = mapped_column(Integer)
    recipient_id: Mapped[str] = mapped_column(String(64), unique=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Delivery(Base):
    """One delivered document, stored as the sender signed it.

    ``document_id`` is unique per sender: a resend of the same bytes is the same delivery.
    """

    __tablename__ = "delivery_documents"
    __table_args__ = (
        UniqueConstraint("sender_code", "document_id", name="uq_delivery_documents_sender_code"),
        Index("ix_delivery_documents_link_id", "link_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sender_code: Mapped[str] = mapped_column(String(48), ForeignKey("delivery_senders.code"))
    document_id: Mapped[str] = mapped_column(String(64))
    link_id: Mapped[int] = mapped_column(_BIG_ID, ForeignKey("delivery_links.id"))
    kind: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Handover(Base):
    """Certificates an employee lets their employer collect for 年末調整 (year-end adjustment).

    Addressed through the employer's link: the employer knows the employee only by that
    link's pairwise recipient id. ``withdrawn_at`` is the employee taking it back before
    collection; ``collected_at`` the employer's first collection.
    """

    __tablename__ = "delivery_handovers"
    __table_args__ = (Index("ix_delivery_handovers_link_id", "link_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    link_id: Mapped[int] = mapped_column(_BIG_ID, ForeignKey("delivery_links.id"))
    year: Mapped[int] = mapped_column(Integer)
    handed_over_at: Mapped[datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class HandoverDocument(Base):
    """One delivered document in a hand-over (its bytes stay in ``delivery_documents``)."""

    __tablename__ = "delivery_handover_documents"
    __table_args__ = (Index("ix_delivery_handover_documents_delivery_id", "delivery_id"),)

    handover_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("delivery_handovers.id"), primary_key=True
    )
    delivery_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("delivery_documents.id"), primary_key=True
    )


class DeliveryLogEntry(Base):
    """What happened in a resident's box, written where it happens.

    Links, deliveries and reads name the document (``delivery_id``); hand-overs to the
    employer, their withdrawal and their collection name the hand-over (``handover_id``).
    """

    __tablename__ = "delivery_log"
    __table_args__ = (Index("ix_delivery_log_resident_id", "resident_id"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(Integer)
    sender_code: Mapped[str] = mapped_column(String(48))
    delivery_id: Mapped[str | None] = mapped_column(String(32))
    handover_id: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
