"""Structured logging (structlog) with personal data kept out of the records."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Keys whose values must never reach a log line, whoever passes them.
_SENSITIVE_KEYS = frozenset(
    {"my_number", "pin", "password", "private_key", "secret", "token", "cookie", "signature"}
)


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key.lower() in _SENSITIVE_KEYS:
            event[key] = "[redacted]"
    return event


class _StderrLogger:
    """Writes each record to whatever ``sys.stderr`` is at that moment.

    structlog's PrintLogger keeps the stream it was given; a CLI runner or test harness
    that swaps and closes stderr would then break every later log call.
    """

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)  # noqa: T201 - this is the log sink

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def _stderr_logger(*_args: Any) -> _StderrLogger:
    return _StderrLogger()


def configure_logging(*, level: str = "INFO", json: bool = True) -> None:
    """Route stdlib and structlog records through one renderer on stderr."""
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=_stderr_logger,
        # Not cached: the CLI, the servers and the tests reconfigure at run time, and a
        # cached logger would keep the first configuration it saw.
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    """A bound structlog logger named after its module."""
    return structlog.get_logger(name)
