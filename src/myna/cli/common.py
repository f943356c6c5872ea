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
    from sqlalchemy.orm import Session

    from myna.bootstrap import Container


def migrated_container() -> Container:
    """The configured deployment, migrated to the newest schema."""
    # Imported here so `myna --help` does not build an engine or read settings.
    from myna.bootstrap import build_container  # noqa: PLC0415
    from myna.platform.migrate import upgrade_to_head  # noqa: PLC0415
    from myna.platform.settings import get_settings  # noqa: PLC0415

    container = build_container(get_settings())
    upgrade_to_head(container.engine)
    return container


@contextmanager
def migrated_session() -> Iterator[Session]:
    """A unit of work on the migrated deployment, committed when the block ends.

    The engine's connections are closed afterwards: a command run in-process (a test)
    leaves no pooled connection behind.
    """
    container = migrated_container()
    try:
        with unit_of_work(container.session_factory) as session:
            yield session
    finally:
        container.engine.dispose()


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
