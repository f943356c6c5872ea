"""Use cases of proxies (代理人): who may act for whom, appointments, the activity record."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from myna import registry
from myna.platform.clock import today_in_japan
from myna.platform.db import utcnow
from myna.proxy import repository
from myna.proxy.domain import (
    ALL_SCOPES,
    CODE_MINUTES,
    Appointment,
    AppointmentNotFoundError,
    AppointmentNotPendingError,
    Authority,
    AuthorityEndedError,
    InvalidCodeError,
    Kind,
    Member,
    NoScopeChosenError,
    NotARepresentativeError,
    Scope,
    SelfAppointmentError,
    appointment_grant,
    check_until,
    is_legal_representative,
    legal_grant,
    new_code,
    normalize_code,
    parse_grant,
    scopes_of,
    scopes_text,
)
from myna.proxy.models import ProxyActivity, ProxyAppointment, ProxyCode

ACTIVITY_LIMIT = 200


@dataclass(frozen=True, slots=True)
class AuthorityView:
    """An authority as a page lists it: for whom, what kind, which scopes, until when."""

    authority: Authority
    principal_name: str


@dataclass(frozen=True, slots=True)
class AppointmentView:
    """An appointment as the principal or the proxy sees it."""

    appointment: Appointment
    status: str
    principal_name: str
    proxy_name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ActivityView:
    """One recorded act under a proxy's authority."""

    occurred_at: datetime
    proxy_name: str
    kind: Kind
    action: str
    detail: str | None


def _member(resident: registry.ResidentRead) -> Member:
    return Member(
        resident_id=resident.id,
        household_id=resident.household_id,
        relation=resident.relation,
        birth_date=resident.birth_date,
        active=resident.status is registry.ResidentStatus.ACTIVE,
    )


def _resident(session: Session, resident_id: int) -> registry.ResidentRead | None:
    try:
        return registry.get_resident(session=session, resident_id=resident_id)
    except registry.ResidentNotFoundError:
        return None


def name_of(*, session: Session, resident_id: int) -> str:
    """A resident's name as the proxies' pages show it (``山田 太郎``)."""
    resident = _resident(session, resident_id)
    return "—" if resident is None else resident.full_name


def _appointment(row: ProxyAppointment) -> Appointment:
    return Appointment(
        id=row.id,
        principal_id=row.principal_id,
        proxy_id=row.proxy_id,
        scopes=scopes_of(row.scopes),
        valid_until=row.valid_until,
        accepted_at=row.accepted_at,
        revoked_at=row.revoked_at,
    )


def legal_children(*, session: Session, parent_id: int, today: date) -> list[registry.ResidentRead]:
    """The children ``parent_id`` is 法定代理人 of on ``today`` (by the household's 続柄)."""
    parent = _resident(session, parent_id)
    if parent is None:
        return []
    members = registry.household_members(session=session, household_id=parent.household_id)
    return [m for m in members if is_legal_representative(_member(parent), _member(m), today)]


def authorities_for(
    *, session: Session, proxy_id: int, now: datetime | None = None
) -> list[AuthorityView]:
    """Everyone ``proxy_id`` may act for now: their children under 15, accepted appointments."""
    today = today_in_japan(now or utcnow())
    found = [
        AuthorityView(
            authority=Authority(
                kind=Kind.LEGAL,
                principal_id=child.id,
                proxy_id=proxy_id,
                scopes=ALL_SCOPES,
                grant=legal_grant(child.id),
            ),
            principal_name=child.full_name,
        )
        for child in legal_children(session=session, parent_id=proxy_id, today=today)
    ]
    for row in repository.appointments_of_proxy(session, proxy_id):
        appointment = _appointment(row)
        principal = _resident(session, appointment.principal_id)
        if not appointment.in_force(today) or principal is None:
            continue
        if principal.status is not registry.ResidentStatus.ACTIVE:
            continue
        found.append(
            AuthorityView(
                authority=_appointed(appointment),
                principal_name=principal.full_name,
            )
        )
    return found


def _appointed(appointment: Appointment) -> Authority:
    return Authority(
        kind=Kind.APPOINTED,
        principal_id=appointment.principal_id,
        proxy_id=appointment.proxy_id,
        scopes=appointment.scopes,
        grant=appointment_grant(appointment.id),
        valid_until=appointment.valid_until,
    )


