"""Operations: /metrics behind its token, request ids in logs, /readyz check by check."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import trace as otel_trace
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from myna.app import create_app
from myna.bootstrap import Container, build_container
from myna.network import transparency
from myna.platform.db import make_engine, utcnow
from myna.platform.logging import configure_logging, get_logger
from myna.platform.ratelimit import Limit
from myna.platform.settings import Settings

TOKEN = "metrics-token-for-the-tests-0123456789"


def _client(app: FastAPI, *, peer: str = "testclient") -> TestClient:
    return TestClient(app, base_url="http://testserver", client=(peer, 50000))


def _with(container: Container, **changes: object) -> Container:
    container.settings = container.settings.model_copy(update=changes)
    return container


def sample(exposition: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the text exposition, or None when absent."""
    for line in exposition.splitlines():
        if line.startswith("#"):
            continue
        found = re.fullmatch(r"([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)", line)
        if found is None or found.group(1) != name:
            continue
        pairs = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', found.group(3) or ""))
        if pairs == labels:
            return float(found.group(4))
    return None


# --- /metrics ------------------------------------------------------------------------------


def test_without_a_token_or_loopback_scraping_the_metrics_do_not_exist(
    container: Container,
) -> None:
    with _client(create_app(container), peer="127.0.0.1") as client:
        response = client.get("/metrics")
    assert response.status_code == 404
    assert "myna_http_requests_total" not in response.text


def test_a_scrape_without_the_right_token_is_refused(container: Container) -> None:
    app = create_app(_with(container, metrics_token=SecretStr(TOKEN)))
    with _client(app) as client:
        for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN}):
            response = client.get("/metrics", headers=headers)
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["error"] == "unauthorized"
            assert "myna_" not in response.text
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["cache-control"] == "no-store"


def test_loopback_scraping_serves_loopback_clients_only(container: Container) -> None:
    app = create_app(_with(container, metrics_loopback=True))
    with _client(app, peer="192.0.2.10") as client:
        assert client.get("/metrics").status_code == 404
    with _client(app, peer="127.0.0.1") as client:
        assert client.get("/metrics").status_code == 200
    with _client(app, peer="::1") as client:
        assert client.get("/metrics").status_code == 200


def test_requests_are_counted_by_route_template_never_by_path(container: Container) -> None:
    app = create_app(_with(container, metrics_token=SecretStr(TOKEN)))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with _client(app) as client:
        client.get("/healthz")
        client.get("/healthz")
        assert client.get("/notices/987654").status_code in (200, 303, 401, 404)
        assert client.get("/no-such-page/123456").status_code == 404
        text = client.get("/metrics", headers=auth).text
    assert (
        sample(text, "myna_http_requests_total", route="/healthz", method="GET", status="200") == 2
    )
    assert "987654" not in text
    assert "123456" not in text
    assert (
        sample(text, "myna_http_requests_total", route="unmatched", method="GET", status="404") == 1
    )
    assert any('route="/notices/{' in line for line in text.splitlines())
    assert (
        sample(text, "myna_http_request_duration_seconds_count", route="/healthz", method="GET")
        == 2
    )


def test_rate_limit_refusals_are_counted_by_limit(container: Container) -> None:
    app = create_app(_with(container, metrics_token=SecretStr(TOKEN), login_rate_limit="1/minute"))
    limiter = container.rate_limiter
    assert limiter.allow(Limit.LOGIN, "198.51.100.7")
    assert not limiter.allow(Limit.LOGIN, "198.51.100.7")
    assert not limiter.allow(Limit.LOGIN, "198.51.100.7")
    with _client(app) as client:
        text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert sample(text, "myna_rate_limit_refusals_total", limit="login") == 2
    assert "198.51.100.7" not in text


def test_the_exchange_log_size_and_head_age_are_read_at_scrape(
    container: Container, session: Session
) -> None:
    app = create_app(_with(container, metrics_token=SecretStr(TOKEN)))
    before = transparency.tree_size(session=session)
    transparency.append(session=session, entries=_entries(3))
    container.publish_tree_head(session)
    transparency.append(session=session, entries=_entries(2))
    session.commit()
    with _client(app) as client:
        text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert sample(text, "myna_exchange_log_entries") == before + 5
    assert sample(text, "myna_exchange_log_signed_entries") == before + 3
    age = sample(text, "myna_exchange_log_tree_head_age_seconds")
    assert age is not None
    assert 0 <= age < 60


