"""The virtual card reader web app (see the package docstring)."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar
from urllib.parse import urlencode, urlsplit

import httpx
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from myna import card, forms
from myna.card.protocol import login_message
from myna.platform.encoding import b64url, b64url_decode
from myna.platform.errors import N_, MynaError
from myna.platform.i18n import gettext as _
from myna.platform.logging import get_logger
from myna.platform.operations import app_operations, directory_check, install_operations
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
Asked = TypeVar("Asked")  # what a portal asks the card: a login challenge or a document
Answer = TypeVar("Answer")  # what the card gives back
TEMPLATES = templates_beside(__file__)
PLATFORM_STATIC = Path(__file__).parent.parent / "platform" / "static"
CSRF_COOKIE = "myna_reader_csrf"
CHALLENGE_PATH = "/api/login/challenges/"
SIGNING_PATH = "/api/signing-requests/"
# One id after the prefix: no dot segments, no further path, no query (the reader posts
# its answer to ``<request_uri>/response``, so the URI must name exactly one request).
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


def _portal_origin(request_uri: str, prefix: str, trusted: frozenset[str]) -> str:
    """The trusted origin ``request_uri`` names, if it is exactly ``<origin><prefix><id>``."""
    parts = urlsplit(request_uri)
    origin = f"{parts.scheme}://{parts.netloc}"
    exact = (
        parts.path.startswith(prefix)
        and _REQUEST_ID.fullmatch(parts.path.removeprefix(prefix)) is not None
        and not parts.query
        and not parts.fragment
    )
    if origin not in trusted or not exact:
        raise UntrustedPortalError(origin=origin)
    return origin


router = APIRouter()


class ReaderError(MynaError):
    """Something between the reader and the portal went wrong."""

    code = "reader_error"


class UntrustedPortalError(ReaderError):
    code = "untrusted_portal"
    message = N_(
        "This login request comes from a site the card reader does not trust: {origin}. "
        "Do not enter your PIN. Open the login page of the portal yourself."
    )


class NoPendingRequestError(ReaderError):
    code = "no_pending_request"
    message = N_(
        "The card reader was opened without a request from the portal. Start again from "
        "the portal's login page (or its signing page) and open the card reader from there."
    )


class PortalUnreachableError(ReaderError):
    code = "portal_unreachable"
    message = N_("The portal could not be reached. Check your connection and try again.")


class PortalRefusedError(ReaderError):
    code = "portal_refused"
    message = N_("The portal did not accept the answer: {reason}")


@dataclass(frozen=True, slots=True)
class SigningRequest:
    """A signing request fetched from a trusted portal: the document, checked and parsed."""

    origin: str
    request_id: str
    content: bytes
    document: dict[str, Any]

    @property
    def answers(self) -> list[forms.ReadableGroup]:
        """The document's data as the resident reads it, with the form's labels.

        The names of coded answers (a municipality's name for its code) are part of what
        is signed, so the reader shows them from the document, never looks them up.
        """
        return forms.document_answers(self.document)


@dataclass(frozen=True, slots=True)
class Challenge:
    """A challenge fetched from a trusted portal, with the message to sign.

    ``audience`` is whose login the portal says it is (``resident``, ``staff`` for its
    back office, ``staff-card`` to register a staff card): shown to the holder, never
    signed — the message binds the origin and the challenge, whatever the audience.
    """

    origin: str
    challenge_id: str
    message: bytes
    audience: str = "resident"


@dataclass
class Reader:
    """The reader's parts: the cards, an HTTP client, the portals it trusts."""

    cards: card.CardReader
    http: httpx.Client
    trusted: frozenset[str]

    def fetch(self, request_uri: str) -> Challenge:
        """Fetch and check a challenge; only trusted origins, only self-built messages."""
        origin = _portal_origin(request_uri, CHALLENGE_PATH, self.trusted)
        body = self._json(self._call("GET", request_uri))
        expected = login_message(
            origin=origin, challenge_id=str(body["challenge_id"]), nonce=str(body["nonce"])
        )
        if body.get("origin") != origin or b64url_decode(str(body["to_be_signed"])) != expected:
            raise UntrustedPortalError(origin=str(body.get("origin")))
        return Challenge(
            origin=origin,
            challenge_id=str(body["challenge_id"]),
            message=expected,
            audience=str(body.get("audience", "resident")),
        )

    def fetch_signing(self, request_uri: str) -> SigningRequest:
        """Fetch a signing request; the reader shows and signs only what it parsed itself."""
        origin = _portal_origin(request_uri, SIGNING_PATH, self.trusted)
        body = self._json(self._call("GET", request_uri))
        try:
            content = b64url_decode(str(body["to_be_signed"]))
            document = json.loads(content)
        except (KeyError, ValueError) as exc:
            raise PortalRefusedError(reason="to_be_signed") from exc
        digest_ok = hashlib.sha256(content).hexdigest() == body.get("content_sha256")
        if body.get("origin") != origin or not digest_ok or not isinstance(document, dict):
            raise UntrustedPortalError(origin=str(body.get("origin")))
        return SigningRequest(
            origin=origin,
            request_id=str(body.get("request_id")),
            content=content,
            document=document,
        )

    def answer_signing(self, request_uri: str, signature: bytes) -> str:
        """Send the CMS signature; the portal answers with the receipt number."""
        body = self._json(
            self._call("POST", f"{request_uri}/response", json={"signature": b64url(signature)})
        )
        return str(body.get("receipt_number", ""))

    def answer(self, request_uri: str, certificate: bytes, signature: bytes) -> None:
        """Send the card's answer to the portal."""
        self._json(
            self._call(
                "POST",
                f"{request_uri}/response",
                json={"certificate": b64url(certificate), "signature": b64url(signature)},
            )
        )

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, url, headers={"Accept": "application/json"}, **kwargs)
        except httpx.HTTPError as exc:
            raise PortalUnreachableError from exc

    @staticmethod
    def _json(response: httpx.Response) -> dict[str, Any]:
        try:
            body: dict[str, Any] = response.json()
        except ValueError as exc:
            raise PortalRefusedError(reason=response.status_code) from exc
        if response.status_code != 200:
            raise PortalRefusedError(reason=body.get("message", response.status_code))
        return body