def authority_of(
    *, session: Session, proxy_id: int, grant: str, now: datetime | None = None
) -> Authority:
    """The live authority ``grant`` gives ``proxy_id``, or AuthorityEndedError.

    Checked at every request of an acting session: a revoked or expired appointment, a
    child who turned 15, a household that changed — each ends the acting at once.
    """
    today = today_in_japan(now or utcnow())
    kind, number = parse_grant(grant)
    if kind is Kind.LEGAL:
        parent, child = _resident(session, proxy_id), _resident(session, number)
        if parent is None or child is None:
            raise AuthorityEndedError
        if not is_legal_representative(_member(parent), _member(child), today):
            raise AuthorityEndedError
        return Authority(
            kind=Kind.LEGAL,
            principal_id=child.id,
            proxy_id=proxy_id,
            scopes=ALL_SCOPES,
            grant=grant,
        )
    row = session.get(ProxyAppointment, number)
    if row is None or row.proxy_id != proxy_id:
        raise AuthorityEndedError
    appointment = _appointment(row)
    principal = _resident(session, appointment.principal_id)
    if (
        not appointment.in_force(today)
        or principal is None
        or principal.status is not registry.ResidentStatus.ACTIVE
    ):
        raise AuthorityEndedError
    return _appointed(appointment)


def check_authority(
    *,
    session: Session,
    proxy_id: int,
    principal_id: int,
    scope: Scope,
    now: datetime | None = None,
) -> Authority:
    """Whether ``proxy_id`` may now do ``scope`` for ``principal_id`` (by any authority).

    For acts that arrive outside the acting session (the card reader's signature over an
    application a proxy prepared): NotARepresentativeError when nothing covers them.
    """
    for view in authorities_for(session=session, proxy_id=proxy_id, now=now):
        if view.authority.principal_id == principal_id and view.authority.allows(scope):
            return view.authority
    raise NotARepresentativeError


