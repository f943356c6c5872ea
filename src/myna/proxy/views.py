"""The proxies' pages: acting for someone, appointment codes, appointing, accepting, revoking.

``GET /proxy`` lists whom the resident may act for (their children under 15, accepted
appointments), appointments waiting for their acceptance, and the proxies they
appointed. ``POST /proxy/act`` starts acting; ``POST /proxy/stop`` comes back.
``POST /proxy/code`` shows a one-time code to hand to whoever appoints you;
``/proxy/appoint`` appoints with such a code; ``.../accept`` and ``.../revoke`` (with a
confirmation page) do what they say. Every page but ``/proxy/stop`` is the resident's
own (``CurrentResident``): a session acting for someone cannot appoint, accept or act
for a third person (no re-delegation).
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from myna.platform.clock import today_in_japan
from myna.platform.errors import MynaError, RateLimitedError
from myna.platform.params import RowId
from myna.platform.ratelimit import Limit
from myna.platform.sessions import (
    RESIDENT,
    CsrfField,
    CurrentResident,
    ResidentBrowser,
    check_csrf,
)
from myna.platform.web import get_container, templates_beside, transaction
from myna.proxy import service
from myna.proxy.domain import (
    MAX_APPOINTMENT_DAYS,
    SCOPE_LABELS,
    InvalidUntilError,
    Scope,
    parse_scopes,
    scopes_text,
)

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}
AppointmentId = Annotated[RowId, Path()]
Grant = Annotated[str, Form(min_length=3, max_length=40, pattern=r"^[a-z]+:[0-9]{1,12}$")]


def _scope_choices() -> list[tuple[str, str]]:
    return [(scope.value, SCOPE_LABELS[scope]) for scope in Scope]


@router.get("/proxy", response_class=HTMLResponse)
def proxy_home(request: Request, current: CurrentResident) -> Response:
    now = get_container(request).proxy_clock()
    with transaction(request) as db:
        acting = service.authorities_for(session=db, proxy_id=current.resident_id, now=now)
        received = service.appointments_received(session=db, proxy_id=current.resident_id, now=now)
        made = service.appointments_made(session=db, principal_id=current.resident_id, now=now)
    return templates.page(
        request,
        "proxy/index.html",
        proxy_authorities=acting,
        proxy_pending=[v for v in received if v.status == "pending"],
        proxy_made=made,
        proxy_scope_labels={s.value: label for s, label in SCOPE_LABELS.items()},
        proxy_done=request.query_params.get("done", "")[:20],
        csrf_token=current.csrf_token,
        headers=NO_STORE,
    )


@router.post("/proxy/act")
def act(
    request: Request, current: CurrentResident, csrf_token: CsrfField, grant: Grant
) -> Response:
    """Start acting for the person ``grant`` names (the resident's own authority only)."""
    check_csrf(current, csrf_token)
    container = get_container(request)
    with transaction(request) as db:
        now = container.proxy_clock()
        authority = service.authority_of(
            session=db, proxy_id=current.resident_id, grant=grant, now=now
        )
        name = service.name_of(session=db, resident_id=authority.principal_id)
        container.sessions.act_for(
            db,
            RESIDENT,
            current.token,
            subject_id=authority.principal_id,
            grant=authority.grant,
            label=name,
            scopes=scopes_text(authority.scopes),
        )
        service.record(
            session=db,
            principal_id=authority.principal_id,
            proxy_id=current.resident_id,
            grant=authority.grant,
            action="started",
            now=now,
        )
    return RedirectResponse("/home", status_code=303)


@router.post("/proxy/stop")
def stop(request: Request, browser: ResidentBrowser, csrf_token: CsrfField) -> Response:
    """Back to one's own portal (also fine when the session was not acting)."""
    session = check_csrf(browser, csrf_token)
    if session.subject_id is None:
        raise RESIDENT.login_error
    container = get_container(request)
    with transaction(request) as db:
        container.sessions.stop_acting(db, RESIDENT, session.token)
        if session.acting_for_id is not None and session.acting_grant is not None:
            service.record(
                session=db,
                principal_id=session.acting_for_id,
                proxy_id=session.subject_id,
                grant=session.acting_grant,
                action="stopped",
                now=container.proxy_clock(),
            )
    return RedirectResponse("/proxy", status_code=303)


@router.post("/proxy/code", response_class=HTMLResponse)
def code(request: Request, current: CurrentResident, csrf_token: CsrfField) -> Response:
    """A one-time code for whoever will appoint this resident as their proxy."""
    check_csrf(current, csrf_token)
    with transaction(request) as db:
        issued, expires_at = service.issue_code(
            session=db, resident_id=current.resident_id, now=get_container(request).proxy_clock()
        )
    return templates.page(
        request,
        "proxy/code.html",
        proxy_code=issued,
        proxy_code_expires_at=expires_at,
        headers=NO_STORE,
    )


def _appoint_page(
    request: Request,
    csrf_token: str,
    *,
    problem: str = "",
    chosen: frozenset[str] = frozenset(),
    until: str = "",
    status_code: int = 200,
) -> Response:
    today = today_in_japan(get_container(request).proxy_clock())
    return templates.page(
        request,
        "proxy/appoint.html",
        proxy_scopes=_scope_choices(),
        proxy_chosen=chosen,
        proxy_until=until,
        proxy_today=today,
        proxy_max_days=MAX_APPOINTMENT_DAYS,
        proxy_problem=problem,
        csrf_token=csrf_token,
        status_code=status_code,
        headers=NO_STORE,
    )


@router.get("/proxy/appoint", response_class=HTMLResponse)
def appoint_page(request: Request, current: CurrentResident) -> Response:
    return _appoint_page(request, current.csrf_token)


@router.post("/proxy/appoint")
def appoint(
    request: Request,
    current: CurrentResident,
    csrf_token: CsrfField,
    code: Annotated[str, Form(max_length=40)] = "",
    until: Annotated[str, Form(max_length=10)] = "",
    scope: Annotated[list[str], Form(max_length=8)] = [],  # noqa: B006 - FastAPI form default
) -> Response:
    """Appoint whoever holds ``code``; a refusal shows the form again with the reason."""
    check_csrf(current, csrf_token)
    chosen = frozenset(scope[:8])
    # A code is 60 random bits, but guessing at it is still counted (per resident).
    if not get_container(request).rate_limiter.allow(Limit.ONE_TIME_CODE, str(current.resident_id)):
        raise RateLimitedError
    try:
        scopes = parse_scopes(chosen)
        try:
            last_day = date.fromisoformat(until)
        except ValueError as exc:
            raise InvalidUntilError(days=MAX_APPOINTMENT_DAYS) from exc
        with transaction(request) as db:
            service.appoint(
                session=db,
                principal_id=current.resident_id,
                code=code,
                scopes=scopes,
                until=last_day,
                now=get_container(request).proxy_clock(),
            )
    except MynaError as error:
        if error.status_code != 422:
            raise
        return _appoint_page(
            request,
            current.csrf_token,
            problem=error.localized(),
            chosen=chosen,
            until=until,
            status_code=422,
        )
    return RedirectResponse("/proxy?done=appointed", status_code=303)


@router.post("/proxy/appointments/{appointment_id}/accept")
def accept(
    request: Request,
    current: CurrentResident,
    appointment_id: AppointmentId,
    csrf_token: CsrfField,
) -> Response:
    check_csrf(current, csrf_token)
    with transaction(request) as db:
        service.accept(
            session=db,
            proxy_id=current.resident_id,
            appointment_id=appointment_id,
            now=get_container(request).proxy_clock(),
        )
    return RedirectResponse("/proxy?done=accepted", status_code=303)


@router.get("/proxy/appointments/{appointment_id}/revoke", response_class=HTMLResponse)
def revoke_page(
    request: Request, current: CurrentResident, appointment_id: AppointmentId
) -> Response:
    """Confirm before revoking (取消の確認)."""
    with transaction(request) as db:
        view = service.appointment_for_principal(
            session=db,
            principal_id=current.resident_id,
            appointment_id=appointment_id,
            now=get_container(request).proxy_clock(),
        )
    return templates.page(
        request,
        "proxy/revoke.html",
        proxy_appointment=view,
        proxy_scope_labels={s.value: label for s, label in SCOPE_LABELS.items()},
        csrf_token=current.csrf_token,
        headers=NO_STORE,
    )


@router.post("/proxy/appointments/{appointment_id}/revoke")
def revoke(
    request: Request,
    current: CurrentResident,
    appointment_id: AppointmentId,
    csrf_token: CsrfField,
) -> Response:
    """Revoke at once: a session acting on it is refused at its next request, and told so."""
    check_csrf(current, csrf_token)
    with transaction(request) as db:
        service.revoke(
            session=db,
            principal_id=current.resident_id,
            appointment_id=appointment_id,
            now=get_container(request).proxy_clock(),
        )
    return RedirectResponse("/proxy?done=revoked", status_code=303)
