"""Moves (引越し): 転出届 (move-out notification) and 転入予約 (move-in reservation) at once.

The flow (deck p27, p33; docs/moves.md):

1. The resident files the ``moving-out`` form, signed with the card, through the normal
   e-application pages. :func:`check_draft` refuses what JSON Schema cannot say (the
   arriving municipality must exist and differ, the dates must be in order) and
   :func:`on_filed`, called in the filing transaction, checks again and creates the
   move: the move-out notification at the departing municipality, a move-in
   reservation (procedure ``moving-in-reservation``) at the arriving one carrying the
   same signed content, and the people who move.
2. The departing municipality's staff completes the move-out (:func:`complete_move_out`):
   it writes the move-out certificate information (転出証明書情報) of each member to
   its replica store, and the arriving municipality receives it through the hub
   (item ``move-out-certificate``, procedure ``resident-move-in``), so the exchange is
   authorized and logged like any other.
3. On or after the reserved day the arriving municipality completes the move-in
   (:func:`complete_move_in`), in ONE transaction: the registry records the 転入, the
   signing certificate of each member's card is revoked (basic 4 info changed; the
   user-authentication certificate stays valid), the driver's license system (police)
   reads the new address through the hub and keeps it, the reservation and the move
   are completed and every member gets a notice about re-issuing the signing
   certificate and updating the card's face within 90 days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from myna import agencies, jpki, network, notices, registry
from myna.applications import service as applications
from myna.applications.domain import ApplicationStatus, new_receipt_number
from myna.applications.forms import FieldError
from myna.applications.models import Application
from myna.applications.procedures import ProcedureHandler, StandardProcedure, StatusChange
from myna.moves.models import Move, MoveMember
from myna.platform.clock import today_in_japan
from myna.platform.db import utcnow
from myna.platform.errors import N_, MynaError, NotFoundError
from myna.platform.i18n import format_date
from myna.platform.i18n import gettext as _

MOVE_OUT = "moving-out"
MOVE_IN = "moving-in-reservation"
CERTIFICATE_ITEM = "move-out-certificate"
MOVE_IN_PROCEDURE = "resident-move-in"
MOVE_OUT_PROCEDURE = "resident-move-out"
HOUSEHOLD_ITEM = "household"
IDENTITY_ITEM = "basic-info"
JLIS = "jlis"
LICENSE_ITEM = "license-address"
LICENSE_PROCEDURE = "driver-license"
POLICE = "police"
# 住民基本台帳法 第22条: the move-in is notified within 14 days of moving in.
MAX_DAYS_TO_MOVE_IN = 14
# The portal accepts a move-out notification from 30 days before the move to 14 after.
MAX_DAYS_BEFORE_MOVE_OUT = 30
MAX_DAYS_AFTER_MOVE_OUT = 14
# 券面記載事項の変更 is due within 90 days of the move-in (the card otherwise lapses).
CARD_UPDATE_DAYS = 90
# The youngest age at which a driver's license (原付) can be held.
LICENSE_MIN_AGE = 16
SELF = "self"
HOUSEHOLD = "household"
_SEX = {registry.Sex.MALE: "男", registry.Sex.FEMALE: "女"}
# What a move-in reservation takes from the signed move-out: one signature, two filings.
_SIGNATURE_COLUMNS = ("content", "signature", "certificate_serial", "signer_name", "signed_at")


class MoveStatus(StrEnum):
    """Where a move stands."""

    FILED = "filed"  # 転出届・転入予約 received
    CERTIFICATE_SENT = "certificate-sent"  # 転出証明書情報 delivered to the arriving side
    COMPLETED = "completed"  # 転入 recorded
    CANCELLED = "cancelled"  # the 転出届 was rejected; the reservation went with it


STATUS_LABELS: dict[MoveStatus, str] = {
    MoveStatus.FILED: N_("Move-out notification filed"),
    MoveStatus.CERTIFICATE_SENT: N_("Move-out certificate information sent"),
    MoveStatus.COMPLETED: N_("Move-in completed"),
    MoveStatus.CANCELLED: N_("Cancelled: the move-out notification was rejected"),
}

_UNKNOWN_MUNICIPALITY = N_(
    "No municipality has the code {code}. Choose the municipality you move to from the "
    "list, or find it by its postal code."
)
_BAD_CHECK_DIGIT = N_(
    "{code} is not a local government code (its check digit does not match). Choose the "
    "municipality you move to from the list, or find it by its postal code."
)
_SAME_MUNICIPALITY = N_(
    "You already live in this municipality. A move within the same municipality (転居) is "
    "notified at its counter, not with this form."
)
_MOVE_IN_BEFORE_MOVE_OUT = N_("The planned move-in date cannot be before the move-out date.")
_MOVE_IN_TOO_LATE = N_(
    "The planned move-in date must be within {days} days after the move-out date."
)
_MOVE_IN_PAST = N_("The planned move-in date has already passed. Choose today or a later day.")
_MOVE_OUT_TOO_EARLY = N_(
    "The move-out notification can be filed from {days} days before the move. Please file it later."
)
_MOVE_OUT_TOO_LATE = N_(
    "More than {days} days have passed since the move-out date. Please notify the move at "
    "the municipality's counter."
)


class MoveError(MynaError):
    """Base of move errors."""

    code = "move_error"


class MoveNotFileableError(MoveError):
    code = "move_not_fileable"
    message = N_("The move cannot be filed as it is: {reason}")
    status_code = 422


class MoveNotFoundError(NotFoundError):
    code = "move_not_found"
    message = N_("No move with this number was found for your municipality.")


class CertificateNotArrivedError(MoveError):
    code = "certificate_not_arrived"
    message = N_(
        "The move-out certificate information has not arrived from the departing "
        "municipality yet, so the move-in cannot be completed. Complete it once it has arrived."
    )
    status_code = 409


class BeforeReservedDayError(MoveError):
    code = "before_reserved_day"
    message = N_(
        "The move-in was reserved for {day}. It can be completed on that day or later, not before."
    )
    status_code = 409


class MoveAlreadyCompletedError(MoveError):
    code = "move_already_completed"
    message = N_("This move-in has already been completed.")
    status_code = 409


class MoveCancelledError(MoveError):
    code = "move_cancelled"
    message = N_(
        "This move was cancelled because its move-out notification was rejected. "
        "Nothing is left to complete."
    )
    status_code = 409


class MoveOutAlreadyDoneError(MoveError):
    code = "move_out_already_done"
    message = N_(
        "The move-out of this notification has already been completed and its certificate "
        "information sent."
    )
    status_code = 409


class CertificateExchangeFailedError(MoveError):
    code = "certificate_exchange_failed"
    message = N_(
        "The move-out certificate information could not be delivered to the arriving "
        "municipality through the information provision network. Nothing was changed; "
        "please try again later."
    )
    status_code = 503


class ReservationNotRejectableError(MoveError):
    code = "reservation_not_rejectable"
    message = N_(
        "A move-in reservation is not rejected on its own: it is cancelled with its "
        "move-out notification, which only the departing municipality can reject."
    )
    status_code = 409


class HouseholdUpdateFailedError(MoveError):
    code = "household_update_failed"
    message = N_(
        "The arriving municipality's household records could not be updated through the "
        "information provision network. The move-in was not recorded; please try again later."
    )
    status_code = 503


class IdentityUpdateFailedError(MoveError):
    code = "identity_update_failed"
    message = N_(
        "The new address could not be sent to J-LIS's identity information through the "
        "information provision network. The move-in was not recorded; please try again later."
    )
    status_code = 503


class LicenseUpdateFailedError(MoveError):
    code = "license_update_failed"
    message = N_(
        "The driver's license system could not receive the new address through the "
        "information provision network. The move-in was not recorded; please try again later."
    )
    status_code = 503


@dataclass(frozen=True, slots=True)
class MemberView:
    """A person who moves, with the certificate information received about them."""

    resident_id: int
    name: str
    relation: str
    certificate: dict[str, Any] | None

    @property
    def birth_date(self) -> date | None:
        """The date of birth the certificate information gives, as a date (for 和暦)."""
        return None if self.certificate is None else _date(self.certificate.get("birth_date"))


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a move's progress as the resident sees it."""

    label: str
    done: bool
    at: datetime | None


