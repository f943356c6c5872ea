"""The clinic's counter web app (see the package docstring).

One reception (受付) walks: start → the card on the reader → PIN, or the staff confirm
the face → the patient's three consent answers → the institution's result screen. The
counter keeps its open receptions in memory (per process), as a reader device does; the
eligibility service holds the truth and refuses any step out of order.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from myna import card
from myna.card.protocol import counter_message
from myna.counter.client import FHIR_JSON, EligibilityClient
from myna.counter.identity import InstitutionIdentity, load_identities
from myna.counter.screens import InstitutionView, check_by_number, result_view
from myna.platform.errors import N_, MynaError
from myna.platform.i18n import gettext as _
from myna.platform.logging import get_logger
from myna.platform.operations import (
    app_operations,
    directory_check,
    http_check,
    install_operations,
)
from myna.platform.settings import Settings
from myna.platform.web import (
    NO_TELEMETRY,
    BodySizeLimitMiddleware,
    LocaleMiddleware,
    RejectNulMiddleware,
    SecurityHeadersMiddleware,
    UnexpectedErrorMiddleware,
    language_router,
    secure_cookies,
    templates_beside,
)

if TYPE_CHECKING:
    from myna.bootstrap import Container

log = get_logger(__name__)
TEMPLATES = templates_beside(__file__)
PLATFORM_STATIC = Path(__file__).parent.parent / "platform" / "static"
CSRF_COOKIE = "myna_counter_csrf"
# A fallback lookup is kept for the staff to read the result again and download it; the
# numbers it was asked with stay in this process's memory no longer than this.
LOOKUP_HOLD = timedelta(hours=1)

Code = Annotated[str, PathParam(pattern=r"^[0-9]{10}$")]
VisitId = Annotated[str, PathParam(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
LookupId = Annotated[str, PathParam(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Token = Annotated[str, Form(max_length=64)]

# Where a reception is: the card to put on the reader, the identification (PIN or face),
# the consent questions, the result.
PLACE_CARD, IDENTIFY, CONSENTS, RESULT = "card", "identify", "consents", "result"


class UnknownInstitutionError(MynaError, code="unknown_institution", status_code=404):
    message = N_("This counter has no institution with the code {code}. Choose one from the list.")


class UnknownReceptionError(MynaError, code="unknown_reception", status_code=404):
    message = N_(
        "This reception is not open at this counter (it may have ended, or the counter "
        "was restarted). Start a new reception."
    )


class CardNotPlacedError(MynaError, code="card_not_placed"):
    message = N_("Choose the card to put on the reader.")


@dataclass
class Reception:
    """A visit as this counter holds it while the patient is at the reader."""

    code: str
    visit_id: str
    nonce: str
    kept_until: datetime
    step: str = PLACE_CARD
    card_id: str | None = None


@dataclass(frozen=True, slots=True)
class Lookup:
    """A confirmation by the 資格確認書's numbers, kept to show and download its result."""

    code: str
    query: dict[str, str]
    kept_until: datetime


@dataclass
class Counter:
    """The counter's parts: the institutions' keys, the reader's cards, the service."""

    institution_dir: Path
    cards: card.VirtualCardReader
    service: EligibilityClient
    receptions: dict[str, Reception] = field(default_factory=dict)
    lookups: dict[str, Lookup] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def institutions(self) -> dict[str, InstitutionIdentity]:
        """The institutions configured now (``myna medical register`` may add one any time)."""
        return load_identities(self.institution_dir)

    def institution(self, code: str) -> InstitutionIdentity:
        """The institution ``code``, or UnknownInstitutionError."""
        found = self.institutions().get(code)
        if found is None:
            raise UnknownInstitutionError(code=code)
        return found

    def open(self, reception: Reception) -> None:
        """Keep a new reception."""
        with self.lock:
            self._sweep()
            self.receptions[reception.visit_id] = reception

    def reception(self, code: str, visit_id: str) -> Reception:
        """The open reception ``visit_id`` of institution ``code``."""
        with self.lock:
            self._sweep()
            found = self.receptions.get(visit_id)
        if found is None or found.code != code:
            raise UnknownReceptionError
        return found

    def keep_lookup(self, lookup: Lookup) -> str:
        """Keep a fallback lookup; its id."""
        lookup_id = secrets.token_urlsafe(16)
        with self.lock:
            self._sweep()
            self.lookups[lookup_id] = lookup
        return lookup_id

    def lookup(self, code: str, lookup_id: str) -> Lookup:
        """A kept fallback lookup of institution ``code``."""
        with self.lock:
            self._sweep()
            found = self.lookups.get(lookup_id)
        if found is None or found.code != code:
            raise UnknownReceptionError
        return found

    def _sweep(self) -> None:
        now = datetime.now(UTC)
        for key in [k for k, r in self.receptions.items() if r.kept_until <= now]:
            del self.receptions[key]
        for key in [k for k, x in self.lookups.items() if x.kept_until <= now]:
            del self.lookups[key]


