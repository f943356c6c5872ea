"""Data files in TOML, read entry by entry: errors that name the file and the entry.

The network's catalog (``myna.agencies``) and the procedure catalog (``myna.catalog``)
are read from TOML files at start-up and checked entry by entry, so that a malformed
entry stops the load with a message naming the file, the entry and what is wrong.
This module holds what both readers share: the error whose reason is itself a
translated message, the reasons they have in common, and the entry being read.
"""

from __future__ import annotations

import tomllib
from collections.abc import Container
from typing import Any, ClassVar

from myna.platform import i18n
from myna.platform.errors import N_, MynaError

NOT_TEXT = N_("the key {key} must be a non-empty text.")
NOT_BOOL = N_("the key {key} must be true or false.")
DUPLICATE = N_("the code {value} is used twice.")
NOT_ONE_OF = N_("{value} is not one of: {choices}.")


class ReasonedError(MynaError):
    """An error whose ``reason`` parameter is itself a message id, translated too."""

    def __init__(self, message: str | None = None, /, **params: Any) -> None:
        super().__init__(message, **params)
        reason = params.get("reason")
        if isinstance(reason, str):
            filled = {**params, "reason": reason.format(**params)}
            Exception.__init__(self, self.message.format(**filled))

    def localized(self) -> str:
        """The message with ``reason`` translated and filled from the same params."""
        params = dict(self.params)
        reason = params.get("reason")
        if isinstance(reason, str):
            params["reason"] = i18n.gettext(reason).format(**params)
        return i18n.gettext(self.message).format(**params)


def read_toml(file: str, text: str, error: type[ReasonedError]) -> dict[str, Any]:
    """The document in ``text``, or ``error`` naming ``file`` when it is not TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(
            file=file,
            entry="-",
            reason=N_("the file cannot be read as TOML ({detail})."),
            detail=str(exc),
        ) from None


class TomlEntry:
    """One table of a data file being read, for errors that name it.

    A subclass names its file error (``error_type``), the reason given when the entry is
    not a table (``not_a_table``, filled with ``key``: the entry) and how an entry with
    a ``code`` is named once the code is known (:meth:`named`).
    """

    error_type: ClassVar[type[ReasonedError]]
    not_a_table: ClassVar[str]

    def __init__(self, file: str, entry: str, table: Any, allowed: Container[str]) -> None:
        self.file = file
        self.entry = entry
        if not isinstance(table, dict):
            raise self.error(self.not_a_table, key=entry)
        self.table: dict[str, Any] = table
        code = table.get("code")
        if isinstance(code, str) and code:
            self.entry = self.named(code)
        for key in table:
            if key not in allowed:
                raise self.error(N_("the key {key} is not known here."), key=key)

    def named(self, code: str) -> str:
        """The entry's name once its ``code`` is known (by default, unchanged)."""
        del code
        return self.entry

    def error(self, reason: str, **params: Any) -> ReasonedError:
        """The file error for this entry, with ``reason`` filled from ``params``."""
        return self.error_type(file=self.file, entry=self.entry, reason=reason, **params)

    def required(self, key: str, *, required: bool = True) -> Any:
        """The value of ``key``; None when absent and not ``required``."""
        value = self.table.get(key)
        if value is None and required:
            raise self.error(N_("the key {key} is required."), key=key)
        return value
