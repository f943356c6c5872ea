"""Web plumbing shared by every context's routes: DB sessions, templates, headers."""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.telemetry import TelemetryConfig
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from myna.platform import i18n
from myna.platform.db import unit_of_work
from myna.platform.i18n import gettext as _
from myna.platform.logging import get_logger
from myna.platform.urls import is_site_path

if TYPE_CHECKING:
    from myna.bootstrap import Container

# A strict policy: no inline script or style, nothing from elsewhere, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


def csp_allowing_form_targets(*origins: str) -> str:
    """The policy, letting forms go (or be redirected) to these origins too.

    ``form-action`` also governs where a form's answer redirects, so a page whose form
    ends in a redirect to another site (an organisation's redirect URI after consent)
    must name that site.
    """
    allowed = " ".join(["'self'", *origins])
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action {allowed}")


# Options for every uvicorn server Myna starts. uvicorn would believe X-Forwarded-For
# from 127.0.0.1 by default, so any local client could choose the address its rate
# limits count against; Myna trusts forwarded headers only from the proxies named in
# MYNA_TRUSTED_PROXIES (uvicorn's ProxyHeadersMiddleware, added by ``create_app``).
SERVER_OPTIONS: dict[str, Any] = {"proxy_headers": False, "server_header": False}


def client_address(request: Request) -> str:
    """The caller's address: the peer, or what a trusted proxy forwarded for it."""
    return request.client.host if request.client else "unknown"


log = get_logger(__name__)

SECURITY_HEADERS = {
    b"content-security-policy": CONTENT_SECURITY_POLICY.encode(),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
    b"cross-origin-opener-policy": b"same-origin",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=()",
}