router = APIRouter()


def _counter(request: Request) -> Counter:
    counter: Counter = request.app.state.counter
    return counter


def _render(
    request: Request,
    name: str,
    status_code: int = 200,
    *,
    return_path: str | None = None,
    **values: Any,
) -> Response:
    # A page a POST answered switches language to its GET page, never to the POST path.
    values["return_path"] = return_path or request.url.path
    return TEMPLATES.page(request, name, status_code=status_code, **values)


def _csrf_token(request: Request) -> str:
    token: str = getattr(request.state, "counter_csrf", None) or (
        request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    )
    request.state.counter_csrf = token
    return token


def _with_csrf(request: Request, response: Response) -> Response:
    response.set_cookie(
        CSRF_COOKIE,
        _csrf_token(request),
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/",
    )
    return response


def _form(request: Request, name: str, status_code: int = 200, **values: Any) -> Response:
    """A page with forms: the CSRF token in the page and in a strict cookie."""
    values.setdefault("error", None)
    values.setdefault("counter_errors", {})
    response = _render(request, name, status_code, csrf_token=_csrf_token(request), **values)
    return _with_csrf(request, response)


def _csrf_ok(request: Request, token: str) -> bool:
    expected = request.cookies.get(CSRF_COOKIE, "")
    return bool(expected) and secrets.compare_digest(expected, token)


def _problem(
    request: Request, message: str, status_code: int = 400, *, code: str | None = None
) -> Response:
    """A page that says what went wrong and where to go on from."""
    return _render(
        request,
        "counter/problem.html",
        status_code,
        return_path="/" if code is None else f"/{code}/",
        message=message,
        counter_code=code,
    )


def _expired(request: Request, code: str | None) -> Response:
    message = _("The form has expired. Please reload the page and try again.")
    return _problem(request, message, 403, code=code)


def _refused(request: Request, exc: MynaError, code: str | None = None) -> Response:
    log.info("counter_refused", error=exc.code)
    return _problem(request, exc.localized(), exc.status_code, code=code)


def _institution(request: Request, code: str) -> InstitutionIdentity:
    return _counter(request).institution(code)


def _to_visit(code: str, visit_id: str, suffix: str = "") -> RedirectResponse:
    return RedirectResponse(f"/{code}/visits/{visit_id}{suffix}", status_code=303)


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    found = _counter(request).institutions()
    if len(found) == 1:
        (only,) = found
        return RedirectResponse(f"/{only}/", status_code=303)
    institutions = [InstitutionView.of(identity) for identity in found.values()]
    return _render(request, "counter/index.html", counter_institutions=institutions)


@router.get("/{code}/", response_class=HTMLResponse)
def reception(request: Request, code: Code) -> Response:
    try:
        identity = _institution(request, code)
    except MynaError as exc:
        return _refused(request, exc)
    return _form(
        request,
        "counter/reception.html",
        counter_institution=InstitutionView.of(identity),
        counter_several=len(_counter(request).institutions()) > 1,
    )


@router.post("/{code}/visits", response_class=HTMLResponse)
def start(request: Request, code: Code, csrf_token: Token) -> Response:
    if not _csrf_ok(request, csrf_token):
        return _expired(request, code)
    counter = _counter(request)
    try:
        started = counter.service.start_visit(_institution(request, code))
    except MynaError as exc:
        return _refused(request, exc, code)
    counter.open(Reception(code, started.visit_id, started.nonce, kept_until=started.expires_at))
    log.info("reception_started", institution=code)
    return _to_visit(code, started.visit_id)


