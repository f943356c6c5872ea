"""Every endpoint where a secret can be guessed stops answering after a few tries.

The limits are set small here (two a minute); each endpoint is asked one time more
than that and must answer 429 with the localized reason (Japanese first). The PINs a
counter sends go to the card itself, whose retry counter locks it; the partner API's
token endpoint counts per organisation once its client assertion is verified
(tests/integration/partners), so no one can spend another's allowance (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from myna.platform.settings import Settings
from tests.integration.security.conftest import World

LIMIT = 2
TOO_MANY = "試行回数が多すぎます"
TOO_MANY_TOKENS = "多すぎます"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "login_rate_limit": f"{LIMIT}/minute",
            "partner_rate_limit": f"{LIMIT}/minute",
            "filing_token_rate_limit": f"{LIMIT}/minute",
            "one_time_code_rate_limit": f"{LIMIT}/minute",
        }
    )


def _until_limited(attempt: Callable[[], httpx.Response]) -> httpx.Response:
    for _ in range(LIMIT):
        assert attempt().status_code != 429
    return attempt()


def test_the_card_login_is_limited(world: World) -> None:
    limited = _until_limited(lambda: world.anonymous.post("/api/login/challenges"))
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert TOO_MANY in limited.json()["message"]


def test_the_staff_password_and_code_are_limited(world: World) -> None:
    client = world.anonymous
    page = client.get("/office/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]

    def guess() -> httpx.Response:
        data = {"csrf_token": token, "login_id": "attack-x", "password": "guessed-password"}
        return client.post("/office/login", data=data)

    limited = _until_limited(guess)
    assert limited.status_code == 429
    assert TOO_MANY in limited.text
    # The code step counts against the same address.
    code = client.post("/office/login/code", data={"csrf_token": token, "code": "000000"})
    assert code.status_code in {303, 429}
    assert code.status_code == 303 or TOO_MANY in code.text


def test_the_proxy_appointment_code_is_limited(world: World) -> None:
    resident = world.resident_a

    def guess() -> httpx.Response:
        data = {
            "csrf_token": resident.csrf_token,
            "code": "0000-0000-0000",
            "until": "2027-01-01",
            "scope": "notices",
        }
        return resident.client.post("/proxy/appoint", data=data)

    limited = _until_limited(guess)
    assert limited.status_code == 429
    assert TOO_MANY in limited.text
    # Counted per resident: another resident still has their tries.
    other = world.resident_b
    answer = other.client.post(
        "/proxy/appoint",
        data={"csrf_token": other.csrf_token, "code": "0000-0000-0000", "until": "2027-01-01"},
    )
    assert answer.status_code == 422


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/api/municipality/token", TOO_MANY_TOKENS),
        ("/authapp/token", TOO_MANY),
    ],
)
def test_the_token_endpoints_are_limited(world: World, path: str, reason: str) -> None:
    form = {
        "grant_type": "authorization_code",
        "client_id": "guessing-client",
        "code": "guessed",
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": "e30.e30.sig",
    }
    limited = _until_limited(lambda: world.anonymous.post(path, data=form))
    assert limited.status_code == 429, limited.text
    body = limited.json()
    assert body["error"] in {"rate_limited", "slow_down"}
    assert reason in (body.get("error_description") or body.get("message") or "")