@dataclass(frozen=True, slots=True)
class MoveView:
    """A move as the resident's page and the back office show it."""

    id: int
    resident_id: int
    status: MoveStatus
    from_municipality_code: str
    from_municipality_name: str
    to_municipality_code: str
    to_municipality_name: str
    new_address: str
    move_out_date: date
    move_in_date: date
    scope: str
    new_head_name: str
    move_out_receipt: str
    move_in_receipt: str
    created_at: datetime
    certificate_sent_at: datetime | None
    completed_at: datetime | None
    members: tuple[MemberView, ...] = field(default_factory=tuple)

    @property
    def status_label(self) -> str:
        return _(STATUS_LABELS[self.status])

    @property
    def certificate_arrived(self) -> bool:
        return self.certificate_sent_at is not None

    @property
    def member_names(self) -> str:
        return "、".join(m.name for m in self.members)

    def move_in_refusal(self, today: date) -> MoveError | None:
        """Why the move-in cannot be completed on ``today``, or None (see the function)."""
        return move_in_refusal(status=self.status, move_in_date=self.move_in_date, today=today)

    @property
    def steps(self) -> list[Step]:
        """Move-out filed → certificate information sent → move-in completed."""
        return [
            Step(_(STATUS_LABELS[MoveStatus.FILED]), True, self.created_at),
            Step(
                _(STATUS_LABELS[MoveStatus.CERTIFICATE_SENT]),
                self.certificate_sent_at is not None,
                self.certificate_sent_at,
            ),
            Step(
                _(STATUS_LABELS[MoveStatus.COMPLETED]),
                self.completed_at is not None,
                self.completed_at,
            ),
        ]