def test_two_apps_in_one_process_count_apart(
    settings: Settings, engine: Engine, container: Container
) -> None:
    other = build_container(settings, engine=engine)
    other.session_factory = container.session_factory
    first = create_app(_with(container, metrics_token=SecretStr(TOKEN)))
    second = create_app(_with(other, metrics_token=SecretStr(TOKEN)))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with _client(first) as one, _client(second) as two:
        one.get("/healthz")
        one.get("/healthz")
        two.get("/healthz")
        counted_first = one.get("/metrics", headers=auth).text
        counted_second = two.get("/metrics", headers=auth).text
    labels = {"route": "/healthz", "method": "GET", "status": "200"}
    assert sample(counted_first, "myna_http_requests_total", **labels) == 2
    assert sample(counted_second, "myna_http_requests_total", **labels) == 1


# --- request ids ---------------------------------------------------------------------------


@pytest.fixture
def json_logs() -> Iterator[None]:
    configure_logging(level="INFO", json=True)
    yield
    configure_logging(level="INFO", json=False)


def _logged(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_every_log_line_of_a_request_carries_its_id(
    container: Container, json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(container)
    probe_log = get_logger("tests.operations")

    @app.get("/test-probe")
    def probe() -> dict[str, str]:  # a sync handler: it runs in the thread pool
        probe_log.info("probe_first")
        probe_log.info("probe_second", my_number="123456789012")
        return {"ok": "yes"}

    capsys.readouterr()
    with _client(app) as client:
        given = client.get("/test-probe", headers={"X-Request-ID": "lb-7f3a.42:abc"})
        made = client.get("/test-probe")
        refused = client.get("/test-probe", headers={"X-Request-ID": "bad id\twith space"})
        too_long = client.get("/test-probe", headers={"X-Request-ID": "a" * 129})
    assert given.headers["x-request-id"] == "lb-7f3a.42:abc"
    for response in (made, refused, too_long):
        assert re.fullmatch(r"[0-9a-f-]{36}", response.headers["x-request-id"])
    assert len({r.headers["x-request-id"] for r in (made, refused, too_long)}) == 3
    lines = [line for line in _logged(capsys.readouterr().err) if "probe" in str(line["event"])]
    assert [line["request_id"] for line in lines] == [
        given.headers["x-request-id"],
        given.headers["x-request-id"],
        made.headers["x-request-id"],
        made.headers["x-request-id"],
        refused.headers["x-request-id"],
        refused.headers["x-request-id"],
        too_long.headers["x-request-id"],
        too_long.headers["x-request-id"],
    ]
    assert all(line.get("my_number") in (None, "[redacted]") for line in lines)
    # Outside a request, nothing is bound.
    probe_log.info("probe_outside")
    (outside,) = list(_logged(capsys.readouterr().err))
    assert "request_id" not in outside


def test_an_unexpected_error_is_logged_with_the_request_id(
    container: Container, json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(container)

    @app.get("/test-crash")
    def crash() -> None:
        msg = "boom"
        raise RuntimeError(msg)

    capsys.readouterr()
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/test-crash", headers={"X-Request-ID": "crash-1"})
    assert response.status_code == 500
    (line,) = [x for x in _logged(capsys.readouterr().err) if x["event"] == "unhandled_error"]
    assert line["request_id"] == "crash-1"


# --- /readyz -------------------------------------------------------------------------------


def test_a_healthy_portal_is_ready(container: Container) -> None:
    with _client(create_app(container)) as client:
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "ready"
    assert answer["failed"] == []
    assert set(answer["checks"]) == {"database", "log_signer"}
    assert answer["checks"]["database"]["detail"].startswith("schema at 00")
    assert client.get("/healthz").json() == {"status": "ok"}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _fresh_container(settings: Settings, url: str) -> Container:
    return build_container(settings, engine=make_engine(url))


def test_an_unreachable_database_makes_the_portal_not_ready(settings: Settings) -> None:
    url = f"postgresql+psycopg://myna@127.0.0.1:{_closed_port()}/myna?connect_timeout=1"
    container = _fresh_container(settings, url)
    with _client(create_app(container)) as client:
        response = client.get("/readyz")
        assert client.get("/healthz").status_code == 200  # alive, not ready
    assert response.status_code == 503
    answer = response.json()
    assert answer["status"] == "not_ready"
    assert "database" in answer["failed"]
    assert answer["checks"]["database"] == {
        "ok": False,
        "detail": "unreachable",
        "seconds": answer["checks"]["database"]["seconds"],
    }
    container.engine.dispose()


def test_a_dropped_sqlite_file_makes_the_portal_not_ready(
    settings: Settings, tmp_path: Path
) -> None:
    # A removed SQLite file comes back empty on the next connection: no schema.
    container = _fresh_container(settings, f"sqlite:///{tmp_path / 'dropped.db'}")
    with _client(create_app(container)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["detail"] == "not migrated"
    container.engine.dispose()


def test_redis_down_makes_the_portal_not_ready(container: Container) -> None:
    app = create_app(
        _with(container, rate_limit_storage_url=f"redis://127.0.0.1:{_closed_port()}/0")
    )
    with _client(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    answer = response.json()
    assert answer["failed"] == ["redis"]
    assert answer["checks"]["redis"]["detail"] == "unreachable"
    assert answer["checks"]["database"]["ok"] is True


def test_redis_that_answers_is_checked_and_ready(container: Container) -> None:
    app = create_app(_with(container, rate_limit_storage_url="redis://127.0.0.1:6379/15"))
    with _client(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["redis"] == {
        "ok": True,
        "detail": "answers",
        "seconds": response.json()["checks"]["redis"]["seconds"],
    }


def test_entries_left_unsigned_too_long_make_the_portal_not_ready(
    container: Container, session: Session
) -> None:
    app = create_app(_with(container, ready_tree_head_max_age_seconds=60))
    late = utcnow() - timedelta(minutes=5)
    # A head signed five minutes ago, and entries waiting since then: the publisher is stuck.
    transparency.append(session=session, entries=_entries(1, start=late))
    transparency.publish_tree_head(session=session, signer=container.log_signer, now=late)
    transparency.append(session=session, entries=_entries(2, start=late))
    session.commit()
    with _client(app) as client:
        stuck = client.get("/readyz")
        container.publish_tree_head(session)
        session.commit()
        signed = client.get("/readyz")
    assert stuck.status_code == 503
    assert stuck.json()["failed"] == ["log_signer"]
    assert stuck.json()["checks"]["log_signer"]["detail"].startswith("2 entries unsigned for 3")
    assert signed.status_code == 200, signed.text


def test_an_idle_log_stays_ready_however_old_its_head() -> None:
    late = utcnow() - timedelta(days=3)
    assert transparency.LogStatus(5, 5, late, None).unsigned_for(utcnow()) == 0
    # Entries that just arrived after a long quiet time have not waited yet.
    just_now = utcnow() - timedelta(seconds=1)
    assert transparency.LogStatus(7, 5, late, just_now).unsigned_for(utcnow()) < 60
    # Before the first head, the oldest entry's wait is what counts.
    assert transparency.LogStatus(2, 0, None, late).unsigned_for(utcnow()) > 60


def test_a_log_key_that_cannot_be_read_makes_the_portal_not_ready(container: Container) -> None:
    keys = container.settings.data_dir.resolve() / "keys"
    keys.mkdir(parents=True)
    (keys / "exchange-log.pem").write_text("not a key\n", encoding="utf-8")
    with _client(create_app(container)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["log_signer"]


def _entries(n: int, *, start: object = None) -> list[transparency.NewEntry]:
    moment = start or utcnow()
    return [
        transparency.NewEntry(
            requester="portal",
            provider="mhlw",
            procedure="self-disclosure",
            item="health.insurance",
            subject="1001",
            outcome=transparency.Outcome.SUCCESS,
            time=moment,  # type: ignore[arg-type]
        )
        for _ in range(n)
    ]


def test_fastapis_opentelemetry_hooks_are_off_and_never_ask_for_a_provider(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Myna's observability is its own metrics and request-id logs: FastAPI's native
    # OpenTelemetry hooks stay off, and requests do not look the global providers up.
    asked: list[str] = []
    real = otel_trace.get_tracer_provider

    def counting_provider() -> otel_trace.TracerProvider:
        asked.append("tracer")
        return real()

    monkeypatch.setattr(otel_trace, "get_tracer_provider", counting_provider)
    app = create_app(container)
    with _client(app) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/").status_code == 200
    assert asked == []
    # An app with FastAPI's defaults does ask: the check can fail.
    default = FastAPI()
    default.add_api_route("/ping", lambda: {"ok": True})
    with TestClient(default) as client:
        assert client.get("/ping").status_code == 200
    assert asked
