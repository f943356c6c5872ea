"""Sample values for the phone app's pages (portal/phone/*.html)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

CONTEXT = {
    "phone_resident": True,
    "phone_view": SimpleNamespace(issued_at=datetime(2026, 12, 6, 3, 0, tzinfo=UTC)),
    "phone_request_uri": "/api/login/challenges/abc",
    "phone_origin": "http://testserver",
}
