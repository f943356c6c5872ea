"""Variables of the residents' signing and application-history pages."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from myna.applications.forms import ReadableGroup

AT = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
_application = SimpleNamespace(
    receipt_number="7K3M-Q9TD-2HXA-R4WB",
    procedure_name="罹災証明書の発行申請",
    status_label="受付",
    submitted_at=AT,
    signer_name="山田 太郎",
)

CONTEXT = {
    "apply_problem": "",
    "apply_prefill": [SimpleNamespace(title="被害を受けた建物")],
    "apply_attachments": [SimpleNamespace(id=1, name="写真.pdf", size=2048)],
    "apply_max_attachments": 5,
    "apply_max_attachment_mb": 5,
    "submission_key": "k",
    "signing": SimpleNamespace(
        id="r" * 43,
        procedure_name="罹災証明書の発行申請",
        municipality_name="東京都千代田区",
        expires_at=AT,
        content_sha256="ab" * 32,
        origin="http://127.0.0.1:8000",
        document={
            "procedure": {"code": "disaster-certificate", "name": "罹災証明書の発行申請"},
            "municipality": {"code": "131016", "name": "東京都千代田区"},
            "applicant": {"name": "山田 太郎"},
            "attachments": [{"name": "写真.pdf"}],
        },
        answers=[ReadableGroup(title="災害について", answers=(("災害の種類", "台風"),))],
    ),
    "receipt_number": "7K3M-Q9TD-2HXA-R4WB",
    "signing_answers": [ReadableGroup(title="災害について", answers=(("災害の種類", "台風"),))],
    "signing_attachments": [{"name": "写真.pdf", "sha256": "cd" * 32}],
    "signing_applicant": "山田 太郎",
    "signing_link": "http://127.0.0.1:8001/sign?request_uri=x",
    "signing_state": {
        "state": "error",
        "error": "signing_certificate_revoked",
        "message": "署名用電子証明書が失効しているため、申請に署名できません。",
    },
    "signing_form": "/apply/131016/disaster-certificate",
    "review_action": "/apply/131016/disaster-certificate",
    "review_document": {
        "procedure": {"code": "disaster-certificate", "name": "罹災証明書の発行申請"},
        "municipality": {"code": "131016", "name": "東京都千代田区"},
        "applicant": {"name": "山田 太郎"},
    },
    "review_answers": [
        ReadableGroup(title="災害について", answers=(("被災した日", "令和8年9月15日"),))
    ],
    "review_attachments": [{"name": "写真.pdf", "size": 2048}],
    "review_problem": "",
    "application_page": SimpleNamespace(items=[_application], page=1, pages=2),
    "application": _application,
    "application_events": [
        SimpleNamespace(created_at=AT, status="received", status_label="受付", comment="")
    ],
    "application_files": [SimpleNamespace(name="写真.pdf")],
    "application_answers": [ReadableGroup(title="災害について", answers=(("災害の種類", "台風"),))],
    "application_needs_correction": True,
}
