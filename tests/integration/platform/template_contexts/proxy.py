"""What the proxies' pages (代理人) and the page of what proxies did need to render."""

from __future__ import annotations

from datetime import UTC, date, datetime

from myna.proxy.domain import SCOPE_LABELS, Appointment, Authority, Kind, Scope
from myna.proxy.service import ActivityView, AppointmentView, AuthorityView

_APPOINTMENT = Appointment(
    id=1,
    principal_id=1,
    proxy_id=2,
    scopes=frozenset({Scope.NOTICES, Scope.APPLY}),
    valid_until=date(2027, 3, 31),
    accepted_at=None,
    revoked_at=None,
)
_VIEW = AppointmentView(
    appointment=_APPOINTMENT,
    status="pending",
    principal_name="佐藤 美咲",
    proxy_name="山田 花子",
    created_at=datetime(2027, 1, 5, 1, 0, tzinfo=UTC),
)

CONTEXT = {
    "proxy_authorities": [
        AuthorityView(
            authority=Authority(
                kind=Kind.LEGAL,
                principal_id=3,
                proxy_id=1,
                scopes=frozenset(Scope),
                grant="legal:3",
            ),
            principal_name="山田 陽翔",
        ),
        AuthorityView(
            authority=Authority(
                kind=Kind.APPOINTED,
                principal_id=4,
                proxy_id=1,
                scopes=frozenset({Scope.MY_INFO}),
                grant="appointment:1",
                valid_until=date(2027, 3, 31),
            ),
            principal_name="佐藤 美咲",
        ),
    ],
    "proxy_pending": [_VIEW],
    "proxy_made": [_VIEW],
    "proxy_scope_labels": {s.value: label for s, label in SCOPE_LABELS.items()},
    "proxy_scopes": [(s.value, label) for s, label in SCOPE_LABELS.items()],
    "proxy_chosen": frozenset({"notices"}),
    "proxy_until": "2027-03-31",
    "proxy_today": date(2027, 1, 5),
    "proxy_max_days": 366,
    "proxy_problem": "",
    "proxy_done": "appointed",
    "proxy_code": "7K3M-Q9TD-2HXA",
    "proxy_code_expires_at": datetime(2027, 1, 5, 1, 30, tzinfo=UTC),
    "proxy_appointment": _VIEW,
    "proxy_acts": [
        ActivityView(
            occurred_at=datetime(2027, 1, 6, 1, 0, tzinfo=UTC),
            proxy_name="山田 花子",
            kind=Kind.APPOINTED,
            action="notice_opened",
            detail="住民税の納付について",
        )
    ],
    "proxy_exchanges": [],
    "signing_proxy": "山田 花子",
}