def _reader(request: Request) -> Reader:
    reader: Reader = request.app.state.reader
    return reader


def _render(request: Request, name: str, status_code: int = 200, **values: Any) -> Response:
    request_uri = values.get("request_uri")
    if request_uri:
        # The language switch comes back to this request, even from a page a POST
        # answered: without its request_uri the page would have nothing to show.
        values.setdefault(
            "return_path", f"{request.url.path}?{urlencode({'request_uri': request_uri})}"
        )
    return TEMPLATES.page(request, name, **values, status_code=status_code)


def _form(request: Request, name: str, **values: Any) -> Response:
    """A page with a form: its CSRF token in the page and in a strict cookie."""
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = _render(request, name, csrf_token=token, error=None, **values)
    response.set_cookie(
        CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path="/",
    )
    return response


def _expired(request: Request) -> Response:
    message = _("The form has expired. Please reload the page and try again.")
    return _render(request, "reader/problem.html", 403, message=message)


def _problem(request: Request, exc: MynaError) -> Response:
    return _render(request, "reader/problem.html", 400, message=exc.localized())


@dataclass(frozen=True, slots=True)
class _CardStep(Generic[Asked]):
    """A portal request the card answers (a login challenge, a document to sign), as shown."""

    page: str
    fetch: Callable[[Reader, str], Asked]
    shown: Callable[[Asked], dict[str, Any]]


_LOGIN: _CardStep[Challenge] = _CardStep(
    "reader/authorize.html",
    Reader.fetch,
    lambda challenge: {"origin": challenge.origin, "audience": challenge.audience},
)
_SIGNING: _CardStep[SigningRequest] = _CardStep(
    "reader/sign.html", Reader.fetch_signing, lambda signing: {"signing": signing}
)


def _show(request: Request, step: _CardStep[Asked], request_uri: str) -> Response:
    """The step's form: what the portal asks, the cards to answer with."""
    if not request_uri:
        return _problem(request, NoPendingRequestError())
    reader = _reader(request)
    try:
        asked = step.fetch(reader, request_uri)
    except MynaError as exc:
        return _problem(request, exc)
    cards = reader.cards.list_cards()
    return _form(request, step.page, request_uri=request_uri, cards=cards, **step.shown(asked))


