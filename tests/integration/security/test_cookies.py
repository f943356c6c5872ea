"""Every cookie Myna sets is HttpOnly, SameSite, Secure on an https site, and scoped.

The cookies are collected from the responses that set them (a visitor's session, the
back office's two login steps, the language switch, logging out, the clinic counter's
CSRF cookie) on a portal whose URL is https while the test client speaks plain http:
the portal behind a TLS proxy it does not trust for X-Forwarded-Proto.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from myna import jpki
from myna.counter.app import create_counter_app
from myna.office import service as office
from myna.platform.settings import Settings
from myna.runtime import register_institution
from tests.integration.security.conftest import World

CLINIC = "1310110018"

# Each cookie's intended path: the back office's session goes to /office only.
COOKIE_PATHS = {
    "myna_session": "/",
    "myna_office": "/office",
    "myna_lang": "/",
    "myna_counter_csrf": "/",
    "myna_reader_csrf": "/",
}


def _attributes(header: str) -> tuple[str, dict[str, str]]:
    name_value, *parts = header.split(";")
    attributes = {}
    for part in parts:
        key, _, value = part.strip().partition("=")
        attributes[key.lower()] = value
    return name_value.split("=", 1)[0].strip(), attributes


def set_cookies(response: httpx.Response) -> list[tuple[str, dict[str, str]]]:
    return [_attributes(h) for h in response.headers.get_list("set-cookie")]


def assert_cookie_flags(response: httpx.Response, *, secure: bool) -> set[str]:
    """Check every cookie the response sets; the names it set."""
    names = set()
    for name, attributes in set_cookies(response):
        where = f"{name} from {response.request.method} {response.request.url.path}"
        assert name in COOKIE_PATHS, f"a cookie the suite does not know: {where}"
        assert "httponly" in attributes, where
        assert attributes.get("samesite", "").lower() in {"lax", "strict"}, where
        assert ("secure" in attributes) == secure, where
        assert attributes.get("path") == COOKIE_PATHS[name], where
        names.add(name)
    return names


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


@pytest.fixture
def https_world(world: World) -> World:
    world.container.settings = world.container.settings.model_copy(
        update={"portal_url": "https://portal.example.jp"}
    )
    return world


def _staff_login(client: TestClient, session: Session, settings: Settings) -> list[httpx.Response]:
    office.create_staff(
        session=session,
        settings=settings,
        municipality_code="131016",
        login_id="cookie-clerk",
        display_name="山本",
        role=office.StaffRole.CLERK,
        password="correct-horse-2026",
    )
    session.commit()
    form = client.get("/office/login")
    password = client.post(
        "/office/login",
        data={
            "csrf_token": _csrf(form.text),
            "login_id": "cookie-clerk",
            "password": "correct-horse-2026",
        },
    )
    assert password.status_code == 303, password.text
    code_form = client.get("/office/login/code")
    code = office.current_code(
        session=session, settings=settings, login_id="cookie-clerk", at=time.time()
    )
    second = client.post(
        "/office/login/code", data={"csrf_token": _csrf(code_form.text), "code": code}
    )
    assert second.status_code == 303, second.text
    logout = client.post("/office/logout", data={"csrf_token": _csrf(client.get("/office").text)})
    return [form, password, second, logout]


def test_the_portal_cookies_are_http_only_same_site_secure_and_scoped(
    https_world: World, session: Session, settings: Settings
) -> None:
    world = https_world
    seen: set[str] = set()
    visitor = world.anonymous
    seen |= assert_cookie_flags(visitor.get("/login"), secure=True)
    seen |= assert_cookie_flags(visitor.get("/language?lang=en&next=/services"), secure=True)
    # Over https: the client sends a Secure cookie back only there.
    with TestClient(world.app, base_url="https://testserver", follow_redirects=False) as staff:
        for response in _staff_login(staff, session, world.container.settings):
            seen |= assert_cookie_flags(response, secure=True)
    resident = world.resident_a
    logout = resident.client.post("/logout", data={"csrf_token": resident.csrf_token})
    assert logout.status_code == 303
    assert any(name == "myna_session" for name, _ in set_cookies(logout))
    seen |= assert_cookie_flags(logout, secure=True)
    assert seen == {"myna_session", "myna_office", "myna_lang"}
    del settings


def test_on_a_plain_http_portal_the_cookies_are_not_secure(world: World) -> None:
    assert_cookie_flags(world.anonymous.get("/login"), secure=False)
    assert_cookie_flags(world.anonymous.get("/language?lang=en"), secure=False)


def test_the_counter_csrf_cookie_is_http_only_strict_and_secure_on_https(
    session: Session, settings: Settings
) -> None:
    jpki.ensure_authorities(session=session, settings=settings)
    register_institution(
        session, settings, CLINIC, "みなと内科クリニック", settings.institution_dir
    )
    session.commit()
    app = create_counter_app(settings, http_client=httpx.Client())
    with TestClient(app, base_url="https://counter.example.jp") as client:
        page = client.get(f"/{CLINIC}/")
        assert page.status_code == 200, page.text
        names = assert_cookie_flags(page, secure=True)
    assert names == {"myna_counter_csrf"}
    cookie: Any = dict(set_cookies(page))["myna_counter_csrf"]
    assert cookie["samesite"].lower() == "strict"