def move_in_refusal(*, status: MoveStatus, move_in_date: date, today: date) -> MoveError | None:
    """Why the move-in cannot be completed on ``today``, or None when it can.

    The one rule: :func:`complete_move_in` raises what this returns, and the back office
    offers 「転入を完了する」 only when it returns None.
    """
    if status is MoveStatus.COMPLETED:
        return MoveAlreadyCompletedError()
    if status is MoveStatus.CANCELLED:
        return MoveCancelledError()
    if status is not MoveStatus.CERTIFICATE_SENT:
        return CertificateNotArrivedError()
    if today < move_in_date:
        return BeforeReservedDayError(day=format_date(move_in_date))
    return None


# --- filing ------------------------------------------------------------------------------


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def check_draft(
    *, session: Session, resident_id: int, data: dict[str, Any], today: date | None = None
) -> list[FieldError]:
    """The rules of a move-out form JSON Schema cannot express, one message per field.

    Fields the schema already refuses (missing, wrong form) are left to it.
    """
    today = today or today_in_japan()
    errors: list[FieldError] = []
    resident = registry.get_resident(session=session, resident_id=resident_id)
    code = data.get("new_municipality_code")
    if isinstance(code, str) and len(code) == 6 and code.isascii() and code.isdigit():
        try:
            registry.validate_municipality_code(code)
            registry.get_municipality(session=session, code=code)
        except registry.InvalidMunicipalityCodeError:
            errors.append(
                FieldError("new_municipality_code", _(_BAD_CHECK_DIGIT).format(code=code))
            )
        except registry.MunicipalityNotFoundError:
            errors.append(
                FieldError("new_municipality_code", _(_UNKNOWN_MUNICIPALITY).format(code=code))
            )
        else:
            if code == resident.municipality_code:
                errors.append(FieldError("new_municipality_code", _(_SAME_MUNICIPALITY)))
    move_out, move_in = _date(data.get("move_out_date")), _date(data.get("move_in_date"))
    if move_out is not None:
        # Differences, not sums: a far date stays a field error, never an overflow.
        if (move_out - today).days > MAX_DAYS_BEFORE_MOVE_OUT:
            errors.append(
                FieldError(
                    "move_out_date", _(_MOVE_OUT_TOO_EARLY).format(days=MAX_DAYS_BEFORE_MOVE_OUT)
                )
            )
        elif (today - move_out).days > MAX_DAYS_AFTER_MOVE_OUT:
            errors.append(
                FieldError(
                    "move_out_date", _(_MOVE_OUT_TOO_LATE).format(days=MAX_DAYS_AFTER_MOVE_OUT)
                )
            )
    if move_in is not None:
        if move_out is not None and move_in < move_out:
            errors.append(FieldError("move_in_date", _(_MOVE_IN_BEFORE_MOVE_OUT)))
        elif move_out is not None and (move_in - move_out).days > MAX_DAYS_TO_MOVE_IN:
            errors.append(
                FieldError("move_in_date", _(_MOVE_IN_TOO_LATE).format(days=MAX_DAYS_TO_MOVE_IN))
            )
        elif move_in < today:
            errors.append(FieldError("move_in_date", _(_MOVE_IN_PAST)))
    return errors


def _members(session: Session, resident_id: int, scope: str) -> list[int]:
    """Who moves: the applicant alone, or every active member of their household."""
    if scope != HOUSEHOLD:
        return [resident_id]
    resident = registry.get_resident(session=session, resident_id=resident_id)
    people = registry.household_members(session=session, household_id=resident.household_id)
    # Head first: the first one heads the new household (see registry.record_move_in).
    active = [p.id for p in people if p.status is registry.ResidentStatus.ACTIVE]
    return active or [resident_id]


