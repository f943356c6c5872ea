"""Ports of the hub: how it reaches providers, and what it needs from the catalog."""

from __future__ import annotations

from typing import Protocol


class AgencyTransport(Protocol):
    """Delivers a signed ProviderQuery to a provider and returns its signed answer.

    In embedded mode the provider runs in-process; in distributed mode the query goes
    over HTTP to the agency's node. Either may raise ``TimeoutError`` (slow or down)
    or ``ConnectionError`` (unreachable).
    """

    def query(self, provider: str, signed_query: str) -> str:
        """Send ``signed_query`` to ``provider``; its signed answer."""
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

    def category_of(self, item: str) -> str:
        """The category (わたしの情報 section) of ``item``."""
        ...