def _answer(
    request: Request,
    step: _CardStep[Asked],
    *,
    request_uri: str,
    card_id: str,
    csrf_token: str,
    use_card: Callable[[Asked], Answer],
    send: Callable[[Asked, Answer], Response],
) -> Response:
    """Check the form, fetch the request again, let the card answer it, send the answer.

    The card's errors (a wrong PIN or password, a locked key) show the form again; the
    portal's show a problem page.
    """
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return _expired(request)
    reader = _reader(request)
    try:
        asked = step.fetch(reader, request_uri)
    except MynaError as exc:
        return _problem(request, exc)
    try:
        answer = use_card(asked)
    except MynaError as exc:
        return _render(
            request,
            step.page,
            400,
            request_uri=request_uri,
            cards=reader.cards.list_cards(),
            csrf_token=expected,
            error=exc.localized(),
            selected=card_id,
            **step.shown(asked),
        )
    try:
        return send(asked, answer)
    except MynaError as exc:
        return _problem(request, exc)


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> Response:
    return _render(request, "reader/index.html", cards=_reader(request).cards.list_cards())


@router.get("/authorize", response_class=HTMLResponse)
def authorize_form(request: Request, request_uri: str = "") -> Response:
    return _show(request, _LOGIN, request_uri)


@router.post("/authorize", response_class=HTMLResponse)
def authorize(
    request: Request,
    request_uri: Annotated[str, Form(max_length=2048)],
    card_id: Annotated[str, Form(max_length=64)],
    pin: Annotated[str, Form(max_length=16)],
    csrf_token: Annotated[str, Form(max_length=64)],
) -> Response:
    reader = _reader(request)

    def sign(challenge: Challenge) -> tuple[bytes, bytes]:
        session = reader.cards.open_session(card_id, "auth", pin)
        return session.certificate.public_bytes(Encoding.DER), session.sign(challenge.message)

    def send(challenge: Challenge, answer: tuple[bytes, bytes]) -> Response:
        reader.answer(request_uri, *answer)
        log.info("challenge_answered", origin=challenge.origin)
        return _render(request, "reader/done.html", origin=challenge.origin)

    return _answer(
        request,
        _LOGIN,
        request_uri=request_uri,
        card_id=card_id,
        csrf_token=csrf_token,
        use_card=sign,
        send=send,
    )


@router.get("/sign", response_class=HTMLResponse)
def sign_form(request: Request, request_uri: str = "") -> Response:
    return _show(request, _SIGNING, request_uri)


@router.post("/sign", response_class=HTMLResponse)
def sign(
    request: Request,
    request_uri: Annotated[str, Form(max_length=2048)],
    card_id: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=32)],
    csrf_token: Annotated[str, Form(max_length=64)],
) -> Response:
    reader = _reader(request)

    def sign_cms(signing: SigningRequest) -> bytes:
        return reader.cards.open_session(card_id, "sign", password).sign_cms(signing.content)

    def send(signing: SigningRequest, signature: bytes) -> Response:
        receipt = reader.answer_signing(request_uri, signature)
        log.info("application_signed", origin=signing.origin)
        return _render(request, "reader/signed.html", origin=signing.origin, receipt_number=receipt)

    return _answer(
        request,
        _SIGNING,
        request_uri=request_uri,
        card_id=card_id,
        csrf_token=csrf_token,
        use_card=sign_cms,
        send=send,
    )


def create_reader_app(container: Container, *, http_client: httpx.Client | None = None) -> FastAPI:
    """The reader app over the cards in ``settings.card_dir``."""
    settings = container.settings
    http = http_client or httpx.Client(timeout=10.0)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if http_client is None:
            http.close()

    app = FastAPI(
        telemetry=NO_TELEMETRY,
        title="Myna virtual card reader",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.reader = Reader(
        cards=card.VirtualCardReader(settings.card_dir, settings.card_secret.get_secret_value()),
        http=http,
        trusted=frozenset(origin.rstrip("/") for origin in settings.trusted_portals),
    )
    app.include_router(router)
    app.include_router(language_router)
    app.mount("/static", StaticFiles(directory=PLATFORM_STATIC), name="static")
    app.add_middleware(UnexpectedErrorMiddleware)  # innermost: a 500 gets the headers
    app.add_middleware(LocaleMiddleware)
    app.add_middleware(RejectNulMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, limit=64 * 1024)
    app.add_middleware(SecurityHeadersMiddleware)
    # /healthz, /readyz (the cards can be read), /metrics, request ids in the logs.
    install_operations(app, app_operations(settings, [directory_check("cards", settings.card_dir)]))
    return app
