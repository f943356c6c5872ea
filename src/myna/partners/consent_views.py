"""Consent pages: consent to an organisation, the receipts, the list, revocation.

``GET /consent/{pending_id}`` shows what a pending authorization asks for — the
organisation, its purpose, every item with its source agency and how long it may be
kept — with a checkbox per item; ``POST`` consents (a signed receipt is kept and the
browser goes back to the organisation with a code) or refuses (``access_denied``). A
pending authorization is the first resident's who opens it, and "not found" for anyone else.
``/consents`` lists the resident's consents with every use, ``/consents/{id}`` shows one
and its receipt (``/consents/{id}/receipt``), ``POST /consents/{id}/revoke`` withdraws
it once the resident ticks the confirmation, and its tokens die at once. A new
consent to the same organisation replaces the one in force. Every page needs the resident's login
(``CurrentResident``, from the platform's sessions) and shows only their own consents.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from myna.partners import authorization, consents
from myna.platform.errors import N_, MynaError
from myna.platform.forms import InvalidFormInputError, Posted, PostedMany, SettingsDep
from myna.platform.ratelimit import Limit
from myna.platform.sessions import CurrentResident, ResidentSession, check_csrf
from myna.platform.web import (
    csp_allowing_form_targets,
    get_container,
    templates_beside,
    transaction,
)

templates = templates_beside(__file__)
NO_STORE = {"Cache-Control": "no-store"}
RETRY_AFTER_SECONDS = 60
PendingId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
ConsentId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
router = APIRouter(include_in_schema=False)


class ConsentRateLimitedError(MynaError):
    code = "consent_rate_limited"
    message = N_("You have sent too many consent answers in a short time. Please wait a minute.")
    status_code = 429


class WithdrawalNotConfirmedError(MynaError):
    code = "withdrawal_not_confirmed"
    message = N_("Tick the box to confirm that you want to withdraw the consent.")
    status_code = 422


class UnsafeRedirectError(MynaError):
    code = "unsafe_redirect"
    message = N_("The organisation's return address could not be confirmed.")
    status_code = 400


def _checked_redirect(url: str, redirect_uri: str) -> str:
    """The authorization server's answer, but only towards the registered redirect URI."""
    target, registered = urlsplit(url), urlsplit(redirect_uri)
    same = (target.scheme, target.netloc, target.path) == (
        registered.scheme,
        registered.netloc,
        registered.path,
    )
    if not same or target.fragment:
        raise UnsafeRedirectError
    return url


def _download(filename: str) -> dict[str, str]:
    return {
        **NO_STORE,
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
    }


