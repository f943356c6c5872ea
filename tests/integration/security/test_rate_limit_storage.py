"""Rate limits when their shared storage (Redis) is down, and shared when it is up.

Down is a local port nothing listens on. The logins and the other guarded steps then
refuse with a localized 503 (fail closed); every other limited endpoint still answers,
counted in the process (fail open). Up is the Redis at 127.0.0.1:6379, if there is one:
two portals over it share one count.
"""

from __future__ import annotations

import socket
import uuid

import pytest
import redis
from fastapi.testclient import TestClient

from myna.app import create_app
from myna.bootstrap import Container, build_container
from myna.platform.settings import Settings
from tests.integration.security.conftest import World

REDIS = "redis://127.0.0.1:6379"
LATER = "しばらくしてから"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "rate_limit_storage_url": f"redis://127.0.0.1:{_closed_port()}",
            "delivery_rate_limit": "2/minute",
        }
    )


def test_without_redis_the_card_login_is_refused_with_a_clear_503(world: World) -> None:
    refused = world.anonymous.post("/api/login/challenges")
    assert refused.status_code == 503
    assert refused.json()["error"] == "temporarily_unavailable"
    assert LATER in refused.json()["message"]
    assert "Traceback" not in refused.text


def test_without_redis_the_staff_login_is_refused_on_a_page(world: World) -> None:
    client = world.anonymous
    page = client.get("/office/login")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    data = {"csrf_token": token, "login_id": "attack-x", "password": "guessed-password"}
    refused = client.post("/office/login", data=data)
    assert refused.status_code == 503
    assert LATER in refused.text
    assert "Traceback" not in refused.text


def test_without_redis_the_filing_token_endpoint_answers_in_oauth_terms(world: World) -> None:
    refused = world.anonymous.post(
        "/api/municipality/token", data={"grant_type": "client_credentials"}
    )
    assert refused.status_code == 503
    assert refused.json()["error"] == "temporarily_unavailable"
    assert LATER in refused.json()["error_description"]
    assert refused.headers["Retry-After"]


def test_without_redis_other_limited_endpoints_answer_and_are_still_limited(
    world: World,
) -> None:
    asks = [world.anonymous.get("/api/delivery/v1/documents/d-1") for _ in range(3)]
    # Not signed, so refused for that; but answered, and limited in this process.
    assert [a.status_code for a in asks[:2]] == [401, 401]
    assert asks[2].status_code == 429
    assert world.container.rate_limiter.degraded


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")


def test_two_portals_over_one_redis_share_a_limit(
    world: World, settings: Settings, container: Container
) -> None:
    _redis_or_skip()
    shared = settings.model_copy(
        update={
            "rate_limit_storage_url": REDIS,
            "rate_limit_key_prefix": f"myna-test-{uuid.uuid4().hex}",
            "login_rate_limit": "2/minute",
        }
    )
    portals = []
    for _ in range(2):
        built = build_container(shared, engine=container.engine)
        built.session_factory = container.session_factory
        portals.append(TestClient(create_app(built), base_url="http://testserver"))
    first, second = portals
    assert first.post("/api/login/challenges").status_code == 201
    assert second.post("/api/login/challenges").status_code == 201
    assert first.post("/api/login/challenges").status_code == 429
    assert second.post("/api/login/challenges").status_code == 429
    for portal in portals:
        portal.close()
    store = redis.Redis.from_url(REDIS)
    store.delete(*store.keys(f"{shared.rate_limit_key_prefix}*"))