def _visit_page(
    request: Request,
    identity: InstitutionIdentity,
    found: Reception,
    status_code: int = 200,
    **v: Any,
) -> Response:
    counter = _counter(request)
    values: dict[str, Any] = {
        "counter_institution": InstitutionView.of(identity),
        "counter_visit": found,
        "return_path": f"/{found.code}/visits/{found.visit_id}",
        **v,
    }
    if found.step == PLACE_CARD:
        return _form(
            request, "counter/card.html", status_code, cards=counter.cards.list_cards(), **values
        )
    if found.step == IDENTIFY:
        placed = next((c for c in counter.cards.list_cards() if c.card_id == found.card_id), None)
        return _form(request, "counter/identify.html", status_code, counter_card=placed, **values)
    if found.step == CONSENTS:
        values.setdefault("counter_values", {})
        return _form(request, "counter/consents.html", status_code, **values)
    return _to_visit(found.code, found.visit_id, "/result")


@router.get("/{code}/visits/{visit_id}", response_class=HTMLResponse)
def visit(request: Request, code: Code, visit_id: VisitId) -> Response:
    counter = _counter(request)
    try:
        identity = _institution(request, code)
        found = counter.reception(code, visit_id)
    except MynaError as exc:
        return _refused(request, exc, code)
    return _visit_page(request, identity, found)


class _Answered(Exception):  # noqa: N818 - not an error: the page is already decided
    """A step that cannot go on: ``response`` (a refusal, or back to the visit) is the answer."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


async def _answered(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _Answered)  # noqa: S101 - registered for _Answered only
    return exc.response


def _at_step(
    request: Request, code: str, visit_id: str, *steps: str
) -> tuple[InstitutionIdentity, Reception]:
    """The institution and the reception at one of ``steps``; else the page to show instead."""
    counter = _counter(request)
    try:
        identity = _institution(request, code)
        found = counter.reception(code, visit_id)
    except MynaError as exc:
        raise _Answered(_refused(request, exc, code)) from exc
    if found.step not in steps:
        raise _Answered(_to_visit(code, visit_id))
    return identity, found


def _open_step(
    request: Request, code: str, visit_id: str, csrf_token: str, *steps: str
) -> tuple[InstitutionIdentity, Reception]:
    """The institution and the reception for a step's form (the form's token checked)."""
    if not _csrf_ok(request, csrf_token):
        raise _Answered(_expired(request, code))
    return _at_step(request, code, visit_id, *steps)


@router.post("/{code}/visits/{visit_id}/card", response_class=HTMLResponse)
def place_card(
    request: Request,
    code: Code,
    visit_id: VisitId,
    csrf_token: Token,
    card_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    identity, found = _open_step(request, code, visit_id, csrf_token, PLACE_CARD, IDENTIFY)
    counter = _counter(request)
    if card_id not in {c.card_id for c in counter.cards.list_cards()}:
        found.step = PLACE_CARD
        error = CardNotPlacedError().localized()
        return _visit_page(request, identity, found, 400, error=error)
    found.card_id, found.step = card_id, IDENTIFY
    return _to_visit(code, visit_id)


@router.post("/{code}/visits/{visit_id}/remove", response_class=HTMLResponse)
def remove_card(request: Request, code: Code, visit_id: VisitId, csrf_token: Token) -> Response:
    _identity, found = _open_step(request, code, visit_id, csrf_token, IDENTIFY)
    found.card_id, found.step = None, PLACE_CARD
    return _to_visit(code, visit_id)


def _certificate(counter: Counter, card_id: str) -> str:
    der = counter.cards.read_certificate(card_id, "auth").public_bytes(Encoding.DER)
    return base64.b64encode(der).decode("ascii")


def _identified(
    request: Request, identity: InstitutionIdentity, found: Reception, send: Any
) -> Response:
    """Send the card's answer; on success the consent questions, else what went wrong."""
    try:
        send()
    except MynaError as exc:
        return _refused(request, exc, identity.code)
    found.step = CONSENTS
    return _to_visit(found.code, found.visit_id)


