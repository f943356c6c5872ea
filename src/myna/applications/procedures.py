"""Procedure handlers: what a procedure with behaviour of its own adds to an e-application.

Most procedures need nothing beyond the shared flow (forms, signing, the status flow of
:func:`myna.applications.service.change_status`). One that does — a 転出届 sends the
転出証明書情報 through the hub when completed — is one :class:`ProcedureHandler`,
registered under its procedure code at the composition root. The shared code asks the
handler at each step, whichever door the application comes in by (the resident's pages,
the back office, the municipality filing API):

* :meth:`~ProcedureHandler.check_draft`: rules of the form JSON Schema cannot express;
* :meth:`~ProcedureHandler.on_filed`: in the filing transaction, after the application row;
* :meth:`~ProcedureHandler.change_status`: a staff member or the filing API moves it along;
  a handler acts on the statuses it knows and leaves the others to the shared flow.

Each status change runs in a savepoint: a handler's failure (the hub unreachable, a
reserved day not come) leaves nothing written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from sqlalchemy.orm import Session

from myna import network
from myna.applications import service as applications
from myna.applications.domain import ApplicationStatus
from myna.applications.forms import FieldError
from myna.applications.models import Application

__all__ = ["ProcedureHandler", "Procedures", "StandardProcedure", "StatusChange"]


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A move of one application to ``target``, as its handler is asked to act on it."""

    application: applications.ApplicationRead
    target: ApplicationStatus
    actor: str
    comment: str


class ProcedureHandler(Protocol):
    """The steps of an e-application where a procedure may act (see the module docstring)."""

    def check_draft(
        self, *, session: Session, resident_id: int, data: dict[str, Any], today: date | None
    ) -> list[FieldError]:
        """Errors the form's schema cannot find, one per field (``today``: None for now)."""
        ...

    def on_filed(self, *, session: Session, application: Application) -> None:
        """Act in the filing transaction; raising files nothing."""
        ...

    def change_status(self, *, session: Session, hub: network.Hub, change: StatusChange) -> bool:
        """Act on ``change`` (the caller holds a savepoint); False: the shared flow applies."""
        ...


class StandardProcedure:
    """A procedure with no behaviour of its own: the shared status flow only."""

    def check_draft(
        self, *, session: Session, resident_id: int, data: dict[str, Any], today: date | None
    ) -> list[FieldError]:
        """Nothing beyond the schema."""
        del session, resident_id, data, today
        return []

    def on_filed(self, *, session: Session, application: Application) -> None:
        """Nothing beyond the application row."""
        del session, application

    def change_status(self, *, session: Session, hub: network.Hub, change: StatusChange) -> bool:
        """Nothing of its own: the shared status flow (notices to the resident at each step)."""
        del session, hub, change
        return False


STANDARD = StandardProcedure()


@dataclass(frozen=True)
class Procedures:
    """The handlers by procedure code; every other procedure is :class:`StandardProcedure`."""

    handlers: Mapping[str, ProcedureHandler] = field(default_factory=dict)

    def of(self, code: str) -> ProcedureHandler:
        """The handler of procedure ``code``."""
        return self.handlers.get(code, STANDARD)

    def change_status(
        self,
        *,
        session: Session,
        hub: network.Hub,
        receipt_number: str,
        municipality_code: str,
        target: ApplicationStatus,
        actor: str,
        comment: str = "",
    ) -> applications.ApplicationRead:
        """Move the municipality's application to ``target`` through its procedure's handler."""
        found = applications.get_application(
            session=session, receipt_number=receipt_number, municipality_code=municipality_code
        )
        change = StatusChange(
            application=found, target=target, actor=actor, comment=comment.strip()
        )
        with session.begin_nested():
            if not self.of(found.procedure_code).change_status(
                session=session, hub=hub, change=change
            ):
                applications.change_status(
                    session=session,
                    receipt_number=found.receipt_number,
                    municipality_code=found.municipality_code,
                    target=target,
                    actor=actor,
                    comment=change.comment,
                )
        return applications.get_application(
            session=session,
            receipt_number=found.receipt_number,
            municipality_code=municipality_code,
        )
