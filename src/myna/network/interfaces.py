"""Ports of the hub: how it reaches providers, and what it needs from the catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from myna.network.corrections import CorrectionAnswer


class AgencyTransport(Protocol):
    """Delivers the hub's signed messages to agencies: queries and updates (副本の更新).

    In embedded mode the provider runs in-process; in distributed mode the query goes
    over HTTP to the agency's node. Either may raise ``TimeoutError`` (slow or down)
    or ``ConnectionError`` (unreachable).
    """

    def query(self, provider: str, signed_query: str) -> str:
        """Send ``signed_query`` to ``provider``; its signed answer."""
        ...

    def publish(self, owner: str, signed_update: str) -> str:
        """Deliver a signed ProviderUpdate to ``owner``; its signed UpdateReceipt."""
        ...

    def correct(self, owner: str, signed_correction: str) -> str:
        """Deliver a signed ProviderCorrection to ``owner``; its signed CorrectionReceipt."""
        ...


class CorrectionInbox(Protocol):
    """Where the hub hands a holder's answer to a resident's correction request (the portal)."""

    def answered(self, session: Session, answer: CorrectionAnswer) -> None:
        """Record ``answer`` and tell the resident, in the hub's transaction."""
        ...


class Directory(Protocol):
    """The law's authorization table and who provides what (from the agencies' catalog)."""

    def knows(self, agency: str) -> bool:
        """Whether ``agency`` is part of the network."""
        ...

    def allows(self, requester: str, procedure: str, item: str) -> bool:
        """Whether ``requester`` may ask for ``item`` under ``procedure`` (別表)."""
        ...

    def provides(self, agency: str, item: str) -> bool:
        """Whether ``agency`` keeps ``item`` in its replica store."""
        ...

    def may_update(self, publisher: str, owner: str, procedure: str, item: str) -> bool:
        """Whether ``publisher`` may write ``item`` into ``owner``'s store (update table)."""
        ...

    def category_of(self, item: str) -> str:
        """The category (わたしの情報 section) of ``item``."""
        ...


class ExchangeCounter(Protocol):
    """Where the hub counts what it logged (the operators' metrics): no subject, no data."""

    def exchanged(self, procedure: str, outcomes: Sequence[str]) -> None:
        """Count the logged items of one exchange under ``procedure``, by outcome."""
        ...
