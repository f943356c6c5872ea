"""What the certificates' pages (verification, request, 印鑑登録) and the kiosk need."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

from myna.certificates.domain import CertificateKind
from myna.certificates.office_views import Done
from myna.certificates.service import IssuanceStatus
from myna.kiosk.app import Use
from myna.kiosk.client import Choices, Member

_STATUS = IssuanceStatus(
    number="ABCD-EFGH-JKLM-NPQR",
    kind=CertificateKind.RESIDENT_RECORD,
    municipality_name="東京都千代田区",
    issued_on="令和8年12月4日",
    cancelled=False,
    signer_revoked=False,
)
_CHOICES = Choices(
    session_id="s1",
    holder_name="山田 太郎",
    municipality_name="東京都千代田区",
    members=[
        Member(id=1, name="山田 太郎", relation="世帯主", is_holder=True),
        Member(id=2, name="山田 花子", relation="妻", is_holder=False),
    ],
    fees={"resident-record": 200, "seal-registration": 200, "tax": 200},
    expires_at=datetime(2026, 12, 4, 3, 10, tzinfo=UTC),
)

CONTEXT = {
    "certificates_number": "ABCD-EFGH-JKLM-NPQR",
    "certificates_status": _STATUS,
    "certificates_kind_label": "住民票の写し",
    "certificates_verified": SimpleNamespace(
        status=_STATUS,
        signature=SimpleNamespace(level="B-LTA", signer_organization="東京都千代田区"),
    ),
    "certificates_signed_at": "令和8年12月4日 12:00",
    "certificates_max_kb": 768,
    "certificates_household": [
        SimpleNamespace(
            id=1,
            full_name="山田 太郎",
            relation=SimpleNamespace(value="世帯主"),
            birth_date=date(1985, 4, 12),
        )
    ],
    "certificates_self_id": 1,
    "certificates_kinds": [("resident-record", "住民票の写し", 300)],
    "certificates_chosen": {"kind": ["resident-record"], "members": ["1"]},
    "certificates_office_municipality": "東京都千代田区",
    "certificates_office_done": Done(True, "山田 太郎", "13101600000001"),
    "certificates_office_card_id": "c1",
    "kiosk_use": Use("s1", "n1", kept_until=datetime(2026, 12, 4, 3, 10, tzinfo=UTC)),
    "kiosk_card": SimpleNamespace(holder_name="山田 太郎"),
    "kiosk_choices": _CHOICES,
    "kiosk_kinds": [("resident-record", "住民票の写し", 200)],
    "kiosk_values": {"kind": "resident-record", "members": ["1"]},
    "kiosk_number": "ABCD-EFGH-JKLM-NPQR",
    "kiosk_kind": "住民票の写し",
    "kiosk_fee": 200,
}
