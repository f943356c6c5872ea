"""Every state-changing form refuses a post without this session's CSRF token.

The walk takes every POST/PUT/PATCH/DELETE route that is a page's form (outside the
published API) or that reads a browser session, posts it as a logged-in resident (a
staff member for /office) once without a token and once with another session's token,
and checks that it is refused as ``csrf_failed`` and that no table changed. A route
exempt from the check is in ``EXEMPT`` with the reason.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna.platform.db import Base
from tests.integration.security.conftest import Caller, World
from tests.integration.security.routes import STATE_CHANGING, Route, walk

# Routes that change state without a CSRF token, and why that is safe.
EXEMPT: dict[str, str] = {
    "POST /vaccination/verify": "the open verifier of a certificate file: reads no session, "
    "keeps nothing",
    "POST /certificates/verify": "the open verification page of a certificate PDF: reads no "
    "session, keeps nothing",
    "POST /api/login/challenges": "starts a card login: what any visitor may do, and only "
    "a card's signature over the challenge (bound to this session) logs anyone in",
    "POST /api/login/challenges/{challenge_id}/response": "answered with a card's signature "
    "over a challenge only this session's page can read; the reader and the CLI post it",
}

# Forms whose other fields the walk's values do not satisfy: FastAPI refuses them (422)
# before the route checks the token; the walk still checks that nothing changed.
VALIDATED_FIRST = frozenset(
    {
        "POST /apply/{municipality}/{code}/attachments/{attachment_id}/delete",
        "POST /apply/{municipality}/{code}/check",
        "POST /apply/{municipality}/{code}/draft",
        "POST /apply/{municipality}/{code}/lookup",
        "POST /apply/{municipality}/{code}/sign",
        "POST /authapp/consent/{authorization_id}",
        "POST /authapp/consent/{authorization_id}/sign",
        "POST /authapp/sign/{request_id}",
        "POST /my-info",
        "POST /office/corrections/{correction_id}/answer",
        "POST /proxy/act",
    }
)

# What a page of another site sends along with a call it makes to the JSON API.
CROSS_SITE = ({"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"})

# Tables a refused request may still touch: the session's own idle clock.
UNWATCHED = frozenset({"browser_sessions"})

# Path values that pass each parameter's validation (the check comes before any lookup).
PATH_VALUES = {
    "municipality": "131016",
    "code": "disaster-certificate",
    "year": "2025",
}


def protected_routes(world: World) -> list[Route]:
    return [
        route
        for route in walk(world.app)
        if route.method in STATE_CHANGING and (not route.in_schema or route.cookie_session)
    ]


def _path(route: Route) -> str:
    path = route.path
    for name in route.path_parameters:
        path = path.replace("{" + name + "}", PATH_VALUES.get(name, "1"))
    return path.replace("{extension}", "pdf")


def _snapshot(session: Session) -> dict[str, int]:
    session.expire_all()
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
        if table.name not in UNWATCHED
    }


def _post(
    caller: Caller, route: Route, token: str | None, headers: dict[str, str] | None = None
) -> httpx.Response:
    data: dict[str, Any] = {name: "1" for name in route.form_fields if name != "csrf_token"}
    if token is not None:
        data["csrf_token"] = token
    return caller.client.request(
        route.method,
        _path(route),
        data=data,
        headers={"accept": "application/json", **(headers or {})},
    )


def _error_code(response: httpx.Response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("error") if isinstance(body, dict) else None


def test_every_state_changing_form_refuses_a_missing_or_foreign_token(
    world: World, session: Session
) -> None:
    routes = protected_routes(world)
    assert len(routes) > 40  # the walk sees the routes behind the included routers
    failures = []
    refused_for_the_token = set()
    for route in routes:
        if route.key in EXEMPT:
            continue
        office = route.path.startswith("/office")
        caller, other = (
            (world.staff_x, world.staff_y) if office else (world.resident_a, world.resident_b)
        )
        caller.renew(world.container, session)
        before = _snapshot(session)
        if route.in_schema:
            # The JSON API: no form, no token; a call from another site's page is refused.
            for headers in CROSS_SITE:
                response = _post(caller, route, caller.csrf_token, headers)
                if (response.status_code, _error_code(response)) != (403, "csrf_failed"):
                    failures.append(f"{route.key}: {response.status_code} from {headers}")
            if _snapshot(session) != before:
                failures.append(f"{route.key}: changed the database")
            continue
        for token in (None, other.csrf_token):
            response = _post(caller, route, token)
            code = _error_code(response)
            refused = response.status_code == 403 and code == "csrf_failed"
            if refused and token is not None:
                refused_for_the_token.add(route.key)
            # A form whose token is a required field refuses its absence before the route.
            missing = token is None and response.status_code == 422 and code == "invalid_request"
            # Or a parameter is refused before the token is looked at (nothing is written).
            invalid = route.key in VALIDATED_FIRST and (response.status_code, code) == (
                422,
                "invalid_request",
            )
            if not (refused or missing or invalid):
                failures.append(f"{route.key}: {response.status_code} {code} {response.text[:80]}")
        if _snapshot(session) != before:
            failures.append(f"{route.key}: changed the database")
    assert failures == [], "\n".join(failures)
    assert len(refused_for_the_token) >= 50  # the check itself, not only validation


def test_every_exemption_names_a_route_that_exists(world: World) -> None:
    keys = {route.key for route in protected_routes(world)}
    assert set(EXEMPT) <= keys
    assert keys >= VALIDATED_FIRST
