"""What the ``myna`` commands share: the migrated deployment, and errors as messages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from myna.platform.db import unit_of_work
from myna.platform.errors import MynaError

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from myna.bootstrap import Container
    from myna.platform.settings import Settings


def migrated_container() -> Container:
    """The configured deployment, migrated to the newest schema."""
    # Imported here so `myna --help` does not build an engine or read settings.
    from myna.bootstrap import build_container  # noqa: PLC0415
    from myna.platform.migrate import upgrade_to_head  # noqa: PLC0415
    from myna.platform.settings import get_settings  # noqa: PLC0415

    container = build_container(get_settings())
    upgrade_to_head(container.engine)
    return container


def migrated_engine(settings: Settings | None = None) -> Engine:
    """The configured database (or ``settings``'), migrated to the newest schema.

    For commands that work on tables alone: they need not import the composition root
    and every context's services, which costs a process more than a second.
    """
    from myna.platform.db import import_all_models, make_engine  # noqa: PLC0415
    from myna.platform.migrate import upgrade_to_head  # noqa: PLC0415
    from myna.platform.settings import get_settings  # noqa: PLC0415

    import_all_models()
    engine = make_engine((settings or get_settings()).effective_database_url)
    upgrade_to_head(engine)
    return engine


@contextmanager
def migrated_session(settings: Settings | None = None) -> Iterator[Session]:
    """A unit of work on the migrated database, committed when the block ends.

    The engine's connections are closed afterwards: a command run in-process (a test)
    leaves no pooled connection behind.
    """
    from myna.platform.db import make_session_factory  # noqa: PLC0415

    engine = migrated_engine(settings)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


@contextmanager
def exit_on_error(console: Console | None = None, **style: Any) -> Iterator[None]:
    """A ``MynaError`` ends the command with status 1 and its message, never a traceback.

    The message goes to ``console`` (printed with ``style``); without one, as the
    operator consoles print it: ``<code>: <message>`` on stderr.
    """
    try:
        yield
    except MynaError as error:
        if console is None:
            typer.echo(f"{error.code}: {error.localized()}", err=True)
        else:
            console.print(error.localized(), **style)
        raise typer.Exit(code=1) from None
