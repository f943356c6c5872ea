"""Shared by the partner tests: a jwks_uri on 127.0.0.1, a sandbox policy, a clean key cache."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from myna.bootstrap import Container, build_container
from myna.partners import organizations
from myna.platform.settings import Settings


@dataclass
class Answer:
    """What the key server answers at one path."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    # Send no Content-Length (the body ends when the connection closes).
    unsized: bool = False
    # Send the body a byte at a time, this many seconds apart.
    drip_seconds: float = 0.0


class KeyServer:
    """A jwks_uri on 127.0.0.1: answers what a test puts at a path, counts requests and
    remembers the Host header each one carried."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.hits: dict[str, int] = {}
        self.hosts: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                server.hosts.append(self.headers.get("Host", ""))
                answer = server.answers.get(self.path, Answer(404, b""))
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if not answer.unsized:
                    self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                try:
                    if not answer.drip_seconds:
                        self.wfile.write(answer.body)
                        return
                    until = time.monotonic() + 5  # never longer than this, whoever listens
                    for byte in answer.body:
                        if time.monotonic() > until:
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(answer.drip_seconds)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the platform gave up, as it should

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def put(self, body: Any, *, status: int = 200, **options: Any) -> str:
        """Serve ``body`` at a new path; its URL."""
        path = f"/{uuid.uuid4().hex}/jwks.json"
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers[path] = Answer(status, raw, **options)
        return f"http://127.0.0.1:{self.port}{path}"

    def path_of(self, url: str) -> str:
        return "/" + url.split("/", 3)[3]

    def count(self, url: str) -> int:
        return self.hits.get(self.path_of(url), 0)

    @property
    def total(self) -> int:
        return sum(self.hits.values())


@pytest.fixture
def key_server() -> Iterator[KeyServer]:
    server = KeyServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    server.thread.join()


@dataclass
class Clock:
    """A monotonic clock the test moves forward (no sleeping)."""

    now: float = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def jwks_cache(clock: Clock) -> organizations.JwksCache:
    """This test's own cache of fetched key sets (the container owns one per process)."""
    return organizations.JwksCache(clock)


@pytest.fixture
def sandbox_settings(settings: Settings) -> Settings:
    """The test settings, but a jwks_uri may be on 127.0.0.1 (as in development)."""
    return settings.model_copy(update={"partner_jwks_allow_loopback": True})


@pytest.fixture
def sandbox_container(
    sandbox_settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Container:
    built = build_container(sandbox_settings, engine=engine)
    built.session_factory = session_factory
    return built
