"""Bounds on numbers and dates that come from outside, checked before they are used.

An id in a URL goes to the database, where PostgreSQL refuses an INTEGER above
``2**31 - 1`` (a BIGINT above ``2**63 - 1``) and SQLite any number above ``2**63 - 1``,
each with an error rather than "no such row". A date from a form or a filter meets
date arithmetic, and Python's calendar ends on 9999-12-31 (and starts on 0001-01-01):
``until=9999-12-31`` plus one day, or ``0001-01-01T00:00+09:00`` in UTC, overflows.
So every integer path or query parameter of a route takes one of the annotated types
below (an architecture test checks that each has an upper bound), and every date a
person or a client sends is held to :data:`EARLIEST_DATE` … :data:`LATEST_DATE`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from annotated_types import Ge, Le

from myna.platform.errors import N_, MynaError

INT32_MAX = 2**31 - 1  # PostgreSQL INTEGER
INT64_MAX = 2**63 - 1  # PostgreSQL BIGINT, and SQLite's INTEGER
MAX_PAGE = 100_000

RowId = Annotated[int, Ge(1), Le(INT32_MAX)]
"""The id of a row whose key is an INTEGER column (most tables: attachments, moves...)."""

BigRowId = Annotated[int, Ge(1), Le(INT64_MAX)]
"""The id of a row whose key is a BIGINT column (notices and their attachments)."""

LogIndex = Annotated[int, Ge(0), Le(INT64_MAX)]
"""A leaf index of the exchange log (a BIGINT key, counted from 0)."""

TreeSize = Annotated[int, Ge(0), Le(INT64_MAX)]
"""A size of the exchange log's tree (0 is the empty tree)."""

PageNumber = Annotated[int, Ge(1), Le(MAX_PAGE)]
"""A page of a listing, from 1."""

# Far enough apart for any birth, move or deadline a resident or an office enters, and
# well inside the calendar, so a day or a time zone more or less never overflows. The
# earliest is also after the first era 和暦 dates are written in (明治, 1868).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)
_EARLIEST_EPOCH = datetime.combine(EARLIEST_DATE, time(), UTC).timestamp()
_LATEST_EPOCH = datetime.combine(LATEST_DATE, time.max, UTC).timestamp()


class DateOutOfRangeError(MynaError, code="date_out_of_range", status_code=422):
    """A date (or a time) sent from outside, before 1900 or after 2100."""

    message = N_("Dates must be from {earliest} to {latest}.")

    def __init__(self) -> None:
        super().__init__(earliest=EARLIEST_DATE.isoformat(), latest=LATEST_DATE.isoformat())


def plausible_date(day: date) -> bool:
    """Whether ``day`` lies in the range this platform accepts from outside."""
    return EARLIEST_DATE <= day <= LATEST_DATE


def check_date(day: date) -> date:
    """``day`` itself, or DateOutOfRangeError."""
    if not plausible_date(day):
        raise DateOutOfRangeError
    return day


def from_epoch(seconds: float) -> datetime:
    """The UTC instant ``seconds`` after 1970 (a JWT NumericDate); DateOutOfRangeError if absurd.

    Compared before any conversion: a huge integer cannot become a float, NaN and
    infinities compare false, and ``datetime.fromtimestamp`` overflows past year 9999.
    """
    if not _EARLIEST_EPOCH <= seconds <= _LATEST_EPOCH:
        raise DateOutOfRangeError
    return datetime.fromtimestamp(seconds, tz=UTC)