def with_security_headers(start: Message, *, public: bool) -> list[tuple[bytes, bytes]]:
    """A response start's headers with the security headers it does not set itself.

    ``Cache-Control: no-store`` too, unless the answer says how it may be cached or is
    ``public`` (a static file): see :class:`SecurityHeadersMiddleware`.
    """
    headers = list(start.get("headers", []))
    present = {name.lower() for name, _ in headers}
    headers.extend((name, value) for name, value in SECURITY_HEADERS.items() if name not in present)
    if b"cache-control" not in present and not public:
        headers.append((b"cache-control", b"no-store"))
    return headers


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response (pure ASGI: cheap).

    A response that says nothing about caching gets ``Cache-Control: no-store``: pages
    and JSON answers carry personal data by default, so only what declares itself
    cacheable (CRLs, CA certificates, the static files under ``public_prefixes``) may be
    kept by a browser or a proxy.
    """

    def __init__(self, app: ASGIApp, *, public_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.public_prefixes = public_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        public = str(scope.get("path", "")).startswith(self.public_prefixes)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_security_headers(message, public=public)
            await send(message)

        await self.app(scope, receive, send_with_headers)


# What answers an unexpected exception: the app's page or JSON for a 500.
UnexpectedHandler = Callable[[Request, Exception], Awaitable[Response]]


class UnexpectedErrorMiddleware:
    """Answers an unexpected exception inside the other middleware, not outside them.

    Starlette hands a 500 to its ``ServerErrorMiddleware``, which sits outside every
    middleware an app adds: the answer would miss the security headers (CSP, no-store,
    nosniff). Added first, this one is innermost, so the 500 goes out through them all.
    Without a ``handler`` the answer is a short localized text. An exception after the
    answer has started is left to the server (nothing can be said any more).
    """

    def __init__(self, app: ASGIApp, *, handler: UnexpectedHandler | None = None) -> None:
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            await answer_unexpected(self.handler, scope, receive, send, exc)


async def answer_unexpected(
    handler: UnexpectedHandler | None, scope: Scope, receive: Receive, send: Send, exc: Exception
) -> None:
    """Answer an unexpected exception with ``handler``, or a short localized text."""
    if handler is None:
        log.exception("unhandled_error", path=scope.get("path", ""))
        await _plain(send, 500, _("Something went wrong on our side. Please try again later."))
        return
    response = await handler(Request(scope, receive), exc)
    await response(scope, receive, send)


class PublicReadMiddleware:
    """Lets pages of any origin read the documents under ``prefixes`` (CORS, Fetch standard).

    For public, non-personal documents only (the exchange log's key, heads and proofs):
    ``Access-Control-Allow-Origin: *`` without credentials, so a browser never sends
    the resident's cookies along, on every answer there — errors included, so a monitor
    sees why — and a preflight answered for GET.
    """

    ALLOW = (b"access-control-allow-origin", b"*")

    def __init__(self, app: ASGIApp, *, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await answer_preflight(send)
            return

        async def send_allowing(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.ALLOW]
            await send(message)

        await self.app(scope, receive, send_allowing)


async def answer_preflight(send: Send) -> None:
    """A CORS preflight for a public document, answered for GET (no credentials)."""
    await send(
        {
            "type": "http.response.start",
            "status": 204,
            "headers": [
                PublicReadMiddleware.ALLOW,
                (b"access-control-allow-methods", b"GET, HEAD"),
                (b"access-control-max-age", b"86400"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


class LocaleMiddleware:
    """Sets the request's locale: ``?lang=`` then the ``myna_lang`` cookie, then headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            i18n.set_locale(locale_of(scope))
        await self.app(scope, receive, send)


_LANG_COOKIE = "myna_lang"
_LANG_COOKIE_BYTES = _LANG_COOKIE.encode()


def locale_of(scope: Scope) -> str:
    """The request's locale: ``?lang=``, then the ``myna_lang`` cookie, then Accept-Language.

    Read from the raw scope: the query and the cookies are parsed only when they can
    name a language (most requests carry neither).
    """
    query: bytes = scope.get("query_string", b"")
    requested = QueryParams(query).get("lang") if b"lang" in query else None
    accept_language = cookie = None
    # The first of each header, as Starlette's Request reads them.
    for name, value in scope.get("headers", ()):
        if name == b"accept-language" and accept_language is None:
            accept_language = value.decode("latin-1")
        elif name == b"cookie" and cookie is None:
            cookie = value
    if not requested and cookie is not None and _LANG_COOKIE_BYTES in cookie:
        requested = cookie_parser(cookie.decode("latin-1")).get(_LANG_COOKIE)
    return i18n.negotiate(requested or None, accept_language)


def get_container(request: Request) -> Container:
    """The composition root's container, set on the app at creation."""
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated["Container", Depends(get_container)]


@contextmanager
def transaction(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed on success, rolled back on any error.

    Use it *inside* a route (``with transaction(request) as db:``), never as a
    dependency. FastAPI runs a sync route, each sync dependency and the response's
    validation in separate worker-thread hops; a transaction spanning hops would hold
    its locks (SQLite's single writer) while waiting for a free thread, and under load
    every thread could be waiting for it — a deadlock. Inside one hop it cannot.
    """
    with unit_of_work(get_container(request).session_factory) as session:
        # A page rendered inside the block reads through it (the menu's unread count):
        # a second transaction in this thread would wait for this one's write lock.
        setattr(request.state, _OPEN_SESSION, session)
        try:
            yield session
        finally:
            setattr(request.state, _OPEN_SESSION, None)


# FastAPI's own OpenTelemetry hooks, off in every app. Myna observes itself with its
# Prometheus metrics and request-id logs (``platform.operations``); with the hooks on and
# no provider configured, every request still asked for the global tracer, meter and
# logger providers and looked up its telemetry around each step (about a tenth of a
# card login's CPU).
NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}

P = ParamSpec("P")
R = TypeVar("R")


def one_hop(route: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """A sync route run in one worker-thread hop, its answer validated on the event loop.

    FastAPI runs a sync route in the thread pool and then validates what it returned
    against the response model in a second hop of its own. For a route answering a small
    model, the hop (a queue, two thread wake-ups, the GIL handed over and back) costs
    more than the validation: run as a coroutine that sends the route's whole body to the
    pool at once, the route costs one hop. The route stays a plain function, its
    parameters and answer as FastAPI reads them (``functools.wraps``).
    """

    @functools.wraps(route)
    async def in_one_hop(*args: P.args, **kwargs: P.kwargs) -> R:
        return await anyio.to_thread.run_sync(functools.partial(route, *args, **kwargs))

    return in_one_hop


PLATFORM_TEMPLATES = Path(__file__).with_name("templates")
_OPEN_SESSION = "myna_open_session"
language_router = APIRouter(include_in_schema=False)


def secure_cookies(request: Request) -> bool:
    """Whether cookies go out ``Secure``: the site is https as its users know it.

    That is the request's scheme as the client saw it (a trusted proxy's
    X-Forwarded-Proto counts), ``MYNA_COOKIE_SECURE``, or an https ``MYNA_PORTAL_URL``:
    behind a proxy Myna does not trust, the request itself arrives over plain http.
    """
    if request.url.scheme == "https":
        return True
    container: Container | None = getattr(request.app.state, "container", None)
    settings = container.settings if container is not None else None
    return settings is not None and (
        settings.cookie_secure or settings.portal_url.startswith("https://")
    )


@language_router.get("/language")
def choose_language(request: Request, lang: str = "ja", next: str = "/") -> Response:
    """Remember the reader's language in a cookie and go back to the page."""
    target = next if is_site_path(next) else "/"
    response = RedirectResponse(target, status_code=303)
    chosen = lang if lang in i18n.SUPPORTED_LOCALES else i18n.DEFAULT_LOCALE
    response.set_cookie(
        "myna_lang",
        chosen,
        max_age=365 * 86400,
        httponly=True,  # read by the server only (LocaleMiddleware)
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    return response


@dataclass(frozen=True, slots=True)
class ResidentChrome:
    """What the shared layout shows a logged-in resident: the menu and its logout form.

    The session dependency (``platform.sessions``) leaves it on the request, so no route
    passes it; ``unread_notices`` is filled in when a whole page is rendered.
    """

    resident_id: int
    csrf_token: str
    unread_notices: int | None = None
    # Acting for another resident (代理人): their name for the banner, and the scopes
    # (space-separated) that choose which of the menu's pages are offered.
    acting_label: str | None = None
    acting_scopes: str = ""

    @property
    def acting(self) -> bool:
        """Whether the session acts for someone else (the banner shows whom)."""
        return self.acting_label is not None

    def offers(self, scope: str) -> bool:
        """Whether the menu offers the page of ``scope`` (always, for one's own portal)."""
        return not self.acting or scope in self.acting_scopes.split()


_CHROME_STATE = "myna_resident_chrome"


def remember_resident(
    request: Request,
    *,
    resident_id: int,
    csrf_token: str,
    acting_label: str | None = None,
    acting_scopes: str = "",
) -> None:
    """Note, for the layout, that a resident is logged in on this request.

    While acting, the menu counts no unread notices: the badge would be the card
    holder's own, in the principal's menu.
    """
    chrome = ResidentChrome(
        resident_id,
        csrf_token,
        unread_notices=0 if acting_label is not None else None,
        acting_label=acting_label,
        acting_scopes=acting_scopes,
    )
    setattr(request.state, _CHROME_STATE, chrome)


def resident_chrome(request: Request) -> ResidentChrome | None:
    """The logged-in resident's menu values, if the request's session named one."""
    chrome: ResidentChrome | None = getattr(request.state, _CHROME_STATE, None)
    return chrome


class Pages(Jinja2Templates):
    """Jinja2 templates that render a whole page: its values and those every page needs."""

    def page(
        self,
        request: Request,
        name: str,
        /,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        **values: Any,
    ) -> Response:
        """The template ``name`` with the page's ``values`` (see :func:`template_context`).

        ``status_code`` and ``headers`` are the response's; every other keyword is a value
        of the page. Called from a route's worker thread, it may read the database: for a
        logged-in resident it counts the unread notices the menu shows.
        """
        _count_unread_notices(request)
        if status_code >= 400:
            values.setdefault("return_path", request.url.path)
        return self.TemplateResponse(
            request,
            name,
            template_context(request, **values),
            status_code=status_code,
            headers=headers,
        )


def make_templates(*directories: Path) -> Pages:
    """Jinja2 templates with gettext, 和暦 dates and autoescaping."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in (*directories, PLATFORM_TEMPLATES)]),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    env.filters["wareki"] = i18n.format_date
    env.filters["wareki_time"] = i18n.format_datetime
    env.filters["yen"] = i18n.format_yen
    env.globals["current_locale"] = i18n.get_locale
    return Pages(env=env)


def templates_beside(module_file: str) -> Pages:
    """The ``templates`` folder beside a context's ``module_file``, then the platform's."""
    return make_templates(Path(module_file).with_name("templates"))


def template_context(request: Request, **values: Any) -> dict[str, Any]:
    """The values every page needs, plus the page's own.

    ``resident_chrome`` is the logged-in resident's menu (None for anyone else). The
    language switch comes back to ``return_path`` when a page gives one, else to the
    page with its query; a refusal gives its bare path, so nothing a request carried in
    its query is written back into the page that refuses it.
    """
    return {
        "request": request,
        "locale": i18n.get_locale(),
        "resident_chrome": resident_chrome(request),
        **values,
    }


def _count_unread_notices(request: Request) -> None:
    """Fill in the menu's count of unread notices (one short read of its own)."""
    chrome = resident_chrome(request)
    if chrome is None or chrome.unread_notices is not None:
        return
    container = get_container(request)
    open_session: Session | None = getattr(request.state, _OPEN_SESSION, None)
    if open_session is not None:
        unread = container.unread_notices(open_session, chrome.resident_id)
    else:
        with unit_of_work(container.session_factory) as db:
            unread = container.unread_notices(db, chrome.resident_id)
    setattr(request.state, _CHROME_STATE, replace(chrome, unread_notices=unread))


# What answers a request refused at the edge (400, 413): the app's error body or page.
RefusalHandler = Callable[[Request, int], Awaitable[Response]]


async def refuse(
    handler: RefusalHandler | None, scope: Scope, receive: Receive, send: Send, status: int
) -> None:
    """Answer ``status`` with the app's ``handler``, or a short text without one."""
    if handler is None:
        text = (
            _("The request is too large.")
            if status == 413
            else _("The request is not valid. Please check what you sent.")
        )
        await _plain(send, status, text)
        return
    response = await handler(Request(scope, receive), status)
    await response(scope, receive, send)


class RejectNulMiddleware:
    """Refuses a NUL character anywhere in the path or query with 400.

    No legitimate request carries one, PostgreSQL text cannot store one, and refusing it
    at the edge keeps every route from having to. With a ``handler`` the refusal is the
    app's common error (JSON or page), as its OpenAPI declares.
    """

    def __init__(self, app: ASGIApp, *, handler: RefusalHandler | None = None) -> None:
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and carries_nul(scope):
            await refuse(self.handler, scope, receive, send, 400)
            return
        await self.app(scope, receive, send)


def carries_nul(scope: Scope) -> bool:
    """Whether the request's path or query holds a NUL character (refused with 400)."""
    return "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"")


# Whether a request's cookies carry a valid session allowed to upload (run in a thread).
UploadGate = Callable[[dict[str, str]], bool]


@dataclass(frozen=True, slots=True)
class UploadRule:
    """A POST path (regular expression over the whole path) that takes files.

    ``limit`` is its larger body limit; with a ``gate``, a body above the general limit
    is accepted only from a caller the gate admits (a valid session), decided from the
    cookies before a byte of the body is read.
    """

    pattern: str
    limit: int
    gate: UploadGate | None = None


class BodySizeLimitMiddleware:
    """Refuses request bodies larger than ``limit`` bytes with 413, before parsing.

    ``uploads`` gives larger limits to the few POST paths that take files (an
    e-application's attachments, a staff notice with attachments); a gated path lets a
    large body through only for a logged-in caller, so an anonymous client cannot make
    the server read megabytes before its session is even looked at.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        uploads: Sequence[UploadRule] = (),
        handler: RefusalHandler | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.handler = handler
        self.uploads = [(re.compile(rule.pattern), rule) for rule in uploads]

    def _rule(self, scope: Scope) -> UploadRule | None:
        if scope.get("method") == "POST":
            path = str(scope.get("path", ""))
            for pattern, rule in self.uploads:
                if pattern.fullmatch(path):
                    return rule
        return None

    async def _admitted(self, rule: UploadRule, scope: Scope) -> bool:
        if rule.gate is None:
            return True
        raw = b"; ".join(v for n, v in scope.get("headers", []) if n == b"cookie")
        cookies = cookie_parser(raw.decode("latin-1"))
        gate = rule.gate
        return bool(await anyio.to_thread.run_sync(lambda: gate(cookies)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.guard(scope, receive, send, self.app)

    async def guard(self, scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
        """Run ``app`` for an HTTP request, its body held to the limits.

        A request that frames no body (HTTP/1 without Content-Length or
        Transfer-Encoding) has none to count and goes straight through.
        """
        declared = None
        framed = False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                framed = True
                if declared is None and value.isdigit():
                    declared = int(value)
            elif name == b"transfer-encoding":
                framed = True
        if not framed and scope.get("http_version") in ("1.0", "1.1"):
            await app(scope, receive, send)
            return
        rule = self._rule(scope)
        limit = self.limit
        if declared is not None and declared > self.limit:
            if rule is None or declared > rule.limit or not await self._admitted(rule, scope):
                await refuse(self.handler, scope, receive, send, 413)
                return
            limit = rule.limit
        received = 0

        async def counting_receive() -> Message:
            nonlocal received, limit
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # A streamed body without a length: the gate is asked when it grows
                    # past the general limit, once.
                    if (
                        limit == self.limit
                        and rule is not None
                        and await self._admitted(rule, scope)
                    ):
                        limit = rule.limit
                    if received > limit:
                        raise BodyTooLargeError
            return message

        try:
            await app(scope, counting_receive, send)
        except BodyTooLargeError:
            await refuse(self.handler, scope, receive, send, 413)


class BodyTooLargeError(Exception):
    """A streamed body passed the size limit."""


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """What an endpoint taking a raw body accepts: one media type, at most ``limit`` bytes.

    ``wrong_type`` and ``too_large`` are the endpoint's own errors for the two refusals.
    """

    media_type: str
    limit: int
    wrong_type: type[Exception]
    too_large: type[Exception]

    async def read(self, request: Request) -> bytes:
        """The body; the declared length is checked first, then the stream as it arrives,
        so an oversized body is refused without being read whole."""
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != self.media_type:
            raise self.wrong_type
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            raise self.too_large
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > self.limit:
                raise self.too_large
        return bytes(body)


async def _plain(send: Send, status: int, text: str) -> None:
    """Answer with ``text`` alone: these refusals come before any route or template."""
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body})
