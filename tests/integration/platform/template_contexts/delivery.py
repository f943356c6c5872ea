"""What the 民間送達 pages need to render: a box with one document, senders with a link,
and the 年末調整 pages: an employer, a certificate, hand-overs in every status."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from myna.delivery.documents import DocumentKind
from myna.delivery.domain import (
    HANDOVER_STATUS_LABELS,
    SENDER_KIND_LABELS,
    HandoverStatus,
    SenderKind,
)
from myna.delivery.handovers import (
    Certificate,
    Employer,
    HandedDocument,
    HandoverItem,
    HandoverPlan,
    YearEndAdjustment,
)
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

_EMPLOYER = Employer("minato-denki", "みなと電機株式会社")
_CERTIFICATE = Certificate(
    delivery_id="d1",
    sender_name="さくら生命保険株式会社",
    kind=DocumentKind.LIFE_INSURANCE,
    kind_name="生命保険料控除証明書",
    title="生命保険料控除証明書（一般・新制度）",
    year=2025,
    document_id="LI-2025-0001",
    summary="令和7年分の払込保険料 123,456円",
    handed_to=frozenset(),
)
_HANDED = dataclasses.replace(_CERTIFICATE, delivery_id="d2", handed_to=frozenset({"minato-denki"}))


def _handover(status: HandoverStatus) -> HandoverItem:
    return HandoverItem(
        id=f"h-{status.value}",
        employer_code="minato-denki",
        employer_name="みなと電機株式会社",
        year=2025,
        year_name="令和7年分",
        status=status,
        handed_over_at=_AT,
        withdrawn_at=_AT if status is HandoverStatus.WITHDRAWN else None,
        collected_at=_AT if status is HandoverStatus.COLLECTED else None,
        documents=[HandedDocument("d1", "生命保険料控除証明書（一般・新制度）", "さくら生命")],
    )


CONTEXT = {
    "box": Box(
        [_ITEM],
        1,
        [
            LogEntry(_AT, action, "さくら生命保険株式会社", "d1")
            for action in ("delivered", "handed_over", "withdrawn", "collected")
        ],
    ),
    "item": _ITEM,
    "links": [
        SenderLink(_SENDER, True, "Xy7_recipient-number-000000000000", _AT),
        SenderLink(_SENDER, False, None, None),
    ],
    "kind_labels": SENDER_KIND_LABELS,
    "done": "linked",
    "handover_page": YearEndAdjustment(
        year=2025,
        year_name="令和7年分",
        years=[(2025, "令和7年分"), (2024, "令和6年分")],
        employers=[_EMPLOYER],
        certificates=[_CERTIFICATE, _HANDED],
        handovers=[_handover(status) for status in HandoverStatus],
    ),
    "handover_status_labels": HANDOVER_STATUS_LABELS,
    "handover_done": "handed_over",
    "handover_problem": "p",
    "handover_plan": HandoverPlan(_EMPLOYER, 2025, "令和7年分", [_CERTIFICATE]),
}
