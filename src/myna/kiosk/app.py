"""The certificate kiosk web app (see the package docstring).

One use walks: the first screen → the card on the reader → the PIN → the certificate and
its options, with the fee → the PDF, then another certificate or the card taken out. The
kiosk keeps its open sessions in memory (per process), as a copier does; the certificate
service holds the truth and refuses any step out of order.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
from myna.card.protocol import kiosk_message
from myna.kiosk.client import Choices, KioskClient
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
    language_router,
    templates_beside,
)

if TYPE_CHECKING:
    from myna.bootstrap import Container

log = get_logger(__name__)
TEMPLATES = templates_beside(__file__)
PLATFORM_STATIC = Path(__file__).parent.parent / "platform" / "static"
KIOSK_STATIC = Path(__file__).parent / "static"
CSRF_COOKIE = "myna_kiosk_csrf"
KIOSK_ID = "kiosk-0001"

SessionId = Annotated[str, PathParam(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
Number = Annotated[str, PathParam(pattern=r"^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$")]
Token = Annotated[str, Form(max_length=64)]
Flag = Annotated[str, Form(max_length=8)]

# Where a use is: the card to put on the reader, the PIN, the menu, a certificate received.
PLACE_CARD, PIN, MENU, DONE = "card", "pin", "menu", "done"
KINDS = ("resident-record", "seal-registration", "tax")


class UnknownKioskSessionError(MynaError, code="kiosk_unknown_session", status_code=404):
    message = N_(
        "This use of the kiosk has ended (the card was taken out, or it was left too "
        "long). Start again from the first screen."
    )


class KioskCardNotPlacedError(MynaError, code="kiosk_card_not_placed"):
    message = N_("Choose the card to put on the reader.")


class KioskPinFormatError(MynaError, code="kiosk_pin_format"):
    message = N_("Enter the card's 4-digit PIN (暗証番号).")


class KioskNoKindError(MynaError, code="kiosk_no_kind"):
    message = N_("Choose the certificate you need.")


def kind_label(kind: str) -> str:
    """A form's name in the kiosk's language."""
    labels = {
        "resident-record": _("Copy of the residence record (住民票の写し)"),
        "seal-registration": _("Seal registration certificate (印鑑登録証明書)"),
        "tax": _("Tax and income certificate (課税（所得）証明書)"),
    }
    return labels.get(kind, kind)


@dataclass
class Use:
    """A resident at the kiosk, as this kiosk holds it while they stand there."""

    session_id: str
    nonce: str
    kept_until: datetime
    step: str = PLACE_CARD
    card_id: str | None = None
    choices: Choices | None = None
    received: dict[str, tuple[str, int, bytes]] = field(default_factory=dict)
    last: str | None = None  # the number of the certificate just received


@dataclass
class Kiosk:
    """The kiosk's parts: its id, the reader's cards, the service, the open uses."""

    kiosk_id: str
    cards: card.VirtualCardReader
    service: KioskClient
    uses: dict[str, Use] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, use: Use) -> None:
        """Keep a new use."""
        with self.lock:
            self._sweep()
            self.uses[use.session_id] = use

    def use(self, session_id: str) -> Use:
        """The open use ``session_id``."""
        with self.lock:
            self._sweep()
            found = self.uses.get(session_id)
        if found is None:
            raise UnknownKioskSessionError
        return found

    def close(self, session_id: str) -> None:
        """Forget a use (its PDFs with it)."""
        with self.lock:
            self.uses.pop(session_id, None)

    def _sweep(self) -> None:
        now = datetime.now(UTC)
        for key in [k for k, u in self.uses.items() if u.kept_until <= now]:
            del self.uses[key]


router = APIRouter()


def _kiosk(request: Request) -> Kiosk:
    kiosk: Kiosk = request.app.state.kiosk
    return kiosk


def _csrf_token(request: Request) -> str:
    token: str = getattr(request.state, "kiosk_csrf", None) or (
        request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    )
    request.state.kiosk_csrf = token
    return token


def _render(
    request: Request, name: str, status_code: int = 200, *, return_path: str | None = None, **v: Any
) -> Response:
    v["return_path"] = return_path or request.url.path
    v.setdefault("error", None)
    response = TEMPLATES.page(
        request, name, status_code=status_code, csrf_token=_csrf_token(request), **v
    )
    response.set_cookie(
        CSRF_COOKIE, _csrf_token(request), httponly=True, samesite="strict", path="/"
    )
    return response


def _csrf_ok(request: Request, token: str) -> bool:
    expected = request.cookies.get(CSRF_COOKIE, "")
    return bool(expected) and secrets.compare_digest(expected, token)


def _problem(request: Request, message: str, status_code: int = 400) -> Response:
    return _render(request, "kiosk/problem.html", status_code, return_path="/", message=message)


def _refused(request: Request, exc: MynaError) -> Response:
    log.info("kiosk_refused", error=exc.code)
    return _problem(request, exc.localized(), exc.status_code)


def _to_use(session_id: str, suffix: str = "") -> RedirectResponse:
    return RedirectResponse(f"/sessions/{session_id}{suffix}", status_code=303)


class _Answered(Exception):  # noqa: N818 - not an error: the page is already decided
    """A step that cannot go on: ``response`` is the answer."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


