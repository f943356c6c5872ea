"""The demo's 民間送達: 山田 太郎's employer and insurers deliver his 令和7年分 documents.

The senders' keys are the caller's (written under the data dir); each document is
delivered through the same signed path as the sender API, once: a document id already
delivered is skipped, so a second demo start delivers nothing new.

みなと電機 is linked as a sender of kind ``employer``, so 太郎 can hand his two
控除証明書 (さくら生命's and みなと損保's) over to it for 年末調整 from his box
(``/delivery/year-end-adjustment``); nothing is handed over automatically.
``examples/minato_denki`` then collects them with the key under ``var/senders``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from myna.delivery import service
from myna.delivery.documents import (
    Document,
    EarthquakeInsuranceCertificate,
    InsuredObject,
    LifeInsuranceCategory,
    LifeInsuranceCertificate,
    LifeInsuranceSystem,
    SalaryWithholdingSlip,
)
from myna.delivery.identity import SenderIdentity
from myna.platform.settings import Settings

DEMO_YEAR = 2025  # 令和7年分
# (code, name, kind): みなと電機 is 山田 太郎's employer.
DEMO_SENDERS: tuple[tuple[str, str, str], ...] = (
    ("minato-denki", "みなと電機株式会社", "employer"),
    ("sakura-life", "さくら生命保険株式会社", "life-insurer"),
    ("minato-sonpo", "みなと損害保険株式会社", "non-life-insurer"),
)
_PERSON = "山田 太郎"


def _documents(sender: SenderIdentity, recipient: str) -> list[Document]:
    header = {
        "sender_code": sender.organization_code,
        "sender_name": sender.name,
        "recipient": recipient,
        "year": DEMO_YEAR,
    }
    if sender.code == "minato-denki":
        # 給与 5,200,000円: 給与所得控除後 3,720,000円; 社会保険料 780,000円 and 基礎控除
        # 680,000円 (令和7年分, 合計所得 336万超489万以下); no insurance declared at 年末調整,
        # so the certificates below go into the return (unless 太郎 hands them over first).
        return [
            SalaryWithholdingSlip(
                document_id="GS-2025-000123",
                issued_on=date(2026, 1, 20),
                **header,  # type: ignore[arg-type]
                payer_name=sender.name,
                payer_address="東京都千代田区丸の内1-2-3",
                payee=_PERSON,
                payment_amount=5_200_000,
                income_after_employment_deduction=3_720_000,
                total_deductions=1_460_000,
                withholding_tax=131_100,
                social_insurance=780_000,
            )
        ]
    if sender.code == "sakura-life":
        return [
            LifeInsuranceCertificate(
                document_id="SL-2025-0012345",
                issued_on=date(2025, 10, 15),
                **header,  # type: ignore[arg-type]
                insurer_name=sender.name,
                contractor=_PERSON,
                policy_number="SL-0012345",
                insurance_type="終身保険",
                insured=_PERSON,
                system=LifeInsuranceSystem.NEW,
                category=LifeInsuranceCategory.GENERAL,
                certified_amount=92_580,
                certified_as_of=date(2025, 9, 30),
                declared_amount=123_440,
            )
        ]
    return [
        EarthquakeInsuranceCertificate(
            document_id="MS-2025-0007788",
            issued_on=date(2025, 10, 20),
            **header,  # type: ignore[arg-type]
            insurer_name=sender.name,
            contractor=_PERSON,
            policy_number="MS-77-001",
            insured=_PERSON,
            insured_object=InsuredObject.BUILDING_AND_HOUSEHOLD_GOODS,
            certified_as_of=date(2025, 10, 1),
            earthquake_premium=38_400,
        )
    ]


def deliver_demo_documents(
    *, session: Session, settings: Settings, resident_id: int, senders: list[SenderIdentity]
) -> int:
    """Link each sender to the resident and deliver its documents once; how many were new."""
    delivered = 0
    for sender in senders:
        link = service.link(session=session, resident_id=resident_id, sender_code=sender.code)
        if link.recipient_id is None:  # pragma: no cover - a fresh link has its id
            continue
        for document in _documents(sender, link.recipient_id):
            if service.is_delivered(
                session=session, sender_code=sender.code, document_id=document.document_id
            ):
                continue
            signed = sender.sign_document(document.to_xml())
            service.deliver(
                session=session, settings=settings, token=sender.delivery(link.recipient_id, signed)
            )
            delivered += 1
    return delivered