def _origin(url: str) -> str:
    """The scheme and host of a registered redirect URI (its CSP source)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _count_consent(request: Request, resident_id: int) -> None:
    # Consenting is a deliberate act: a few a minute is plenty, more is a script.
    if not get_container(request).rate_limiter.allow(Limit.CONSENT, str(resident_id)):
        raise ConsentRateLimitedError


def _consent_form(
    request: Request,
    current: ResidentSession,
    pending_id: str,
    error: MynaError | None = None,
) -> Response:
    with transaction(request) as db:
        pending = authorization.pending_request(
            session=db, pending_id=pending_id, resident_id=current.resident_id
        )
        offered = consents.offers(pending.client, pending.scopes)
    return templates.page(
        request,
        "partners/consent.html",
        csrf_token=current.csrf_token,
        consent_pending_id=pending_id,
        consent_client=pending.client,
        consent_offers=offered,
        consent_expires_at=pending.expires_at,
        consent_error=None if error is None else error.localized(),
        status_code=200 if error is None else error.status_code,
        headers={
            **NO_STORE,
            "Content-Security-Policy": csp_allowing_form_targets(_origin(pending.redirect_uri)),
        },
    )


@router.get("/consent/{pending_id}", response_class=HTMLResponse)
def consent_page(request: Request, current: CurrentResident, pending_id: PendingId) -> Response:
    return _consent_form(request, current, pending_id)


@router.post("/consent/{pending_id}")
def answer(
    request: Request,
    settings: SettingsDep,
    current: CurrentResident,
    pending_id: PendingId,
    posted: PostedMany,
) -> Response:
    """Consent to the ticked items (a receipt is signed) or refuse; back to the organisation."""
    check_csrf(current, next(iter(posted.get("csrf_token", [])), None))
    resident_id = current.resident_id
    try:
        with transaction(request) as db:
            _count_consent(request, resident_id)
            decision = next(iter(posted.get("decision", [])), "")
            if decision not in ("consent", "refuse"):
                raise InvalidFormInputError
            pending = authorization.pending_request(
                session=db, pending_id=pending_id, resident_id=resident_id
            )
            if decision == "refuse":
                url = authorization.deny(
                    session=db, settings=settings, pending_id=pending_id, resident_id=resident_id
                )
            else:
                consent = consents.create_consent(
                    session=db,
                    settings=settings,
                    resident_id=resident_id,
                    client=pending.client,
                    scopes=pending.scopes,
                    chosen=posted.get("item", []),
                )
                url = authorization.approve(
                    session=db,
                    settings=settings,
                    pending_id=pending_id,
                    resident_id=resident_id,
                    consent_id=consent.id,
                    scopes=list(consent.scopes),
                    auth_time=current.authenticated_at,
                )
            target = _checked_redirect(url, pending.redirect_uri)
    except ConsentRateLimitedError as error:
        return templates.page(
            request,
            "partners/consent_limited.html",
            message=error.localized(),
            status_code=429,
            headers={**NO_STORE, "Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    except consents.NothingChosenError as error:
        return _consent_form(request, current, pending_id, error)
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


@router.get("/consents", response_class=HTMLResponse)
def consent_list(request: Request, current: CurrentResident) -> Response:
    with transaction(request) as db:
        found = consents.list_consents(session=db, resident_id=current.resident_id)
    return templates.page(request, "partners/consents.html", consent_list=found, headers=NO_STORE)


def _detail_page(
    request: Request,
    settings: SettingsDep,
    current: ResidentSession,
    consent_id: str,
    error: MynaError | None = None,
) -> Response:
    with transaction(request) as db:
        consent = consents.get_consent(
            session=db, resident_id=current.resident_id, consent_id=consent_id
        )
    return templates.page(
        request,
        "partners/consent_detail.html",
        csrf_token=current.csrf_token,
        consent=consent,
        consent_jwks_url=f"{settings.portal_url.rstrip('/')}/oauth/jwks",
        consent_done="" if error else request.query_params.get("done", "")[:20],
        consent_error=None if error is None else error.localized(),
        status_code=200 if error is None else error.status_code,
        headers=NO_STORE,
    )


@router.get("/consents/{consent_id}", response_class=HTMLResponse)
def consent_detail(
    request: Request, settings: SettingsDep, current: CurrentResident, consent_id: ConsentId
) -> Response:
    return _detail_page(request, settings, current, consent_id)


@router.get("/consents/{consent_id}/receipt")
def receipt(request: Request, current: CurrentResident, consent_id: ConsentId) -> Response:
    with transaction(request) as db:
        consent = consents.get_consent(
            session=db, resident_id=current.resident_id, consent_id=consent_id
        )
    return Response(
        consent.receipt,
        media_type="application/jwt",
        headers=_download("consent-receipt.jwt"),
    )


@router.post("/consents/{consent_id}/revoke")
def revoke(
    request: Request,
    settings: SettingsDep,
    current: CurrentResident,
    consent_id: ConsentId,
    posted: Posted,
) -> Response:
    """Withdraw the consent, once confirmed; the organisation's tokens stop working at once."""
    check_csrf(current, posted.get("csrf_token"))
    if posted.get("confirm") != "yes":
        # The box is required in the page; a browser that ignores that gets the page again.
        return _detail_page(request, settings, current, consent_id, WithdrawalNotConfirmedError())
    with transaction(request) as db:
        consents.revoke_consent(session=db, resident_id=current.resident_id, consent_id=consent_id)
    return RedirectResponse(f"/consents/{consent_id}?done=revoked", status_code=303)
