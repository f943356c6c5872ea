"""gettext-based translations (Babel catalogs), Japanese first, English on request.

Message ids are English; ``locale/ja/LC_MESSAGES/*.po`` hold the Japanese, one file per
context (``portal.po``, ``jpki.po`` ...), merged into one catalog per locale. Catalogs are
compiled in memory from the ``.po`` files at start, so a checkout needs no build step
and the repository holds no compiled artefacts.
"""

from __future__ import annotations

import gettext as _gettext
from contextvars import ContextVar
from datetime import UTC, date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from myna.platform.clock import JST
from myna.platform.wareki import format_wareki, format_wareki_en

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
SUPPORTED_LOCALES = ("ja", "en")
DEFAULT_LOCALE = "ja"

_current: ContextVar[str] = ContextVar("myna_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    """The compiled catalog for ``locale`` (identity for English message ids)."""
    files = sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po"))
    if not files:
        return _gettext.NullTranslations()
    merged = Catalog(locale=locale)
    for po in files:
        with po.open("rb") as handle:
            for message in read_po(handle, locale=locale):
                if message.id and message.string:
                    merged[message.id] = message
    buffer = BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return Translations(fp=buffer)


def set_locale(locale: str) -> None:
    """Use ``locale`` for the rest of this request or command."""
    _current.set(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)


def get_locale() -> str:
    """The locale in force."""
    return _current.get()


def negotiate(requested: str | None, accept_language: str | None) -> str:
    """An explicit choice wins; then Accept-Language; then Japanese."""
    if requested in SUPPORTED_LOCALES:
        return requested
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag[:2] in SUPPORTED_LOCALES:
            return tag[:2]
    return DEFAULT_LOCALE


def gettext(message: str) -> str:
    """Translate ``message`` into the locale in force."""
    return translations(get_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate with a plural form."""
    return translations(get_locale()).ngettext(singular, plural, n)


_ = gettext


def format_date(value: date | datetime) -> str:
    """A date as residents expect it: 和暦 in Japanese, with the era in English.

    Timestamps are shown as the calendar day in Japan; a timestamp without a zone is
    taken as UTC, as Myna stores every one (never as the server's local time).
    """
    day = _in_japan(value).date() if isinstance(value, datetime) else value
    try:
        return format_wareki(day) if get_locale() == "ja" else format_wareki_en(day)
    except ValueError:
        # Before 明治 there is no era to write it in: the Gregorian date, not an error.
        return day.isoformat()


def format_yen(amount: int) -> str:
    """An amount of yen with thousands separators: ``1,234円`` in Japanese, ``¥1,234`` else."""
    return f"{amount:,}円" if get_locale() == "ja" else f"¥{amount:,}"


def format_datetime(value: datetime) -> str:
    """A moment as residents expect it: the 和暦 date and the time in Japan."""
    return f"{format_date(value)} {_in_japan(value):%H:%M}"


def _in_japan(value: datetime) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(JST)