async def _answered(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, _Answered)  # noqa: S101 - registered for _Answered only
    return exc.response


def _at(request: Request, session_id: str, token: str | None, *steps: str) -> Use:
    """The open use at one of ``steps`` (the form's token checked when one is posted)."""
    if token is not None and not _csrf_ok(request, token):
        message = _("The screen has expired. Please start again from the first screen.")
        raise _Answered(_problem(request, message, 403))
    try:
        found = _kiosk(request).use(session_id)
    except MynaError as exc:
        raise _Answered(_refused(request, exc)) from exc
    if found.step not in steps:
        raise _Answered(_to_use(session_id))
    return found


@router.get("/", response_class=HTMLResponse)
def start_screen(request: Request) -> Response:
    """The copier's first screen: 証明書交付."""
    return _render(request, "kiosk/start.html")


@router.post("/sessions", response_class=HTMLResponse)
def start(request: Request, csrf_token: Token) -> Response:
    """Open a session with the certificate service."""
    if not _csrf_ok(request, csrf_token):
        return _problem(request, _("The screen has expired. Please start again."), 403)
    kiosk = _kiosk(request)
    try:
        opened = kiosk.service.open_session(kiosk.kiosk_id)
    except MynaError as exc:
        return _refused(request, exc)
    kiosk.open(Use(opened.session_id, opened.nonce, kept_until=opened.expires_at))
    return _to_use(opened.session_id)


def _page(request: Request, found: Use, status_code: int = 200, **v: Any) -> Response:
    kiosk = _kiosk(request)
    values: dict[str, Any] = {
        "kiosk_use": found,
        "return_path": f"/sessions/{found.session_id}",
        **v,
    }
    if found.step == PLACE_CARD:
        return _render(
            request, "kiosk/card.html", status_code, cards=kiosk.cards.list_cards(), **values
        )
    if found.step == PIN:
        placed = next((c for c in kiosk.cards.list_cards() if c.card_id == found.card_id), None)
        return _render(request, "kiosk/pin.html", status_code, kiosk_card=placed, **values)
    if found.step == MENU and found.choices is not None:
        values.setdefault("kiosk_values", {})
        return _render(
            request,
            "kiosk/menu.html",
            status_code,
            kiosk_choices=found.choices,
            kiosk_kinds=[(k, kind_label(k), found.choices.fees.get(k, 0)) for k in KINDS],
            **values,
        )
    return _to_use(found.session_id, "/done")


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
def use_page(request: Request, session_id: SessionId) -> Response:
    """The screen of the step the use is at."""
    try:
        found = _kiosk(request).use(session_id)
    except MynaError as exc:
        return _refused(request, exc)
    return _page(request, found)


