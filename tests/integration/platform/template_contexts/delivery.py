"""What the 民間送達 pages need to render: a box with one document, senders with a link."""

from __future__ import annotations

from datetime import UTC, datetime

from myna.delivery.documents import DocumentKind
from myna.delivery.domain import SENDER_KIND_LABELS, SenderKind
from myna.delivery.service import Box, BoxItem, LogEntry, SenderLink, SenderRead

_AT = datetime(2026, 1, 20, tzinfo=UTC)
_ITEM = BoxItem(
    id="d1",
    sender_name="さくら生命保険株式会社",
    kind=DocumentKind.LIFE_INSURANCE,
    kind_name="生命保険料控除証明書",
    title="生命保険料控除証明書（一般・新制度）",
    year=2025,
    document_id="LI-2025-0001",
    received_at=_AT,
    read_at=None,
    lines=[("生命保険料控除証明書（一般・新制度）", "令和7年分の払込保険料 123,456円")],
)
_SENDER = SenderRead(
    "sakura-life", "さくら生命保険株式会社", SenderKind.LIFE_INSURER, "ds-sakura-life", _AT, False
)

CONTEXT = {
    "box": Box([_ITEM], 1, [LogEntry(_AT, "delivered", "さくら生命保険株式会社", "d1")]),
    "item": _ITEM,
    "links": [
        SenderLink(_SENDER, True, "Xy7_recipient-number-000000000000", _AT),
        SenderLink(_SENDER, False, None, None),
    ],
    "kind_labels": SENDER_KIND_LABELS,
    "done": "linked",
}
