"""Readiness (``/readyz``): whether this process can serve, check by check.

Liveness (``/healthz``) says the process answers; readiness says what it needs answers
too: the database (migrated to the schema this code expects), the shared rate-limit
storage when it is Redis, the exchange log's signer. The checks run in turn, each in a
thread of a small pool of its own and bounded by a timeout, so a hung database makes
the probe say "not ready" in time instead of hanging it — and never takes the threads
that serve requests. The composition root lists the checks; a check returns a short detail when
it passes and raises :class:`NotReadyError` (or anything else) when it does not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Literal

import anyio
import anyio.to_thread
from alembic.script import ScriptDirectory
from pydantic import BaseModel, Field
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from myna.platform.logging import get_logger
from myna.platform.migrate import alembic_config

__all__ = [
    "Check",
    "CheckAnswer",
    "CheckResult",
    "NotReadyError",
    "Readiness",
    "ReadinessAnswer",
    "ReadinessProbe",
    "database_check",
    "schema_head",
    "storage_check",
]

log = get_logger(__name__)

# Threads for probes' checks, apart from the request handlers' pool: checks abandoned
# on a hung database hold these, never a thread that serves residents.
_PROBE_THREADS = 4


class NotReadyError(Exception):
    """A check's plain reason (shown to the operator: no personal data, no secrets)."""


@dataclass(frozen=True, slots=True)
class Check:
    """One named readiness check: returns a detail, or raises why it is not ready."""

    name: str
    run: Callable[[], str]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's answer."""

    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass(frozen=True, slots=True)
class Readiness:
    """Every check's answer; ready when all passed."""

    checks: tuple[CheckResult, ...]

    @property
    def ready(self) -> bool:
        """Whether every check passed."""
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> list[str]:
        """The names of the checks that did not pass."""
        return [check.name for check in self.checks if not check.ok]


class ReadinessProbe:
    """Runs the checks in turn, each within ``timeout_seconds``."""

    def __init__(self, checks: Sequence[Check], *, timeout_seconds: float) -> None:
        self.checks = tuple(checks)
        self.timeout_seconds = timeout_seconds

    @cached_property
    def _threads(self) -> anyio.CapacityLimiter:
        # Made on first use, inside the event loop that runs the probes.
        return anyio.CapacityLimiter(_PROBE_THREADS)

    async def run(self) -> Readiness:
        """Every check's result, one after the other (two of them read the database)."""
        return Readiness(checks=tuple([await self._one(check) for check in self.checks]))

    async def _one(self, check: Check) -> CheckResult:
        started = anyio.current_time()
        ok, detail = False, "timed out"
        with anyio.move_on_after(self.timeout_seconds):
            try:
                # A blocked call cannot be interrupted; the probe stops waiting for it.
                detail = await anyio.to_thread.run_sync(
                    check.run, abandon_on_cancel=True, limiter=self._threads
                )
                ok = True
            except NotReadyError as error:
                detail = str(error)
            except Exception as error:
                detail = type(error).__name__
                log.warning("readiness_check_failed", check=check.name, error=detail)
        seconds = round(anyio.current_time() - started, 4)
        return CheckResult(check.name, ok, detail, seconds)


def storage_check(name: str, answers: Callable[[], bool]) -> Check:
    """A shared storage (the rate limits' Redis) answers."""

    def run() -> str:
        if not answers():
            raise NotReadyError("unreachable")
        return "answers"

    return Check(name, run)


@cache
def schema_head() -> str:
    """The newest migration this code knows (what a ready database must be at).

    Read once per process: reading it loads every migration script (tens of
    milliseconds), and the scripts are the installed code's, changed only by a restart.
    """
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    return head or ""


def database_check(
    sessions: Callable[[], Session], *, expected_revision: str, timeout_seconds: float
) -> Check:
    """The database answers a trivial query and is migrated to ``expected_revision``.

    A SQLite file that was removed comes back empty (SQLite creates it on connect) and
    fails here as not migrated; on PostgreSQL the query carries a statement timeout.
    """

    def run() -> str:
        with sessions() as session:
            try:
                connection = session.connection()
                if connection.dialect.name == "postgresql":
                    milliseconds = max(1, int(timeout_seconds * 1000))
                    connection.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
                connection.execute(text("SELECT 1"))
            except DBAPIError as error:
                raise NotReadyError("unreachable") from error
            if not inspect(connection).has_table("alembic_version"):
                raise NotReadyError("not migrated")
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        if revision != expected_revision:
            msg = f"schema at {revision or 'nothing'}, expected {expected_revision}"
            raise NotReadyError(msg)
        return f"schema at {revision}"

    return Check("database", run)


class CheckAnswer(BaseModel):
    """One check in the ``/readyz`` answer."""

    ok: bool = Field(description="Whether the check passed.")
    detail: str = Field(description="What it found (the schema revision, why it failed).")
    seconds: float = Field(description="How long the check took.")


class ReadinessAnswer(BaseModel):
    """The ``/readyz`` answer: 200 when every check passed, 503 otherwise."""

    status: Literal["ready", "not_ready"]
    checks: dict[str, CheckAnswer] = Field(description="Each check by name.")
    failed: list[str] = Field(description="The names of the checks that did not pass.")

    @classmethod
    def of(cls, readiness: Readiness) -> ReadinessAnswer:
        """The answer for ``readiness``."""
        return cls(
            status="ready" if readiness.ready else "not_ready",
            checks={
                check.name: CheckAnswer(ok=check.ok, detail=check.detail, seconds=check.seconds)
                for check in readiness.checks
            },
            failed=readiness.failed,
        )
