"""Japan time: the calendar day residents, deadlines and reserved days turn over by."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

__all__ = ["JST", "today_in_japan"]

JST = ZoneInfo("Asia/Tokyo")


def today_in_japan(now: datetime | None = None) -> date:
    """The calendar day in Japan at ``now`` (default: this moment); midnight JST turns it."""
    return (now or datetime.now(UTC)).astimezone(JST).date()
