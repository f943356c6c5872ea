"""Every parameter that names where to go next keeps the reader on the portal.

The walk finds each route parameter named like a destination (``next``, ``return_to``,
``redirect_uri``, ``return_url``...); each must be one this module tests. OAuth's
``redirect_uri`` is matched against the organisation's registered URIs in the partner
and authapp contexts (tests/integration/partners, tests/integration/authapp).
"""

from __future__ import annotations

import re

import pytest
from fastapi.dependencies.utils import get_flat_params

from myna.portal.views import local_path
from tests.integration.security.conftest import World
from tests.integration.security.routes import walk

DESTINATION = re.compile(r"next|return|redirect|back_to|continue|goto|url", re.IGNORECASE)
# The routes that take a destination, each tested below.
TESTED = {
    "GET /language": "next",
    "GET /login": "next",
    "POST /login/complete": "next",
}
HOSTILE = [
    "https://evil.example/",
    "http://evil.example",
    "//evil.example/home",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https:evil.example",
    " //evil.example",
]


def test_every_destination_parameter_is_tested(world: World) -> None:
    found = {}
    for route in walk(world.app):
        names = [p.alias for p in get_flat_params(route.dependant)] + route.form_fields
        for name in names:
            if DESTINATION.search(name):
                found[route.key] = name
    assert found == TESTED


@pytest.mark.parametrize("target", HOSTILE)
def test_the_language_switch_stays_on_the_portal(world: World, target: str) -> None:
    response = world.anonymous.get("/language", params={"lang": "en", "next": target})
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_the_language_switch_goes_back_to_a_page_of_the_portal(world: World) -> None:
    response = world.anonymous.get("/language", params={"lang": "en", "next": "/services?q=1"})
    assert response.headers["location"] == "/services?q=1"


@pytest.mark.parametrize("target", HOSTILE)
def test_the_login_page_never_carries_a_foreign_destination(world: World, target: str) -> None:
    page = world.anonymous.get("/login", params={"next": target})
    assert page.status_code == 200
    # What the login's form posts back, and where login_complete then redirects.
    posted = re.search(r'<input type="hidden" name="next" value="([^"]*)">', page.text)
    assert posted is not None
    assert posted.group(1) == "/home"
    assert local_path(target) == "/home"


def test_after_login_the_destination_is_a_path_of_the_portal() -> None:
    assert local_path("/notices/3?from=mail") == "/notices/3?from=mail"
    assert local_path("") == "/home"


def test_a_login_required_page_comes_back_to_itself_only(world: World) -> None:
    response = world.anonymous.get("//evil.example/home")
    location = response.headers.get("location", "")
    assert "evil.example" not in location.split("?")[0]
    follow = world.anonymous.get(location) if location.startswith("/") else None
    assert follow is None or "evil.example/" not in follow.text
