"""Garbage in every endpoint gets a clear 4xx answer: never a 500, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from myna.app import create_app
from myna.bootstrap import Container
from myna.jpki import api as jpki_api
from myna.platform.web import language_router
from myna.portal import api as portal_api
from myna.portal import views as portal_views

GARBAGE_BODIES: list[tuple[bytes, str]] = [
    (b"", "application/json"),
    (b"\x00\xff\xfe garbage", "application/json"),
    (b'{"certificate": 1, "signature": []}', "application/json"),
    (b"[" * 2000, "application/json"),
    (b"challenge_id=%00%00&csrf_token=", "application/x-www-form-urlencoded"),
    (b"\x30\x82\x01\x00" + b"\x00" * 40, "application/ocsp-request"),
    (b"not xml <a>", "text/plain"),
]
GARBAGE_PARAMS = ["x", "..%2F..%2Fetc%2Fpasswd", "%00", "A" * 300, "😀"]


ROUTERS = [portal_views.router, portal_api.router, jpki_api.router, language_router]


def _paths(_portal: TestClient) -> list[tuple[str, str]]:
    return [
        (method, route.path)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods)
        if method != "HEAD"
    ]


def _fill(path: str, value: str) -> str:
    out, depth, name = "", 0, ""
    for char in path:
        if char == "{":
            depth, name = 1, ""
        elif char == "}":
            depth = 0
            out += value
        elif depth:
            name += char
        else:
            out += char
    return out


@pytest.fixture
def portal(container: Container) -> Iterator[TestClient]:
    # No rate limit in the way: every garbage request must reach its route.
    container.settings = container.settings.model_copy(update={"login_rate_limit": "10000/minute"})
    with TestClient(create_app(container), base_url="http://testserver") as client:
        yield client


def test_every_route_was_found(portal: TestClient) -> None:
    paths = {path for _, path in _paths(portal)}
    assert {"/api/login/challenges", "/login/complete", "/jpki/ocsp", "/logout"} <= paths


@pytest.mark.parametrize("value", GARBAGE_PARAMS)
def test_garbage_never_breaks_an_endpoint(portal: TestClient, value: str) -> None:
    for method, path in _paths(portal):
        url = _fill(path, value)
        for body, content_type in GARBAGE_BODIES if method in ("POST", "PUT") else [(b"", "")]:
            headers = {"content-type": content_type} if content_type else {}
            response = portal.request(method, url, content=body or None, headers=headers)
            assert response.status_code < 500, (method, url, body[:20], response.text[:200])
            assert response.status_code != 429
            assert "Traceback" not in response.text
