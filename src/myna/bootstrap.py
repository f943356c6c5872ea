"""The composition root: the one place that builds engines, adapters and services.

Embedded mode (the default) wires everything in-process over one database. Tests
build the same container with their own settings and fakes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from myna.platform.db import import_all_models, make_engine, make_session_factory
from myna.platform.ratelimit import RateLimiter
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


def build_container(settings: Settings, *, engine: Engine | None = None) -> Container:
    """Build engine, session factory and adapters from ``settings``."""
    import_all_models()
    engine = engine or make_engine(settings.effective_database_url)
    return Container(settings=settings, engine=engine, session_factory=make_session_factory(engine))
