"""The composition root: the one place that builds engines, adapters and services.

Embedded mode (the default) wires everything in-process over one database. Tests
build the same container with their own settings and fakes.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from myna.platform.db import make_engine, make_session_factory
from myna.platform.settings import Settings

# Every context that owns tables. Alembic and the tests import them through here.
MODEL_MODULES = ("myna.registry.models", "myna.jpki.models", "myna.portal.models")


def import_all_models() -> None:
    """Register every context's tables on the shared metadata."""
    for module in MODEL_MODULES:
        importlib.import_module(module)


@dataclass
class Container:
    """What a running Myna is made of, built once from settings."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    extras: dict[str, Any] = field(default_factory=dict)


def build_container(settings: Settings, *, engine: Engine | None = None) -> Container:
    """Build engine, session factory and adapters from ``settings``."""
    import_all_models()
    engine = engine or make_engine(settings.effective_database_url)
    return Container(
        settings=settings, engine=engine, session_factory=make_session_factory(engine)
    )
