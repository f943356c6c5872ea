"""The portal's one edge layer: what the eight layers it replaces did, in their order."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.testclient import TestClient
from starlette.types import Scope

from myna.platform import i18n
from myna.platform.edge import EdgeMiddleware
from myna.platform.metrics import Metrics
from myna.platform.web import locale_of


def _scope(query: bytes = b"", *headers: tuple[bytes, bytes]) -> Scope:
    return {"type": "http", "path": "/", "query_string": query, "headers": list(headers)}


def test_the_query_then_the_cookie_then_accept_language_choose_the_locale() -> None:
    cookie = (b"cookie", b"a=1; myna_lang=en")
    assert locale_of(_scope(b"lang=en")) == "en"
    assert locale_of(_scope(b"lang=ja", cookie)) == "ja"
    assert locale_of(_scope(b"lang=", cookie)) == "en"  # an empty choice is no choice
    assert locale_of(_scope(b"", cookie, (b"accept-language", b"ja"))) == "en"
    assert locale_of(_scope(b"", (b"accept-language", b"en-GB,ja;q=0.5"))) == "en"
    assert locale_of(_scope(b"lang=fr", (b"cookie", b"myna_lang=de"))) == "ja"
    assert locale_of(_scope()) == "ja"


def _counted(metrics: Metrics, route: str, method: str, status: str) -> float | None:
    return metrics.registry.get_sample_value(
        "myna_http_requests_total", {"route": route, "method": method, "status": status}
    )


def _app(metrics: Metrics) -> FastAPI:
    app = FastAPI()

    @app.get("/public/doc")
    async def document() -> dict[str, str]:
        return {"locale": i18n.get_locale()}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError

    @app.post("/echo")
    async def echo(request: Request) -> Response:
        return PlainTextResponse(str(len(await request.body())))

    async def unexpected(_request: Request, _exc: Exception) -> Response:
        return JSONResponse({"error": "internal_error"}, status_code=500)

    app.add_middleware(
        EdgeMiddleware,
        metrics=metrics,
        body_limit=1024,
        public_read=("/public/",),
        unexpected=unexpected,
    )
    return app


def test_answers_carry_the_headers_the_id_and_the_locale_and_are_counted() -> None:
    metrics = Metrics()
    with TestClient(_app(metrics)) as client:
        answer = client.get("/public/doc?lang=en", headers={"X-Request-ID": "req-1"})
    assert answer.json() == {"locale": "en"}
    assert answer.headers["x-request-id"] == "req-1"
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["content-security-policy"]
    assert answer.headers["cache-control"] == "no-store"
    assert _counted(metrics, "/public/doc", "GET", "200") == 1


def test_a_preflight_for_a_public_document_is_answered_before_any_route() -> None:
    metrics = Metrics()
    with TestClient(_app(metrics)) as client:
        answer = client.options("/public/doc")
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "x-request-id" in answer.headers
    assert _counted(metrics, "unmatched", "OPTIONS", "204") == 1


def test_an_unexpected_error_is_answered_inside_the_headers() -> None:
    with TestClient(_app(Metrics()), raise_server_exceptions=False) as client:
        answer = client.get("/boom")
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal_error"}
    assert answer.headers["content-security-policy"]
    assert "x-request-id" in answer.headers


def test_bodies_are_held_to_the_limit_and_requests_without_one_pass() -> None:
    with TestClient(_app(Metrics())) as client:
        assert client.post("/echo", content=b"x" * 1024).text == "1024"
        assert client.post("/echo", content=b"x" * 1025).status_code == 413
        assert client.post("/echo").text == "0"
