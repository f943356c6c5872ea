"""What the resident's マイナ保険証 page needs to render."""

from __future__ import annotations

from datetime import UTC, datetime

from myna.medical.service import EnrolmentRead

CONTEXT = {
    "enrolment": EnrolmentRead(
        "06135123", "1234", "56789", "00", datetime(2026, 11, 28, tzinfo=UTC)
    ),
    "done": True,
    "problem": "p",
}
