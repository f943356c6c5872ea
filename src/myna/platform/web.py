"""Web plumbing shared by every context's routes: DB sessions, templates, headers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from myna.platform import i18n
from myna.platform.db import unit_of_work
from myna.platform.i18n import gettext as _

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


SECURITY_HEADERS = {
    b"content-security-policy": CONTENT_SECURITY_POLICY.encode(),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
    b"cross-origin-opener-policy": b"same-origin",
    b"permissions-policy": b"camera=(), microphone=(), geolocation=()",
}


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response (pure ASGI: cheap)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(
                    (name, value) for name, value in SECURITY_HEADERS.items() if name not in present
                )
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LocaleMiddleware:
    """Sets the request's locale: ``?lang=`` then the ``myna_lang`` cookie, then headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            i18n.set_locale(
                i18n.negotiate(
                    request.query_params.get("lang") or request.cookies.get("myna_lang"),
                    request.headers.get("accept-language"),
                )
            )
        await self.app(scope, receive, send)


def get_container(request: Request) -> Container:
    """The composition root's container, set on the app at creation."""
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated["Container", Depends(get_container)]


def transaction(request: Request) -> AbstractContextManager[Session]:
    """The request's unit of work: committed on success, rolled back on any error.

    Use it *inside* a route (``with transaction(request) as db:``), never as a
    dependency. FastAPI runs a sync route, each sync dependency and the response's
    validation in separate worker-thread hops; a transaction spanning hops would hold
    its locks (SQLite's single writer) while waiting for a free thread, and under load
    every thread could be waiting for it — a deadlock. Inside one hop it cannot.
    """
    return unit_of_work(get_container(request).session_factory)


PLATFORM_TEMPLATES = Path(__file__).with_name("templates")
# Where the language switch may send a reader back to: a path on this site, nothing else.
_LOCAL_PATH = re.compile(r"/[A-Za-z0-9/_.~%-]*")
language_router = APIRouter(include_in_schema=False)


@language_router.get("/language")
def choose_language(lang: str = "ja", next: str = "/") -> Response:
    """Remember the reader's language in a cookie and go back to the page."""
    target = next if _LOCAL_PATH.fullmatch(next) and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    chosen = lang if lang in i18n.SUPPORTED_LOCALES else i18n.DEFAULT_LOCALE
    response.set_cookie("myna_lang", chosen, max_age=365 * 86400, samesite="lax", path="/")
    return response


def make_templates(*directories: Path) -> Jinja2Templates:
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
    env.globals["current_locale"] = i18n.get_locale
    return Jinja2Templates(env=env)


def template_context(request: Request, **values: Any) -> dict[str, Any]:
    """The values every page needs, plus the page's own."""
    return {"request": request, "locale": i18n.get_locale(), **values}


class RejectNulMiddleware:
    """Refuses a NUL character anywhere in the path or query with 400.

    No legitimate request carries one, PostgreSQL text cannot store one, and refusing it
    at the edge keeps every route from having to.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"")
        ):
            body = _("The request is not valid. Please check what you sent.").encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


class BodySizeLimitMiddleware:
    """Refuses request bodies larger than ``limit`` bytes with 413, before parsing.

    ``uploads`` gives larger limits to the few POST paths that take files, by a regular
    expression over the whole path (e.g. an e-application's attachments).
    """

    def __init__(
        self, app: ASGIApp, *, limit: int, uploads: Sequence[tuple[str, int]] = ()
    ) -> None:
        self.app = app
        self.limit = limit
        self.uploads = [(re.compile(pattern), size) for pattern, size in uploads]

    def _limit(self, scope: Scope) -> int:
        if scope.get("method") == "POST":
            path = str(scope.get("path", ""))
            for pattern, size in self.uploads:
                if pattern.fullmatch(path):
                    return size
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _too_large(send)
                return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLargeError:
            await _too_large(send)


class BodyTooLargeError(Exception):
    """A streamed body passed the size limit."""


async def _too_large(send: Send) -> None:
    body = _("The request is too large.").encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body})
