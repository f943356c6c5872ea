"""Ports of the tax context: where the return's documents come from.

The 民間送達 box (:mod:`myna.delivery`) keeps the documents senders delivered to the
resident, checked on arrival (schema, signature, revocation). The return only reads them,
through :class:`DocumentSource`; the composition root plugs the box in, tests a fake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from myna.delivery import Document


@dataclass(frozen=True, slots=True)
class DeliveredDocument:
    """A document in the resident's box: the delivery, its sender, when, and what it says."""

    delivery_id: str
    sender_name: str
    received_at: datetime
    document: Document


class DocumentSource(Protocol):
    """The resident's delivered documents (控除証明書, 源泉徴収票 ...) of one year."""

    def documents(
        self, *, session: Session, resident_id: int, year: int
    ) -> Sequence[DeliveredDocument]:
        """Every document delivered to ``resident_id`` for ``year`` (年分), the oldest first."""
        ...


class NoDeliveredDocuments:
    """A box with nothing in it: what the return reads until a delivery box is plugged in."""

    def documents(
        self, *, session: Session, resident_id: int, year: int
    ) -> Sequence[DeliveredDocument]:
        """None: no document was delivered."""
        return ()
