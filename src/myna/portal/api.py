"""The portal's JSON API: card login for any client (see docs/card-login.md)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response, status

from myna import jpki, registry
from myna.cardlogin import ChallengeView
from myna.cardlogin.web import ChallengeIdPath
from myna.platform.api_errors import error_responses
from myna.platform.attributes import from_attributes
from myna.platform.encoding import b64url, b64url_decode
from myna.platform.ratelimit import Limit
from myna.platform.sessions import (
    RESIDENT,
    CurrentResident,
    ResidentCookie,
    SameOrigin,
    SessionStore,
    clear_session_cookie,
    set_session_cookie,
)
from myna.platform.settings import Settings
from myna.platform.web import client_address, get_container, one_hop, transaction
from myna.portal import service
from myna.portal.dependencies import log_out
from myna.portal.schemas import (
    AnswerIn,
    AnswerOut,
    ChallengeOut,
    ResidentOut,
)

router = APIRouter(prefix="/api", tags=["card login"])
ERRORS = error_responses(400, 401, 403, 404, 409, 410, 413, 422, 429)


def _login_attempt(request: Request) -> tuple[Settings, SessionStore]:
    """Count a login attempt; the settings and the session store.

    The two login routes read these here rather than as dependencies: FastAPI solves
    every dependency of every request anew, which cost more than the two values. The
    session cookie stays a declared dependency (``ResidentCookie``): what reads a
    browser session says so, for the checks that walk the routes.
    """
    container = get_container(request)
    container.rate_limiter.hit(Limit.LOGIN, client_address(request))
    return container.settings, container.sessions


def _challenge_out(view: ChallengeView) -> ChallengeOut:
    return from_attributes(ChallengeOut, view, to_be_signed=b64url(view.to_be_signed))


@router.post(
    "/login/challenges",
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="Start a card login: a single-use challenge bound to this client's session",
)
@one_hop
def create_challenge(
    request: Request,
    response: Response,
    cookie: ResidentCookie,
) -> ChallengeOut:
    settings, sessions = _login_attempt(request)
    # The session is looked up inside the route's own transaction: one thread hop.
    with transaction(request) as db:
        browser = sessions.load(db, RESIDENT, cookie) or sessions.open(db, RESIDENT)
        view = service.start_login(session=db, settings=settings, session_token=browser.token)
    if browser.is_new:
        set_session_cookie(request, response, RESIDENT, browser)
    return _challenge_out(view)


@router.get(
    "/login/challenges/{challenge_id}",
    responses=ERRORS,
    summary="Read a challenge to answer (for the card reader), whatever its audience",
)
def read_challenge(
    challenge_id: ChallengeIdPath,
    request: Request,
) -> ChallengeOut:
    with transaction(request) as db:
        return _challenge_out(service.get_challenge(session=db, challenge_id=challenge_id))


@router.post(
    "/login/challenges/{challenge_id}/response",
    responses=ERRORS,
    summary="Answer a challenge with the card's certificate and signature",
)
@one_hop
def answer_challenge(
    challenge_id: ChallengeIdPath,
    body: AnswerIn,
    request: Request,
    response: Response,
    cookie: ResidentCookie,
) -> AnswerOut:
    settings, sessions = _login_attempt(request)
    try:
        certificate = b64url_decode(body.certificate.replace("+", "-").replace("/", "_"))
        signature = b64url_decode(body.signature.replace("+", "-").replace("/", "_"))
    except ValueError as exc:
        raise jpki.VerificationError("malformed_certificate") from exc
    with transaction(request) as db:
        browser = sessions.load(db, RESIDENT, cookie)
        outcome = service.answer_challenge(
            session=db,
            settings=settings,
            sessions=sessions,
            challenge_id=challenge_id,
            certificate_der=certificate,
            signature=signature,
            client_ip=client_address(request),
            session_token=browser.token if browser is not None else None,
            unlock=body.unlock.assertion() if body.unlock is not None else None,
        )
    # Same-device login: the client that asked for the challenge answered it itself.
    if outcome.logged_in is not None and outcome.resident is not None:
        set_session_cookie(request, response, RESIDENT, outcome.logged_in)
        return AnswerOut(
            status="logged_in",
            resident=_resident_out(outcome.resident, outcome.logged_in.certificate_not_after),
        )
    return AnswerOut(status="verified")


@router.get("/me", responses=ERRORS, summary="The logged-in resident")
def me(request: Request, current: CurrentResident) -> ResidentOut:
    with transaction(request) as db:
        resident = registry.get_resident(session=db, resident_id=current.resident_id)
    return _resident_out(resident, current.certificate_not_after)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERRORS,
    summary="End the session",
    dependencies=[SameOrigin],
)
def api_logout(request: Request, response: Response, current: CurrentResident) -> None:
    log_out(request, token=current.token, resident_id=current.resident_id)
    clear_session_cookie(request, response, RESIDENT)


def _resident_out(
    resident: registry.ResidentRead, certificate_not_after: datetime | None
) -> ResidentOut:
    return ResidentOut(
        name=resident.full_name,
        name_kana=resident.full_name_kana,
        birth_date=resident.birth_date,
        municipality=resident.municipality_name,
        certificate_not_after=certificate_not_after,
    )