def on_filed(session: Session, application: Application) -> None:
    """A ``moving-out`` application was filed: the move-in reservation and the move.

    The draft is checked again (it may have been prepared days ago), then the move-in
    reservation is created at the arriving municipality with the move. Raising here
    files nothing: the caller's transaction rolls back.
    """
    data = dict(application.data)
    errors = check_draft(
        session=session,
        resident_id=application.resident_id,
        data=data,
        today=today_in_japan(application.submitted_at),
    )
    if errors:
        raise MoveNotFileableError(reason=errors[0].message)
    now = application.submitted_at
    to_code = str(data["new_municipality_code"])
    reservation = Application(
        receipt_number=new_receipt_number(),
        # One signed content, two filings: the reservation points at the same request.
        signing_request_id=f"{application.signing_request_id}:in",
        resident_id=application.resident_id,
        municipality_code=to_code,
        procedure_code=MOVE_IN,
        status=ApplicationStatus.RECEIVED.value,
        data=data,
        **{column: getattr(application, column) for column in _SIGNATURE_COLUMNS},
        submitted_at=now,
        updated_at=now,
    )
    session.add(reservation)
    session.flush()
    applications.record_event(
        session,
        reservation,
        kind="status",
        actor=applications.RESIDENT,
        status=ApplicationStatus.RECEIVED,
        now=now,
    )
    scope = HOUSEHOLD if data.get("movers") == HOUSEHOLD else SELF
    move = Move(
        resident_id=application.resident_id,
        move_out_application_id=application.id,
        move_in_application_id=reservation.id,
        from_municipality_code=application.municipality_code,
        to_municipality_code=to_code,
        new_address=str(data["new_address"]).strip(),
        move_out_date=date.fromisoformat(str(data["move_out_date"])),
        move_in_date=date.fromisoformat(str(data["move_in_date"])),
        scope=scope,
        new_head_name=str(data.get("new_head_name", "")).strip(),
        status=MoveStatus.FILED.value,
        created_at=now,
    )
    session.add(move)
    session.flush()
    session.add_all(
        MoveMember(move_id=move.id, resident_id=member, position=position, certificate=None)
        for position, member in enumerate(
            _members(session, application.resident_id, scope), start=1
        )
    )
    applications.notify_resident(session, reservation, status=ApplicationStatus.RECEIVED)
    session.flush()


# --- reading -----------------------------------------------------------------------------


def _member_rows(session: Session, move_id: int) -> list[MoveMember]:
    return list(
        session.scalars(
            select(MoveMember).where(MoveMember.move_id == move_id).order_by(MoveMember.position)
        )
    )


def _municipality_name(session: Session, code: str) -> str:
    try:
        return registry.get_municipality(session=session, code=code).full_name
    except (registry.MunicipalityNotFoundError, registry.InvalidMunicipalityCodeError):
        return code


def _view(session: Session, move: Move) -> MoveView:
    members = []
    for row in _member_rows(session, move.id):
        person = registry.get_resident(session=session, resident_id=row.resident_id)
        members.append(
            MemberView(
                resident_id=row.resident_id,
                name=person.full_name,
                relation=person.relation.value,
                certificate=None if row.certificate is None else dict(row.certificate),
            )
        )
    out_row = session.get_one(Application, move.move_out_application_id)
    in_row = session.get_one(Application, move.move_in_application_id)
    return MoveView(
        id=move.id,
        resident_id=move.resident_id,
        status=MoveStatus(move.status),
        from_municipality_code=move.from_municipality_code,
        from_municipality_name=_municipality_name(session, move.from_municipality_code),
        to_municipality_code=move.to_municipality_code,
        to_municipality_name=_municipality_name(session, move.to_municipality_code),
        new_address=move.new_address,
        move_out_date=move.move_out_date,
        move_in_date=move.move_in_date,
        scope=move.scope,
        new_head_name=move.new_head_name,
        move_out_receipt=out_row.receipt_number,
        move_in_receipt=in_row.receipt_number,
        created_at=move.created_at,
        certificate_sent_at=move.certificate_sent_at,
        completed_at=move.completed_at,
        members=tuple(members),
    )


def moves_of_resident(*, session: Session, resident_id: int) -> list[MoveView]:
    """The moves the resident filed or moves in, newest first."""
    moving = select(MoveMember.move_id).where(MoveMember.resident_id == resident_id)
    rows = session.scalars(
        select(Move)
        .where(or_(Move.resident_id == resident_id, Move.id.in_(moving)))
        .order_by(Move.id.desc())
    )
    return [_view(session, row) for row in rows]