# --- appointments --------------------------------------------------------------------


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def issue_code(
    *, session: Session, resident_id: int, now: datetime | None = None
) -> tuple[str, datetime]:
    """A fresh one-time code naming ``resident_id`` as a proxy; only its digest is kept.

    The prospective proxy shows it to the principal, who types it to appoint them: the
    principal never needs (nor learns) the proxy's MyNumber.
    """
    now = now or utcnow()
    for dead in repository.dead_codes(session, resident_id, now):
        session.delete(dead)
    code = new_code()
    expires_at = now + timedelta(minutes=CODE_MINUTES)
    session.add(
        ProxyCode(
            resident_id=resident_id,
            code_digest=_digest(code),
            created_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()
    return code, expires_at


def appoint(
    *,
    session: Session,
    principal_id: int,
    code: str,
    scopes: frozenset[Scope],
    until: date,
    now: datetime | None = None,
) -> AppointmentView:
    """The principal appoints whoever holds ``code``, for ``scopes`` until ``until``.

    The code is spent; the appointment waits for the proxy to accept it with their own
    card login. Refused: an unknown, expired or used code; oneself; no scope; a date
    out of bounds.
    """
    now = now or utcnow()
    check_until(until, today_in_japan(now))
    if not scopes:
        raise NoScopeChosenError
    row = repository.live_code(session, _digest(normalize_code(code)), now)
    if row is None:
        raise InvalidCodeError
    if row.resident_id == principal_id:
        raise SelfAppointmentError
    proxy = _resident(session, row.resident_id)
    if proxy is None or proxy.status is not registry.ResidentStatus.ACTIVE:
        raise InvalidCodeError
    row.used_at = now
    appointment = ProxyAppointment(
        principal_id=principal_id,
        proxy_id=row.resident_id,
        scopes=scopes_text(scopes),
        valid_until=until,
        created_at=now,
    )
    session.add(appointment)
    session.flush()
    record(
        session=session,
        principal_id=principal_id,
        proxy_id=row.resident_id,
        grant=appointment_grant(appointment.id),
        action="appointed",
        detail=scopes_text(scopes),
        now=now,
    )
    return _view(session, appointment, today_in_japan(now))


def _view(session: Session, row: ProxyAppointment, today: date) -> AppointmentView:
    appointment = _appointment(row)
    return AppointmentView(
        appointment=appointment,
        status=appointment.status(today),
        principal_name=name_of(session=session, resident_id=row.principal_id),
        proxy_name=name_of(session=session, resident_id=row.proxy_id),
        created_at=row.created_at,
    )


def appointments_made(
    *, session: Session, principal_id: int, now: datetime | None = None
) -> list[AppointmentView]:
    """The proxies the principal appointed (every state), newest first."""
    today = today_in_japan(now or utcnow())
    return [
        _view(session, r, today)
        for r in repository.appointments_by_principal(session, principal_id)
    ]


def appointments_received(
    *, session: Session, proxy_id: int, now: datetime | None = None
) -> list[AppointmentView]:
    """The appointments naming ``proxy_id`` (every state), newest first."""
    today = today_in_japan(now or utcnow())
    return [_view(session, r, today) for r in repository.appointments_of_proxy(session, proxy_id)]


def _own(session: Session, appointment_id: int, **who: int) -> ProxyAppointment:
    row = session.get(ProxyAppointment, appointment_id)
    if row is None or any(getattr(row, name) != value for name, value in who.items()):
        raise AppointmentNotFoundError
    return row


def appointment_for_principal(
    *, session: Session, principal_id: int, appointment_id: int, now: datetime | None = None
) -> AppointmentView:
    """One of the principal's appointments (another's is "not found")."""
    row = _own(session, appointment_id, principal_id=principal_id)
    return _view(session, row, today_in_japan(now or utcnow()))


def accept(
    *, session: Session, proxy_id: int, appointment_id: int, now: datetime | None = None
) -> AppointmentView:
    """The proxy, logged in with their own card, accepts an appointment naming them."""
    now = now or utcnow()
    row = _own(session, appointment_id, proxy_id=proxy_id)
    today = today_in_japan(now)
    if _appointment(row).status(today) != "pending":
        raise AppointmentNotPendingError
    row.accepted_at = now
    record(
        session=session,
        principal_id=row.principal_id,
        proxy_id=proxy_id,
        grant=appointment_grant(row.id),
        action="accepted",
        now=now,
    )
    session.flush()
    return _view(session, row, today)


def revoke(
    *, session: Session, principal_id: int, appointment_id: int, now: datetime | None = None
) -> str:
    """The principal revokes an appointment at once; returns its grant.

    A session acting on it is refused from its next request (``myna.proxy.web``).

    Revoking what is already revoked changes nothing.
    """
    now = now or utcnow()
    row = _own(session, appointment_id, principal_id=principal_id)
    grant = appointment_grant(row.id)
    if row.revoked_at is None:
        row.revoked_at = now
        record(
            session=session,
            principal_id=principal_id,
            proxy_id=row.proxy_id,
            grant=grant,
            action="revoked",
            now=now,
        )
        session.flush()
    return grant


# --- the activity record ------------------------------------------------------------


def record(
    *,
    session: Session,
    principal_id: int,
    proxy_id: int,
    grant: str,
    action: str,
    detail: str | None = None,
    now: datetime | None = None,
) -> None:
    """Write what a proxy did (or what happened to an appointment), where it happens."""
    session.add(
        ProxyActivity(
            occurred_at=now or utcnow(),
            principal_id=principal_id,
            proxy_id=proxy_id,
            grant=grant[:40],
            action=action[:32],
            detail=None if detail is None else detail[:200],
        )
    )
    session.flush()


def activity_for(*, session: Session, principal_id: int) -> list[ActivityView]:
    """What proxies did for the principal (and their appointments' history), newest first."""
    names: dict[int, str] = {}
    found = []
    for row in repository.activity_of_principal(session, principal_id, ACTIVITY_LIMIT):
        if row.proxy_id not in names:
            names[row.proxy_id] = name_of(session=session, resident_id=row.proxy_id)
        found.append(
            ActivityView(
                occurred_at=row.occurred_at,
                proxy_name=names[row.proxy_id],
                kind=parse_grant(row.grant)[0],
                action=row.action,
                detail=row.detail,
            )
        )
    return found
