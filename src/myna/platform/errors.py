"""Errors that people see: each carries an English message id translated on display.

Domain code raises these (no I/O involved); web routes and the CLI render
``error.localized()`` in the reader's language, never a stack trace.
"""

from __future__ import annotations

from typing import Any

from myna.platform import i18n


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, don't translate"
    """Mark ``message`` for extraction into the catalogs without translating it yet."""
    return message


class MynaError(Exception):
    """An error with a message fit for a resident, an operator or an integrator.

    ``code`` is stable and machine-readable (APIs return it); ``message`` is an English
    gettext message id that may contain ``{named}`` fields filled from ``params``.
    """

    code: str = "error"
    message: str = N_("Something went wrong. Please try again later.")
    status_code: int = 400

    def __init_subclass__(
        cls, *, code: str | None = None, status_code: int | None = None, **kwargs: Any
    ) -> None:
        """Let a subclass name its code and status in its header.

        ``class UnknownItemError(NotFoundError, code="unknown_item")`` keeps an error to
        its name, its docstring and its message.
        """
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if status_code is not None:
            cls.status_code = status_code

    def __init__(self, message: str | None = None, /, **params: Any) -> None:
        if message is not None:
            self.message = message
        self.params = params
        super().__init__(self.message.format(**params) if params else self.message)

    def localized(self) -> str:
        """The message in the locale in force, with its fields filled in."""
        text = i18n.gettext(self.message)
        return text.format(**self.params) if self.params else text


class NotFoundError(MynaError, code="not_found", status_code=404):
    """Something asked for does not exist (or may not be seen by the caller)."""

    message = N_("Not found.")


class RateLimitedError(MynaError, code="rate_limited", status_code=429):
    """Too many attempts from one client within the limit's window."""

    message = N_("Too many attempts. Please wait a minute and try again.")


class RateLimitUnavailableError(MynaError, code="temporarily_unavailable", status_code=503):
    """A guarded step (a login, a PIN, a consent) cannot be counted just now, so it waits.

    The code is OAuth's own (RFC 6749 §4.1.2.1), so the token endpoints can answer it as is.
    """

    message = N_("This cannot be done for a moment. Please try again shortly.")