# Which move-ins a list shows: not yet done, completed, or every one.
OPEN_MOVES = (MoveStatus.FILED, MoveStatus.CERTIFICATE_SENT)
MOVE_LISTS: dict[str, tuple[MoveStatus, ...]] = {
    "open": OPEN_MOVES,
    "completed": (MoveStatus.COMPLETED,),
    "cancelled": (MoveStatus.CANCELLED,),
    "all": tuple(MoveStatus),
}


def move_ins_for(
    *,
    session: Session,
    municipality_code: str,
    statuses: Sequence[MoveStatus] = tuple(MoveStatus),
) -> list[MoveView]:
    """The move-in reservations of a municipality: open ones by reserved day, then done ones.

    ``statuses`` narrows the list, to the completed ones for instance.
    """
    rows = list(
        session.scalars(
            select(Move)
            .where(
                Move.to_municipality_code == municipality_code,
                Move.status.in_([status.value for status in statuses]),
            )
            .order_by(Move.id)
        )
    )
    rows.sort(key=lambda m: (m.status == MoveStatus.COMPLETED.value, m.move_in_date, m.id))
    return [_view(session, row) for row in rows]


def _move_for(session: Session, move_id: int, municipality_code: str) -> Move:
    move = session.get(Move, move_id)
    # Another municipality's move is "not found", so staff cannot probe for moves.
    if move is None or move.to_municipality_code != municipality_code:
        raise MoveNotFoundError
    return move


def move_of_reservation(*, session: Session, application_id: int) -> int:
    """The id of the move whose move-in reservation is application ``application_id``."""
    move_id = session.scalar(select(Move.id).where(Move.move_in_application_id == application_id))
    if move_id is None:
        raise MoveNotFoundError
    return move_id


def get_move_in(*, session: Session, move_id: int, municipality_code: str) -> MoveView:
    """One move-in reservation of the arriving municipality (another's is not found)."""
    return _view(session, _move_for(session, move_id, municipality_code))


# --- the hub -----------------------------------------------------------------------------


def _full_address(session: Session, municipality_code: str, address: str) -> str:
    return f"{_municipality_name(session, municipality_code)}{address}"


def _certificate(
    session: Session, move: Move, receipt_number: str, person: registry.ResidentRead
) -> dict[str, Any]:
    """The 転出証明書情報 of one member: basic 4 info, addresses, date and household."""
    certificate: dict[str, Any] = {
        "receipt_number": receipt_number,
        "name": person.full_name,
        "name_kana": person.full_name_kana,
        "birth_date": person.birth_date.isoformat(),
        "sex": _SEX.get(person.sex, "不明"),
        "former_address": person.full_address,
        "new_municipality_code": move.to_municipality_code,
        "new_address": _full_address(session, move.to_municipality_code, move.new_address),
        "move_out_date": move.move_out_date.isoformat(),
        "relation_to_head": person.relation.value,
    }
    if move.new_head_name:
        certificate["head_name"] = move.new_head_name
    return certificate


def _filed_move_out(
    session: Session, receipt_number: str, municipality_code: str
) -> tuple[applications.ApplicationRead, Move]:
    """The municipality's 転出届 and its move, whose certificate information has not left."""
    found = applications.get_application(
        session=session, receipt_number=receipt_number, municipality_code=municipality_code
    )
    move = session.scalars(
        select(Move).where(Move.move_out_application_id == found.id)
    ).one_or_none()
    if found.procedure_code != MOVE_OUT or move is None:
        raise MoveNotFoundError
    if move.status != MoveStatus.FILED.value:
        raise MoveOutAlreadyDoneError
    return found, move


