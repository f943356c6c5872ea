"""The portal's JSON API: card login for any client (see docs/card-login.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from sqlalchemy.orm import Session

from myna import jpki, registry
from myna.platform.encoding import b64url, b64url_decode
from myna.platform.ratelimit import Limit
from myna.platform.settings import Settings
from myna.platform.web import client_address, transaction
from myna.portal import service
from myna.portal.dependencies import (
    LoginLimiterDep,
    SessionCookie,
    SettingsDep,
    browser_session,
    clear_session_cookie,
    current_session,
    resident_session,
    set_session_cookie,
)
from myna.portal.schemas import (
    AnswerIn,
    AnswerOut,
    ChallengeIdPath,
    ChallengeOut,
    ErrorOut,
    ResidentOut,
)

router = APIRouter(prefix="/api", tags=["card login"])
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorOut} for code in (400, 401, 403, 404, 409, 410, 413, 422, 429)
}


def _challenge_out(view: service.ChallengeView) -> ChallengeOut:
    return ChallengeOut(
        challenge_id=view.challenge_id,
        nonce=view.nonce,
        origin=view.origin,
        status=view.status,
        expires_at=view.expires_at,
        to_be_signed=b64url(view.to_be_signed),
    )


@router.post(
    "/login/challenges",
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="Start a card login: a single-use challenge bound to this client's session",
)
def create_challenge(
    request: Request,
    response: Response,
    settings: SettingsDep,
    limiter: LoginLimiterDep,
    cookie: SessionCookie,
) -> ChallengeOut:
    with transaction(request) as db:
        limiter.hit(Limit.LOGIN, client_address(request))
        browser = browser_session(db, settings, cookie)
        view = service.start_login(session=db, settings=settings, session_token=browser.token)
        if browser.is_new:
            set_session_cookie(response, browser, settings)
        return _challenge_out(view)


@router.get(
    "/login/challenges/{challenge_id}",
    responses=ERRORS,
    summary="Read a challenge to answer (for the card reader)",
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
def answer_challenge(
    challenge_id: ChallengeIdPath,
    body: AnswerIn,
    request: Request,
    response: Response,
    settings: SettingsDep,
    limiter: LoginLimiterDep,
    cookie: SessionCookie,
) -> AnswerOut:
    with transaction(request) as db:
        limiter.hit(Limit.LOGIN, client_address(request))
        try:
            certificate = b64url_decode(body.certificate.replace("+", "-").replace("/", "_"))
            signature = b64url_decode(body.signature.replace("+", "-").replace("/", "_"))
        except ValueError as exc:
            raise jpki.VerificationError("malformed_certificate") from exc
        outcome = service.answer_challenge(
            session=db,
            settings=settings,
            challenge_id=challenge_id,
            certificate_der=certificate,
            signature=signature,
            client_ip=client_address(request),
            session_token=_live_token(db, settings, cookie),
        )
        # Same-device login: the client that asked for the challenge answered it itself.
        if outcome.logged_in is not None:
            set_session_cookie(response, outcome.logged_in, settings)
            return AnswerOut(
                status="logged_in", resident=_resident_out(outcome.resident, outcome.logged_in)
            )
        return AnswerOut(status="verified")


@router.get("/me", responses=ERRORS, summary="The logged-in resident")
def me(request: Request, settings: SettingsDep, cookie: SessionCookie) -> ResidentOut:
    with transaction(request) as db:
        active = resident_session(db, settings, cookie)
        assert active.resident_id is not None  # noqa: S101 - guaranteed by resident_session
        resident = registry.get_resident(session=db, resident_id=active.resident_id)
        return _resident_out(resident, active)


@router.post(
    "/logout", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS, summary="End the session"
)
def api_logout(
    request: Request,
    response: Response,
    settings: SettingsDep,
    cookie: SessionCookie,
) -> None:
    with transaction(request) as db:
        active = resident_session(db, settings, cookie)
        service.logout(session=db, session_token=active.token, client_ip=client_address(request))
        clear_session_cookie(response, settings)


def _live_token(db: Session, settings: Settings, cookie: str | None) -> str | None:
    current = current_session(db, settings, cookie)
    return current.token if current is not None else None


def _resident_out(resident: registry.ResidentRead, active: service.ActiveSession) -> ResidentOut:
    return ResidentOut(
        name=resident.full_name,
        name_kana=resident.full_name_kana,
        birth_date=resident.birth_date,
        municipality=resident.municipality_name,
        certificate_not_after=active.certificate_not_after,
    )
