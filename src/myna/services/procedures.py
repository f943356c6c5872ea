"""Status changes that obey each procedure's own logic, whichever door they come in by.

The back office's application page and the municipality filing API both move an
application along the status flow through :func:`change_status`. Most procedures need
nothing more than the flow (:func:`myna.services.applications.change_status`); a move
does (引越しワンストップ, docs/moves.md):

* completing a 転出届 (``moving-out``) sends the 転出証明書情報 through the hub
  (:func:`myna.services.moves.complete_move_out`);
* rejecting it cancels its move-in reservation (:func:`~myna.services.moves.reject_move_out`);
* completing a 転入予約 (``moving-in-reservation``) is the move-in itself
  (:func:`~myna.services.moves.complete_move_in`: the registry, certificates, police);
* a reservation is never rejected on its own (it goes with its move-out).

Each runs in a savepoint: a failure (the hub unreachable, the reserved day not come)
leaves nothing written.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from myna import network
from myna.platform.settings import Settings
from myna.services import applications, moves
from myna.services.application_domain import ApplicationStatus


def change_status(
    *,
    session: Session,
    settings: Settings,
    receipt_number: str,
    municipality_code: str,
    target: ApplicationStatus,
    actor: str,
    comment: str = "",
) -> applications.ApplicationRead:
    """Move the municipality's application to ``target`` through its procedure's logic."""
    found = applications.get_application(
        session=session, receipt_number=receipt_number, municipality_code=municipality_code
    )
    procedure = found.procedure_code
    with session.begin_nested():
        if procedure == moves.MOVE_OUT and target is ApplicationStatus.COMPLETED:
            moves.complete_move_out(
                session=session,
                hub=network.hub_for(session=session, settings=settings),
                receipt_number=found.receipt_number,
                municipality_code=municipality_code,
                actor=actor,
                comment=comment.strip(),
            )
        elif procedure == moves.MOVE_OUT and target is ApplicationStatus.REJECTED:
            moves.reject_move_out(
                session=session,
                receipt_number=found.receipt_number,
                municipality_code=municipality_code,
                actor=actor,
                comment=comment.strip(),
            )
        elif procedure == moves.MOVE_IN and target is ApplicationStatus.COMPLETED:
            moves.complete_move_in(
                session=session,
                hub=network.hub_for(session=session, settings=settings),
                move_id=moves.move_of_reservation(session=session, application_id=found.id),
                municipality_code=municipality_code,
                actor=actor,
            )
        elif procedure == moves.MOVE_IN and target is ApplicationStatus.REJECTED:
            raise moves.ReservationNotRejectableError
        else:
            applications.change_status(
                session=session,
                receipt_number=found.receipt_number,
                municipality_code=municipality_code,
                target=target,
                actor=actor,
                comment=comment.strip(),
            )
    return applications.get_application(
        session=session, receipt_number=found.receipt_number, municipality_code=municipality_code
    )
