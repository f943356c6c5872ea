"""The resident's pages of the authentication app: consent to a business's login request,
the signature that gives it the basic 4 info, and a business's signing transaction.

``/authapp/consent/{id}`` shows the business and the items it asks for; when the basic 4
info are among them, the resident first signs with the signing certificate
(``POST …/sign``, then the waiting page ``…/signing``, the same as for an application)
and the page shows the values read from the certificate; ``POST`` consents (a code goes
back to the business) or refuses (``access_denied``). ``/authapp/sign/{id}`` shows a
signing transaction — the business, the title, the documents' digests — and starts the
card's signature the same way. Every page needs the resident's card login
(``CurrentResident``); a login request or a transaction is the first resident's who
opens it, and "not found" for anyone else.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from myna.applications import submission
from myna.applications.resident_views import signing_link
from myna.authapp import oidc, signing
from myna.authapp.domain import ID_PATTERN, IdentityNotSignedError
from myna.platform.errors import MynaError
from myna.platform.forms import InvalidFormInputError, Posted, SettingsDep
from myna.platform.sessions import CurrentResident, ResidentSession, check_csrf
from myna.platform.web import csp_allowing_form_targets, templates_beside, transaction

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}
ItemId = Annotated[str, Path(min_length=43, max_length=43, pattern=ID_PATTERN)]
RequestId = Annotated[str, Path(min_length=20, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _consent_page(
    request: Request,
    settings: SettingsDep,
    current: ResidentSession,
    authorization_id: str,
    error: MynaError | None = None,
) -> Response:
    with transaction(request) as db:
        view = oidc.consent_view(
            session=db,
            settings=settings,
            authorization_id=authorization_id,
            resident_id=current.resident_id,
        )
    return templates.page(
        request,
        "authapp/consent.html",
        csrf_token=current.csrf_token,
        authapp_consent=view,
        authapp_error=None if error is None else error.localized(),
        status_code=200 if error is None else error.status_code,
        headers={
            **NO_STORE,
            "Content-Security-Policy": csp_allowing_form_targets(_origin(view.redirect_uri)),
        },
    )


@router.get(oidc.CONSENT_PATH + "/{authorization_id}", response_class=HTMLResponse)
def consent_page(
    request: Request, settings: SettingsDep, current: CurrentResident, authorization_id: ItemId
) -> Response:
    return _consent_page(request, settings, current, authorization_id)


@router.post(oidc.CONSENT_PATH + "/{authorization_id}")
def answer(
    request: Request,
    settings: SettingsDep,
    current: CurrentResident,
    authorization_id: ItemId,
    posted: Posted,
) -> Response:
    """Consent (a code goes back to the business) or refuse (``access_denied``)."""
    check_csrf(current, posted.get("csrf_token"))
    decision = posted.get("decision", "")
    if decision not in ("consent", "refuse"):
        raise InvalidFormInputError
    try:
        with transaction(request) as db:
            if decision == "refuse":
                target = oidc.deny(
                    session=db,
                    settings=settings,
                    authorization_id=authorization_id,
                    resident_id=current.resident_id,
                )
            else:
                target = oidc.approve(
                    session=db,
                    settings=settings,
                    authorization_id=authorization_id,
                    resident_id=current.resident_id,
                    auth_time=current.authenticated_at,
                )
    except IdentityNotSignedError as error:
        return _consent_page(request, settings, current, authorization_id, error)
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


@router.post(oidc.CONSENT_PATH + "/{authorization_id}/sign")
def sign_identity(
    request: Request,
    settings: SettingsDep,
    current: CurrentResident,
    authorization_id: ItemId,
    posted: Posted,
) -> Response:
    """Open the card's signature that gives the basic 4 info; refused at once when the
    signing certificate is revoked or expired."""
    check_csrf(current, posted.get("csrf_token"))
    try:
        with transaction(request) as db:
            view = signing.prepare_identity_signature(
                session=db,
                settings=settings,
                authorization_id=authorization_id,
                resident_id=current.resident_id,
            )
    except submission.SigningCertificateError as error:
        return _consent_page(request, settings, current, authorization_id, error)
    if view.done_path is not None:
        return RedirectResponse(view.done_path, status_code=303)
    return RedirectResponse(
        f"{oidc.CONSENT_PATH}/{authorization_id}/signing", status_code=303, headers=NO_STORE
    )


def _waiting(
    request: Request,
    settings: SettingsDep,
    current: ResidentSession,
    signing_request_id: str | None,
    *,
    heading: str,
    back_href: str,
) -> Response:
    if signing_request_id is None:
        return RedirectResponse(back_href, status_code=303)
    with transaction(request) as db:
        view = submission.request_for_resident(
            session=db, request_id=signing_request_id, resident_id=current.resident_id
        )
        state = submission.status(
            session=db, request_id=signing_request_id, resident_id=current.resident_id
        )
    if view.done_path is not None:
        return RedirectResponse(view.done_path, status_code=303)
    return templates.page(
        request,
        "authapp/signing.html",
        headers=NO_STORE,
        authapp_heading=heading,
        authapp_signing=view,
        authapp_signing_state=state,
        authapp_signing_link=signing_link(settings.reader_url, settings.portal_url, view.id),
        authapp_signing_answers=view.document["answers"],
        authapp_back_href=back_href,
        authapp_again_href=request.url.path,
    )


@router.get(oidc.CONSENT_PATH + "/{authorization_id}/signing", response_class=HTMLResponse)
def identity_waiting(
    request: Request, settings: SettingsDep, current: CurrentResident, authorization_id: ItemId
) -> Response:
    with transaction(request) as db:
        view = oidc.consent_view(
            session=db,
            settings=settings,
            authorization_id=authorization_id,
            resident_id=current.resident_id,
        )
    return _waiting(
        request,
        settings,
        current,
        view.signing_request_id,
        heading=view.client.name,
        back_href=f"{oidc.CONSENT_PATH}/{authorization_id}",
    )


# --- signing transactions -----------------------------------------------------------------


def _sign_page(
    request: Request, current: ResidentSession, request_id: str, error: MynaError | None = None
) -> Response:
    with transaction(request) as db:
        page = signing.sign_request_page(
            session=db, request_id=request_id, resident_id=current.resident_id
        )
    return templates.page(
        request,
        "authapp/sign.html",
        csrf_token=current.csrf_token,
        authapp_sign=page,
        authapp_error=None if error is None else error.localized(),
        status_code=200 if error is None else error.status_code,
        headers=NO_STORE,
    )


@router.get(signing.SIGN_PATH + "/{request_id}", response_class=HTMLResponse)
def sign_page(request: Request, current: CurrentResident, request_id: ItemId) -> Response:
    return _sign_page(request, current, request_id)


@router.post(signing.SIGN_PATH + "/{request_id}")
def sign(
    request: Request, current: CurrentResident, request_id: ItemId, posted: Posted
) -> Response:
    """Open the card's signature over the business's documents; refused at once when the
    signing certificate is revoked or expired (no signing request is made)."""
    check_csrf(current, posted.get("csrf_token"))
    try:
        with transaction(request) as db:
            view = signing.prepare_signature(
                session=db, request_id=request_id, resident_id=current.resident_id
            )
    except submission.SigningCertificateError as error:
        return _sign_page(request, current, request_id, error)
    if view.done_path is not None:
        return RedirectResponse(view.done_path, status_code=303)
    return RedirectResponse(f"{signing.SIGN_PATH}/{request_id}/signing", status_code=303)


@router.get(signing.SIGN_PATH + "/{request_id}/signing", response_class=HTMLResponse)
def sign_waiting(
    request: Request, settings: SettingsDep, current: CurrentResident, request_id: ItemId
) -> Response:
    with transaction(request) as db:
        page = signing.sign_request_page(
            session=db, request_id=request_id, resident_id=current.resident_id
        )
    return _waiting(
        request,
        settings,
        current,
        page.signing_request_id,
        heading=page.client_name,
        back_href=f"{signing.SIGN_PATH}/{request_id}",
    )