def complete_move_out(
    *,
    session: Session,
    hub: network.Hub,
    receipt_number: str,
    municipality_code: str,
    actor: str,
    comment: str = "",
) -> MoveView:
    """The departing municipality completes the 転出届 and sends the 転出証明書情報.

    The certificate information of each member goes to the departing municipality's
    replica store (keyed by its own link code); the arriving municipality then asks the
    hub for it under 転入届の受理, so the delivery is authorized and appears in each
    member's やりとり履歴. If it cannot be delivered, nothing is completed.
    """
    found, move = _filed_move_out(session, receipt_number, municipality_code)
    if found.status is ApplicationStatus.RECEIVED:
        applications.change_status(
            session=session,
            receipt_number=found.receipt_number,
            municipality_code=municipality_code,
            target=ApplicationStatus.UNDER_REVIEW,
            actor=actor,
        )
    # Completed already through the generic application page: only the sending is left.
    if found.status is not ApplicationStatus.COMPLETED:
        applications.change_status(
            session=session,
            receipt_number=found.receipt_number,
            municipality_code=municipality_code,
            target=ApplicationStatus.COMPLETED,
            actor=actor,
            comment=comment,
        )
    departing = agencies.municipality_agency_code(move.from_municipality_code)
    arriving = agencies.municipality_agency_code(move.to_municipality_code)
    members = _member_rows(session, move.id)
    for member in members:
        person = registry.get_resident(session=session, resident_id=member.resident_id)
        # Into the departing municipality's own replica store, through the hub (logged).
        _update(
            session,
            hub,
            agency=departing,
            resident_id=member.resident_id,
            procedure=MOVE_OUT_PROCEDURE,
            record=network.RecordUpdate(
                item=CERTIFICATE_ITEM,
                key=found.receipt_number,
                payload=_certificate(session, move, found.receipt_number, person),
                source="住民基本台帳（転出証明書情報）",
                valid_from=move.move_out_date,
            ),
            failure=CertificateExchangeFailedError,
        )
    for member in members:
        received = [
            payload
            for payload in _ask(
                session,
                hub,
                requester=arriving,
                resident_id=member.resident_id,
                procedure=MOVE_IN_PROCEDURE,
                item=CERTIFICATE_ITEM,
                provider=departing,
            )
            if payload.get("receipt_number") == found.receipt_number
        ]
        if not received:
            raise CertificateExchangeFailedError
        member.certificate = dict(received[0])
    move.status = MoveStatus.CERTIFICATE_SENT.value
    move.certificate_sent_at = utcnow()
    session.flush()
    return _view(session, move)


# --- the move-in -------------------------------------------------------------------------


def _revoke_signing_certificates(session: Session, resident_id: int, at: datetime) -> None:
    """Revoke the signing certificate of each of the person's cards; auth ones stay."""
    cards = {
        c.card_id
        for c in jpki.list_certificates(session=session, holder_id=resident_id)
        if c.kind is jpki.CertificateKind.SIGN
        and c.status is jpki.CertificateStatus.VALID
        and c.card_id is not None
    }
    for card_id in sorted(cards):
        jpki.revoke_for_card(
            session=session,
            card_id=card_id,
            kinds=[jpki.CertificateKind.SIGN],
            reason=jpki.RevocationReason.BASIC_INFO_CHANGE,
            at=at,
        )


def _publish_household(
    session: Session,
    hub: network.Hub,
    arriving: str,
    moved: Sequence[registry.ResidentRead],
    since: date,
) -> None:
    """The arriving municipality's records of each newcomer: household and J-LIS's.

    Its own household record (世帯情報), and the new address in J-LIS's 本人確認情報
    (住民基本台帳法 第30条の6), both through the hub.
    """
    relations = [p.relation.value for p in moved]
    births = [p.birth_date.isoformat() for p in moved]
    for person in moved:
        _update(
            session,
            hub,
            agency=arriving,
            owner=JLIS,
            resident_id=person.id,
            procedure=MOVE_IN_PROCEDURE,
            record=network.RecordUpdate(
                item=IDENTITY_ITEM,
                payload={
                    "name": person.full_name,
                    "name_kana": person.full_name_kana,
                    "address": person.full_address,
                    "birth_date": person.birth_date.isoformat(),
                    "sex": int(person.sex),
                },
                source="住民基本台帳ネットワークシステム（本人確認情報）",
                valid_from=since,
            ),
            failure=IdentityUpdateFailedError,
        )
        _update(
            session,
            hub,
            agency=arriving,
            resident_id=person.id,
            procedure=MOVE_IN_PROCEDURE,
            record=network.RecordUpdate(
                item=HOUSEHOLD_ITEM,
                payload={
                    "is_head": person.relation is registry.Relation.HEAD,
                    "relation_to_head": person.relation.value,
                    "member_count": len(moved),
                    "member_relations": relations,
                    "member_birth_dates": births,
                    "address": person.full_address,
                    "since": since.isoformat(),
                },
                source="住民基本台帳",
                valid_from=since,
            ),
            failure=HouseholdUpdateFailedError,
        )


def _update_license(
    session: Session, hub: network.Hub, arriving: str, person: registry.ResidentRead
) -> None:
    """The license system reads the new address through the hub and keeps it (deck p33)."""
    fresh = _ask(
        session,
        hub,
        requester=POLICE,
        resident_id=person.id,
        procedure=LICENSE_PROCEDURE,
        item=HOUSEHOLD_ITEM,
        provider=arriving,
    )
    if not fresh or not isinstance(fresh[0].get("address"), str):
        raise LicenseUpdateFailedError
    _update(
        session,
        hub,
        agency=POLICE,
        resident_id=person.id,
        procedure=LICENSE_PROCEDURE,
        record=network.RecordUpdate(
            item=LICENSE_ITEM,
            payload={"address": fresh[0]["address"], "since": fresh[0]["since"]},
            source="運転免許管理システム（住所変更）",
            valid_from=date.fromisoformat(str(fresh[0]["since"])),
        ),
        failure=LicenseUpdateFailedError,
    )