@router.post("/{code}/visits/{visit_id}/pin", response_class=HTMLResponse)
def identify_with_pin(
    request: Request,
    code: Code,
    visit_id: VisitId,
    csrf_token: Token,
    pin: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    identity, found = _open_step(request, code, visit_id, csrf_token, IDENTIFY)
    counter = _counter(request)
    card_id = found.card_id or ""
    message = counter_message(institution_code=code, visit_id=visit_id, nonce=found.nonce)
    try:
        # The card counts a wrong PIN and locks itself after the third.
        signature = counter.cards.sign(card_id, "auth", pin, message)
        certificate = _certificate(counter, card_id)
    except MynaError as exc:
        return _visit_page(request, identity, found, 400, counter_errors={"pin": exc.localized()})
    return _identified(
        request,
        identity,
        found,
        lambda: counter.service.present_pin(
            identity,
            visit_id=visit_id,
            certificate=certificate,
            signature=base64.b64encode(signature).decode("ascii"),
        ),
    )


@router.post("/{code}/visits/{visit_id}/face", response_class=HTMLResponse)
def identify_by_face(
    request: Request,
    code: Code,
    visit_id: VisitId,
    csrf_token: Token,
    face_matches: Annotated[str, Form(max_length=8)] = "",
    staff_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    identity, found = _open_step(request, code, visit_id, csrf_token, IDENTIFY)
    counter = _counter(request)
    staff = staff_name.strip()
    errors: dict[str, str] = {}
    if face_matches != "yes":
        errors["face_matches"] = _("Confirm that the patient's face matches the photo on the card.")
    if not staff or len(staff) > 100:
        errors["staff_name"] = _(
            "Enter the name of the staff member who confirmed (up to 100 characters)."
        )
    if errors:
        return _visit_page(
            request, identity, found, 400, counter_errors=errors, counter_staff=staff_name
        )
    try:
        certificate = _certificate(counter, found.card_id or "")
    except MynaError as exc:
        return _visit_page(request, identity, found, 400, error=exc.localized())
    return _identified(
        request,
        identity,
        found,
        lambda: counter.service.present_face(
            identity, visit_id=visit_id, certificate=certificate, staff=staff
        ),
    )


CONSENT_QUESTIONS = ("medication", "checkup", "limit")


@router.post("/{code}/visits/{visit_id}/consents", response_class=HTMLResponse)
def answer_consents(
    request: Request,
    code: Code,
    visit_id: VisitId,
    csrf_token: Token,
    medication: Annotated[str, Form(max_length=3)] = "",
    checkup: Annotated[str, Form(max_length=3)] = "",
    limit: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    identity, found = _open_step(request, code, visit_id, csrf_token, CONSENTS)
    answers = {"medication": medication, "checkup": checkup, "limit": limit}
    errors = {
        name: _("Choose 同意する (agree) or 同意しない (do not agree).")
        for name, value in answers.items()
        if value not in ("yes", "no")
    }
    if errors:
        return _visit_page(
            request, identity, found, 400, counter_errors=errors, counter_values=answers
        )
    try:
        given = _counter(request).service.answer_consents(
            identity,
            visit_id=visit_id,
            medication=medication == "yes",
            checkup=checkup == "yes",
            limit=limit == "yes",
        )
    except MynaError as exc:
        return _refused(request, exc, code)
    found.step = RESULT
    found.kept_until = max(found.kept_until, given.view_until)
    return _to_visit(code, visit_id, "/result")


def _result_page(
    request: Request, identity: InstitutionIdentity, answer: Any, fhir: str
) -> Response:
    return _render(
        request,
        "counter/result.html",
        counter_institution=InstitutionView.of(identity),
        counter_result=result_view(answer),
        counter_fhir=fhir,
    )


@router.get("/{code}/visits/{visit_id}/result", response_class=HTMLResponse)
def visit_result(request: Request, code: Code, visit_id: VisitId) -> Response:
    identity, _found = _at_step(request, code, visit_id, RESULT)
    try:
        answer = _counter(request).service.result(identity, visit_id=visit_id)
    except MynaError as exc:
        return _refused(request, exc, code)
    return _result_page(request, identity, answer, f"/{code}/visits/{visit_id}/result.fhir.json")


def _fhir_download(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type=FHIR_JSON,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/{code}/visits/{visit_id}/result.fhir.json")
def visit_result_fhir(request: Request, code: Code, visit_id: VisitId) -> Response:
    identity, _found = _at_step(request, code, visit_id, RESULT)
    try:
        content = _counter(request).service.result_fhir(identity, visit_id=visit_id)
    except MynaError as exc:
        return _refused(request, exc, code)
    return _fhir_download(content, f"eligibility-{visit_id}.json")


@router.get("/{code}/by-number", response_class=HTMLResponse)
def by_number_form(request: Request, code: Code) -> Response:
    try:
        identity = _institution(request, code)
    except MynaError as exc:
        return _refused(request, exc)
    return _form(
        request,
        "counter/by_number.html",
        counter_institution=InstitutionView.of(identity),
        counter_values={},
    )


@router.post("/{code}/by-number", response_class=HTMLResponse)
def by_number(
    request: Request,
    code: Code,
    csrf_token: Token,
    insurer_number: Annotated[str, Form(max_length=16)] = "",
    symbol: Annotated[str, Form(max_length=40)] = "",
    number: Annotated[str, Form(max_length=40)] = "",
    branch: Annotated[str, Form(max_length=4)] = "",
    birth_date: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if not _csrf_ok(request, csrf_token):
        return _expired(request, code)
    counter = _counter(request)
    try:
        identity = _institution(request, code)
    except MynaError as exc:
        return _refused(request, exc)
    typed = {
        "insurer_number": insurer_number,
        "symbol": symbol,
        "number": number,
        "branch": branch,
        "birth_date": birth_date,
    }
    query, errors = check_by_number(typed, today=datetime.now(UTC).date())
    values = {
        "counter_institution": InstitutionView.of(identity),
        "counter_values": typed,
        "return_path": f"/{code}/by-number",
    }
    if errors:
        return _form(request, "counter/by_number.html", 400, counter_errors=errors, **values)
    try:
        counter.service.by_number(identity, query)
    except MynaError as exc:
        return _form(request, "counter/by_number.html", 400, error=exc.localized(), **values)
    now = datetime.now(UTC)
    lookup_id = counter.keep_lookup(Lookup(code, query, now + LOOKUP_HOLD))
    return RedirectResponse(f"/{code}/lookups/{lookup_id}", status_code=303)


@router.get("/{code}/lookups/{lookup_id}", response_class=HTMLResponse)
def lookup_result(request: Request, code: Code, lookup_id: LookupId) -> Response:
    counter = _counter(request)
    try:
        identity = _institution(request, code)
        kept = counter.lookup(code, lookup_id)
        answer = counter.service.by_number(identity, kept.query)
    except MynaError as exc:
        return _refused(request, exc, code)
    return _result_page(request, identity, answer, f"/{code}/lookups/{lookup_id}/result.fhir.json")


@router.get("/{code}/lookups/{lookup_id}/result.fhir.json")
def lookup_result_fhir(request: Request, code: Code, lookup_id: LookupId) -> Response:
    counter = _counter(request)
    try:
        identity = _institution(request, code)
        kept = counter.lookup(code, lookup_id)
        content = counter.service.by_number_fhir(identity, kept.query)
    except MynaError as exc:
        return _refused(request, exc, code)
    return _fhir_download(content, "eligibility.json")


async def _http_problem(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    if status == 404:
        message = _("There is no such page at this counter. Choose the institution again.")
    elif status == 405:
        message = _("This page cannot be opened that way. Go back and use its button.")
    else:
        message = _("Something went wrong. Please try again later.")
    return _problem(request, message, status)


async def _invalid_request(request: Request, _exc: Exception) -> Response:
    message = _("The request was not complete. Go back, reload the page and try again.")
    return _problem(request, message, 400)


def create_counter_app(
    source: Container | Settings, *, http_client: httpx.Client | None = None
) -> FastAPI:
    """The counter over the institutions in ``settings.institution_dir`` and the cards in
    ``settings.card_dir``, speaking to the eligibility service at ``settings.portal_url``."""
    settings = source if isinstance(source, Settings) else source.settings
    http = http_client or httpx.Client(timeout=15.0)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if http_client is None:
            http.close()

    app = FastAPI(
        telemetry=NO_TELEMETRY,
        title="Myna clinic counter",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.counter = Counter(
        institution_dir=settings.institution_dir,
        cards=card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value()),
        service=EligibilityClient(http, settings.portal_url),
    )
    app.include_router(router)
    app.include_router(language_router)
    app.add_exception_handler(_Answered, _answered)
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.mount("/static", StaticFiles(directory=PLATFORM_STATIC), name="static")
    app.add_middleware(UnexpectedErrorMiddleware)  # innermost: a 500 gets the headers
    app.add_middleware(LocaleMiddleware)
    app.add_middleware(RejectNulMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, limit=64 * 1024)
    app.add_middleware(SecurityHeadersMiddleware)
    # /healthz, /readyz (the cards, the portal's service), /metrics, request ids.
    checks = [
        directory_check("cards", settings.card_dir),
        http_check("portal", http, f"{settings.portal_url.rstrip('/')}/healthz"),
    ]
    install_operations(app, app_operations(settings, checks))
    return app
