"""The composition root: the one place that builds engines, adapters and services.

It sits at the top of the layers: it imports the contexts and wires them; no context
imports it (the web layer reaches it through ``request.app.state``, typed only).
Embedded mode (the default) wires everything in-process over one database; agencies
named in ``MYNA_AGENCY_NODES`` are reached over HTTP. Tests build the same container
with their own settings and swap adapters on it (fakes, not mocks).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from myna import network
from myna.applications.procedures import Procedures
from myna.moves import service as moves
from myna.platform.db import import_all_models, make_engine, make_session_factory
from myna.platform.ratelimit import RateLimiter
from myna.platform.sessions import SessionStore
from myna.platform.settings import Settings

__all__ = ["Container", "build_container", "import_all_models"]


@dataclass
class Container:
    """What a running Myna is made of, built once from settings."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        """The process's one rate limiter, built from the settings on first use."""
        return RateLimiter.from_settings(self.settings)

    @cached_property
    def sessions(self) -> SessionStore:
        """Residents' and staff's browser sessions (tests may swap in one with their clock)."""
        return SessionStore.from_settings(self.settings)

    @cached_property
    def procedures(self) -> Procedures:
        """The e-application procedure handlers (a move's saga is the moves context's)."""
        return Procedures(moves.procedure_handlers())

    def hub_for(self, session: Session) -> network.Hub:
        """The hub for one unit of work (in-process agencies share ``session``)."""
        return network.hub_for(session=session, settings=self.settings)


def build_container(settings: Settings, *, engine: Engine | None = None) -> Container:
    """Build engine, session factory and adapters from ``settings``."""
    import_all_models()
    engine = engine or make_engine(settings.effective_database_url)
    return Container(settings=settings, engine=engine, session_factory=make_session_factory(engine))