def _ask(
    session: Session,
    hub: network.Hub,
    *,
    requester: str,
    resident_id: int,
    procedure: str,
    item: str,
    provider: str,
) -> list[dict[str, Any]]:
    """What ``provider`` answers, through the hub, when ``requester`` asks for ``item``."""
    outcome = network.ask(
        session=session,
        hub=hub,
        requester=requester,
        resident_id=resident_id,
        procedure=procedure,
        items=[item],
    )
    return [
        record.payload
        for result in outcome.results
        if result.outcome is network.Outcome.SUCCESS and result.provider == provider
        for record in result.records
    ]


def _update(
    session: Session,
    hub: network.Hub,
    *,
    agency: str,
    resident_id: int,
    procedure: str,
    record: network.RecordUpdate,
    failure: type[MoveError],
    owner: str | None = None,
) -> None:
    """An agency writes one record about a person into a store (its own by default)."""
    try:
        network.update_records(
            session=session,
            hub=hub,
            publisher=agency,
            owner=owner or agency,
            resident_id=resident_id,
            procedure=procedure,
            records=[record],
        )
    except network.ExchangeError as error:
        raise failure from error


def _notify_member(
    session: Session, move: Move, person: registry.ResidentRead, today: date
) -> None:
    sender = agencies.municipality_agency_code(move.to_municipality_code)
    municipality = _municipality_name(session, move.to_municipality_code)
    deadline = today + timedelta(days=CARD_UPDATE_DAYS)
    body = "\n".join(
        [
            f"{municipality}への転入の手続が完了しました。",
            "",
            f"新しい住所: {person.full_address}",
            "",
            "■ 署名用電子証明書の再発行",
            "住所が変わったため、マイナンバーカードの署名用電子証明書は失効しました"
            "（利用者証明用電子証明書はそのまま使えます）。",
            "電子申請で署名をするには、市区町村の窓口で署名用電子証明書の再発行を受けてください。",
            "",
            "■ 券面記載事項の変更",
            f"マイナンバーカードの券面の住所の変更（追記）を、{deadline.year}年{deadline.month}月"
            f"{deadline.day}日までに（転入から90日以内）{municipality}の窓口で行ってください。",
            "期限を過ぎるとカードが使えなくなることがあります。",
        ]
    )
    notices.send_notice(
        session=session,
        sender=sender,
        audience=notices.ToResident(
            link_code=network.link_code_for_resident(
                session=session, resident_id=person.id, agency_code=sender
            )
        ),
        content=notices.NoticeCreate(
            title="【転入の手続が完了しました】署名用電子証明書の再発行と券面の変更のお願い",
            body=body,
            category=notices.Category.PROCEDURE,
            deadline=deadline,
            action_url="/moves",
        ),
    )


def reject_move_out(
    *,
    session: Session,
    receipt_number: str,
    municipality_code: str,
    actor: str,
    comment: str,
) -> MoveView:
    """The departing municipality rejects the 転出届; the move-in reservation goes with it.

    Both applications become "rejected" (each with its notice: the reason to the
    resident, and the arriving municipality's own message) and the move is cancelled, in
    the caller's transaction. Only a move whose certificate information has not left can
    be rejected.
    """
    found, move = _filed_move_out(session, receipt_number, municipality_code)
    applications.change_status(
        session=session,
        receipt_number=found.receipt_number,
        municipality_code=municipality_code,
        target=ApplicationStatus.REJECTED,
        actor=actor,
        comment=comment,
    )
    reservation = session.get(Application, move.move_in_application_id)
    if reservation is not None and reservation.status != ApplicationStatus.REJECTED.value:
        applications.change_status(
            session=session,
            receipt_number=reservation.receipt_number,
            municipality_code=move.to_municipality_code,
            target=ApplicationStatus.REJECTED,
            actor=applications.SYSTEM,
            comment="転出届が受理されなかったため、この転入予約は取り消されました。",
        )
    move.status = MoveStatus.CANCELLED.value
    session.flush()
    return _view(session, move)