@router.post("/sessions/{session_id}/card", response_class=HTMLResponse)
def place_card(
    request: Request,
    session_id: SessionId,
    csrf_token: Token,
    card_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The card on the reader."""
    found = _at(request, session_id, csrf_token, PLACE_CARD, PIN)
    if card_id not in {c.card_id for c in _kiosk(request).cards.list_cards()}:
        found.step = PLACE_CARD
        return _page(request, found, 400, error=KioskCardNotPlacedError().localized())
    found.card_id, found.step = card_id, PIN
    return _to_use(session_id)


@router.post("/sessions/{session_id}/pin", response_class=HTMLResponse)
def enter_pin(
    request: Request,
    session_id: SessionId,
    csrf_token: Token,
    pin: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """The PIN: the card signs the kiosk's message; the service checks card and signature."""
    found = _at(request, session_id, csrf_token, PIN)
    kiosk = _kiosk(request)
    if not (len(pin) == 4 and pin.isascii() and pin.isdigit()):
        return _page(request, found, 400, error=KioskPinFormatError().localized())
    message = kiosk_message(kiosk_id=kiosk.kiosk_id, session_id=session_id, nonce=found.nonce)
    card_id = found.card_id or ""
    try:
        # The card counts a wrong PIN and locks itself after the third.
        signature = kiosk.cards.sign(card_id, "auth", pin, message)
        der = kiosk.cards.read_certificate(card_id, "auth").public_bytes(Encoding.DER)
    except MynaError as exc:
        return _page(request, found, 400, error=exc.localized())
    try:
        found.choices = kiosk.service.present_card(
            session_id,
            certificate=base64.b64encode(der).decode("ascii"),
            signature=base64.b64encode(signature).decode("ascii"),
        )
    except MynaError as exc:
        return _refused(request, exc)
    found.step = MENU
    return _to_use(session_id)


@router.post("/sessions/{session_id}/issue", response_class=HTMLResponse)
def issue(
    request: Request,
    session_id: SessionId,
    csrf_token: Token,
    kind: Annotated[str, Form(max_length=32)] = "",
    scope: Annotated[str, Form(max_length=16)] = "household",
    members: Annotated[list[str] | None, Form(max_length=12)] = None,
    relation: Flag = "",
    domicile: Flag = "",
    my_number: Flag = "",
) -> Response:
    """The certificate chosen: the service issues it, the kiosk hands over the PDF."""
    found = _at(request, session_id, csrf_token, MENU)
    typed = {
        "kind": kind,
        "scope": scope,
        "members": members or [],
        "relation": relation,
        "domicile": domicile,
        "my_number": my_number,
    }
    if kind not in KINDS:
        return _page(request, found, 400, error=KioskNoKindError().localized(), kiosk_values=typed)
    chosen = [int(m) for m in (members or [])[:20] if m.isascii() and m.isdigit() and len(m) < 10]
    try:
        got = _kiosk(request).service.issue(
            session_id,
            kind=kind,
            scope=scope if scope in ("household", "chosen") else "household",
            members=chosen,
            relation=relation == "yes",
            domicile=domicile == "yes",
            my_number=my_number == "yes",
        )
    except MynaError as exc:
        return _page(request, found, exc.status_code, error=exc.localized(), kiosk_values=typed)
    found.received[got.number] = (kind, got.fee, got.pdf)
    found.last, found.step = got.number, DONE
    log.info("kiosk_issued", kind=kind)
    return _to_use(session_id, "/done")


@router.get("/sessions/{session_id}/done", response_class=HTMLResponse)
def done(request: Request, session_id: SessionId) -> Response:
    """The certificate received: its number, the fee, the download."""
    found = _at(request, session_id, None, DONE)
    number = found.last or ""
    kind, fee, _pdf = found.received[number]
    return _render(
        request,
        "kiosk/done.html",
        kiosk_use=found,
        kiosk_number=number,
        kiosk_kind=kind_label(kind),
        kiosk_fee=fee,
    )


@router.post("/sessions/{session_id}/another", response_class=HTMLResponse)
def another(request: Request, session_id: SessionId, csrf_token: Token) -> Response:
    """Back to the menu for another certificate (the card still on the reader)."""
    found = _at(request, session_id, csrf_token, DONE)
    found.step = MENU
    return _to_use(session_id)


@router.get("/sessions/{session_id}/documents/{number}.pdf")
def document(request: Request, session_id: SessionId, number: Number) -> Response:
    """A PDF received in this use."""
    found = _at(request, session_id, None, DONE, MENU)
    if number not in found.received:
        return _refused(request, UnknownKioskSessionError())
    _kind, _fee, pdf = found.received[number]
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="certificate-{number}.pdf"',
        },
    )


@router.post("/sessions/{session_id}/end", response_class=HTMLResponse)
def end(request: Request, session_id: SessionId, csrf_token: Token) -> Response:
    """The card is taken out: the session ends here and at the service."""
    if not _csrf_ok(request, csrf_token):
        return _problem(request, _("The screen has expired. Please start again."), 403)
    kiosk = _kiosk(request)
    kiosk.close(session_id)
    try:
        kiosk.service.end(session_id)
    except MynaError as exc:
        log.info("kiosk_end_refused", error=exc.code)
    return RedirectResponse("/", status_code=303)


async def _http_problem(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
    if status == 404:
        message = _("There is no such screen at this kiosk. Start again from the first screen.")
    elif status == 405:
        message = _("This screen cannot be opened that way. Go back and use its button.")
    else:
        message = _("Something went wrong. Please try again later.")
    return _problem(request, message, status)


async def _invalid_request(request: Request, _exc: Exception) -> Response:
    message = _("The request was not complete. Start again from the first screen.")
    return _problem(request, message, 400)


def create_kiosk_app(
    source: Container | Settings, *, http_client: httpx.Client | None = None
) -> FastAPI:
    """The kiosk over the cards in ``settings.card_dir``, speaking to the certificate
    service at ``settings.portal_url``."""
    settings = source if isinstance(source, Settings) else source.settings
    http = http_client or httpx.Client(timeout=30.0)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if http_client is None:
            http.close()

    app = FastAPI(
        telemetry=NO_TELEMETRY,
        title="Myna certificate kiosk",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.kiosk = Kiosk(
        kiosk_id=KIOSK_ID,
        cards=card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value()),
        service=KioskClient(http, settings.portal_url),
    )
    app.include_router(router)
    app.include_router(language_router)
    app.add_exception_handler(_Answered, _answered)
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.mount("/static/kiosk", StaticFiles(directory=KIOSK_STATIC), name="kiosk-static")
    app.mount("/static", StaticFiles(directory=PLATFORM_STATIC), name="static")
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