def complete_move_in(
    *,
    session: Session,
    hub: network.Hub,
    move_id: int,
    municipality_code: str,
    actor: str,
    today: date | None = None,
) -> MoveView:
    """The arriving municipality completes the reserved move-in, all or nothing.

    Refused before the certificate information arrived and before the reserved day. In
    the caller's transaction: the registry's 転入 (address history from the moving
    date), the signing certificates revoked (basic 4 info changed), the police license
    node updated through the hub, the reservation and the move completed, notices.
    Any failure raises before the caller commits, so nothing is left half done.
    """
    move = _move_for(session, move_id, municipality_code)
    today = today or today_in_japan()
    refusal = move_in_refusal(
        status=MoveStatus(move.status), move_in_date=move.move_in_date, today=today
    )
    if refusal is not None:
        raise refusal
    now = utcnow()
    arriving = agencies.municipality_agency_code(move.to_municipality_code)
    member_ids = [m.resident_id for m in _member_rows(session, move.id)]
    moved = registry.record_move_in(
        session=session,
        resident_ids=member_ids,
        municipality_code=move.to_municipality_code,
        address=move.new_address,
        moved_on=move.move_out_date,
    )
    for person in moved:
        _revoke_signing_certificates(session, person.id, now)
    _publish_household(session, hub, arriving, moved, move.move_out_date)
    for person in moved:
        if registry.age_on(person.birth_date, today) >= LICENSE_MIN_AGE:
            _update_license(session, hub, arriving, person)
    reservation = session.get_one(Application, move.move_in_application_id)
    # The reservation is completed by the move-in itself (no separate review); the
    # members' notice below replaces the generic "completed" notice.
    reservation.status = ApplicationStatus.COMPLETED.value
    reservation.updated_at = now
    applications.record_event(
        session,
        reservation,
        kind="status",
        actor=actor,
        status=ApplicationStatus.COMPLETED,
        now=now,
    )
    move.status = MoveStatus.COMPLETED.value
    move.completed_at = now
    for person in moved:
        _notify_member(session, move, person, today)
    session.flush()
    return _view(session, move)


# --- the procedure handlers (registered at the composition root) ---------------------------


class MoveOutProcedure(StandardProcedure):
    """転出届 (``moving-out``): its own checks, the reservation at filing, the saga's steps.

    Completing it sends the 転出証明書情報 through the hub (:func:`complete_move_out`);
    rejecting it cancels the move-in reservation (:func:`reject_move_out`).
    """

    def check_draft(
        self, *, session: Session, resident_id: int, data: dict[str, Any], today: date | None
    ) -> list[FieldError]:
        """The move-out form's rules beyond its schema (:func:`check_draft`)."""
        return check_draft(session=session, resident_id=resident_id, data=data, today=today)

    def on_filed(self, *, session: Session, application: Application) -> None:
        """Create the move-in reservation and the move (:func:`on_filed`)."""
        on_filed(session, application)

    def change_status(self, *, session: Session, hub: network.Hub, change: StatusChange) -> bool:
        """Completed: the certificate information leaves; rejected: the move is cancelled."""
        application = change.application
        if change.target is ApplicationStatus.COMPLETED:
            complete_move_out(
                session=session,
                hub=hub,
                receipt_number=application.receipt_number,
                municipality_code=application.municipality_code,
                actor=change.actor,
                comment=change.comment,
            )
        elif change.target is ApplicationStatus.REJECTED:
            reject_move_out(
                session=session,
                receipt_number=application.receipt_number,
                municipality_code=application.municipality_code,
                actor=change.actor,
                comment=change.comment,
            )
        else:
            return False
        return True


class MoveInReservationProcedure(StandardProcedure):
    """転入予約 (``moving-in-reservation``): created by its 転出届, completed by the move-in.

    It is never filed by a resident directly (nothing to check) and its 転出届's handler
    files it. Completing it is the move-in itself (:func:`complete_move_in`: the registry,
    the signing certificates, the police); it is never rejected on its own.
    """

    def change_status(self, *, session: Session, hub: network.Hub, change: StatusChange) -> bool:
        """Completed: the move-in; rejected: refused (it goes with its move-out)."""
        application = change.application
        if change.target is ApplicationStatus.COMPLETED:
            complete_move_in(
                session=session,
                hub=hub,
                move_id=move_of_reservation(session=session, application_id=application.id),
                municipality_code=application.municipality_code,
                actor=change.actor,
            )
        elif change.target is ApplicationStatus.REJECTED:
            raise ReservationNotRejectableError
        else:
            return False
        return True


def procedure_handlers() -> dict[str, ProcedureHandler]:
    """The moves' handlers by procedure code, for :class:`myna.applications.Procedures`."""
    return {MOVE_OUT: MoveOutProcedure(), MOVE_IN: MoveInReservationProcedure()}
