"""山田 太郎's 令和7年分 return: documents in a fake box, his 医療費通知 at his insurer."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna import agencies, card, jpki, network, registry
from myna.agencies.models import AgencyRecord
from myna.agencies.schemas import RecordWrite
from myna.app import create_app
from myna.bootstrap import Container
from myna.delivery import (
    EarthquakeInsuranceCertificate,
    InsuredObject,
    LifeInsuranceCategory,
    LifeInsuranceCertificate,
    LifeInsuranceSystem,
    SalaryWithholdingSlip,
    parse,
)
from myna.medical.records import EXPENSE_ITEM
from myna.network.transparency.models import LogEntryRow
from myna.platform.settings import Settings
from myna.reader import client as login_client
from myna.tax import DeliveredDocument
from tests.integration.portal.conftest import PASSWORD, PIN

YEAR = 2025
PORTAL = "http://testserver"
CHIYODA = "muni-131016"  # 太郎's municipality: his household and its members' income
NTA = "nta"  # keeps each return filed through the portal
SALARY = "dlv-salary-1"
LIFE = "dlv-life-1"
QUAKE = "dlv-quake-1"

# 医療費通知 at the insurer: two months of 2025 count, the months around them do not.
EXPENSES = (
    ("2024-12", 50_000),
    ("2025-03", 60_000),
    ("2025-11", 70_000),
    ("2026-01", 40_000),
)


def salary_slip() -> SalaryWithholdingSlip:
    """The employer's 源泉徴収票: 600万円 paid, 90万円 social insurance, 20万円 withheld."""
    return SalaryWithholdingSlip(
        document_id="GS-2025-0001",
        issued_on=date(2026, 1, 20),
        sender_code="emp-0001",
        sender_name="株式会社みなと商事",
        recipient="pw-taro-employer-0001",
        year=YEAR,
        payer_name="株式会社みなと商事",
        payee="山田 太郎",
        payment_amount=6_000_000,
        income_after_employment_deduction=4_360_000,
        total_deductions=1_580_000,
        withholding_tax=200_000,
        social_insurance=900_000,
    )


def life_certificate() -> LifeInsuranceCertificate:
    """生命保険料控除証明書: 一般・新制度, 10万円 for the year."""
    return LifeInsuranceCertificate(
        document_id="LI-2025-0001",
        issued_on=date(2025, 10, 15),
        sender_code="ins-life-01",
        sender_name="ひかり生命保険株式会社",
        recipient="pw-taro-lifeinsurer-01",
        year=YEAR,
        insurer_name="ひかり生命保険株式会社",
        contractor="山田 太郎",
        policy_number="A-123456",
        insured="山田 太郎",
        system=LifeInsuranceSystem.NEW,
        category=LifeInsuranceCategory.GENERAL,
        certified_amount=75_000,
        certified_as_of=date(2025, 9, 30),
        declared_amount=100_000,
    )


def earthquake_certificate() -> EarthquakeInsuranceCertificate:
    """地震保険料控除証明書: 3万円 of earthquake premium."""
    return EarthquakeInsuranceCertificate(
        document_id="EQ-2025-0001",
        issued_on=date(2025, 10, 20),
        sender_code="ins-nonlife-01",
        sender_name="あおぞら損害保険株式会社",
        recipient="pw-taro-nonlife-00001",
        year=YEAR,
        insurer_name="あおぞら損害保険株式会社",
        contractor="山田 太郎",
        policy_number="E-98765",
        insured="山田 太郎",
        insured_object=InsuredObject.BUILDING_AND_HOUSEHOLD_GOODS,
        certified_as_of=date(2025, 10, 1),
        earthquake_premium=30_000,
    )


def delivered(delivery_id: str, sender: str, document: object, day: int) -> DeliveredDocument:
    # Through the XML and back: the box holds only documents that parse (schema and rules).
    parsed = parse(document.to_xml())  # type: ignore[attr-defined]
    return DeliveredDocument(delivery_id, sender, datetime(2026, 1, day, 3, 0, tzinfo=UTC), parsed)


@dataclass
class FakeBox:
    """A 民間送達 box in memory: it records each time the return reads it."""

    held: dict[int, list[DeliveredDocument]] = field(default_factory=dict)
    reads: list[tuple[int, int]] = field(default_factory=list)

    def documents(
        self, *, session: Session, resident_id: int, year: int
    ) -> Sequence[DeliveredDocument]:
        self.reads.append((resident_id, year))
        return [d for d in self.held.get(resident_id, []) if d.document.year == year]


@dataclass
class TaxWorld:
    """The personas, the box, the hub and the return's session."""

    session: Session
    settings: Settings
    container: Container
    residents: dict[str, registry.ResidentRead]
    box: FakeBox

    @property
    def taro(self) -> int:
        return self.residents["taro"].id

    def hub(self) -> network.Hub:
        return self.container.hub_for(self.session)

    def exchanges(self, item: str) -> int:
        """How many exchanges of ``item`` the hub logged."""
        return (
            self.session.scalar(
                select(func.count()).select_from(LogEntryRow).where(LogEntryRow.item == item)
            )
            or 0
        )


def _replace_expenses(session: Session, resident_id: int) -> None:
    """Put EXPENSES in place of the insurer's generated 医療費通知 for the resident."""
    holders = set(
        session.scalars(
            select(AgencyRecord.agency_code)
            .where(AgencyRecord.item_code == EXPENSE_ITEM)
            .distinct()
        )
    )
    for agency_code in sorted(holders):
        link = network.link_code_for_resident(
            session=session, resident_id=resident_id, agency_code=agency_code
        )
        held = session.scalar(
            select(func.count())
            .select_from(AgencyRecord)
            .where(AgencyRecord.agency_code == agency_code, AgencyRecord.link_code == link)
        )
        if not held:
            continue
        agencies.remove_records(
            session=session, agency_code=agency_code, link_code=link, items=[EXPENSE_ITEM]
        )
        agencies.upsert_records(
            session=session,
            agency_code=agency_code,
            records=[
                RecordWrite(
                    link_code=link,
                    item_code=EXPENSE_ITEM,
                    key=f"{month}-1310110018-医科外来",
                    payload={
                        "month": month,
                        "institution": "みなと内科クリニック",
                        "institution_code": "1310110018",
                        "kind": "医科外来",
                        "days": 2,
                        "total_cost": paid * 10 // 3,
                        "paid": paid,
                    },
                    source="レセプト",
                    valid_from=date.fromisoformat(f"{month}-01"),
                )
                for month, paid in EXPENSES
            ],
        )
        return
    pytest.fail("no insurer holds the resident's 医療費通知")


@pytest.fixture
def world(session: Session, settings: Settings, container: Container) -> TaxWorld:
    registry.ensure_municipalities(session=session)
    residents = registry.ensure_personas(session=session)
    jpki.ensure_authorities(session=session, settings=settings)
    network.seed_agency_data(session=session, seed=1)
    _replace_expenses(session, residents["taro"].id)
    box = FakeBox()
    box.held[residents["taro"].id] = [
        delivered(SALARY, "株式会社みなと商事", salary_slip(), 20),
        delivered(LIFE, "ひかり生命保険株式会社", life_certificate(), 21),
        delivered(QUAKE, "あおぞら損害保険株式会社", earthquake_certificate(), 22),
    ]
    container.tax_documents = box  # type: ignore[misc]
    session.commit()
    return TaxWorld(session, settings, container, residents, box)


@dataclass
class Resident:
    """A logged-in resident (the portal over HTTP) with their card in a virtual reader."""

    client: TestClient
    card_id: str
    reader: card.VirtualCardReader

    def sign(self, content: bytes, password: str = PASSWORD) -> bytes:
        """A detached CMS signature over ``content`` with the card's signing key."""
        return self.reader.open_session(self.card_id, "sign", password).sign_cms(content)


def logged_in(world: TaxWorld, persona: str) -> Iterator[Resident]:
    """The persona with a new card, logged in to the portal with it."""
    reader = card.VirtualCardReader(
        world.settings.card_dir, world.settings.card_secret.get_secret_value()
    )
    issued = card.issue_card(
        session=world.session,
        settings=world.settings,
        resident_id=world.residents[persona].id,
        pin=PIN,
        password=PASSWORD,
    )
    world.session.commit()
    with TestClient(create_app(world.container), base_url=PORTAL) as client:
        login_client.login(client, PORTAL, reader.open_session(issued.card_id, "auth", PIN))
        yield Resident(client, issued.card_id, reader)


def set_household(world: TaxWorld, others: list[tuple[str, date]], incomes: dict[int, int]) -> None:
    """Put 太郎 as head with ``others`` in 千代田区's records, with ``incomes`` by position."""
    link = network.link_code_for_resident(
        session=world.session, resident_id=world.taro, agency_code=CHIYODA
    )
    members = [("世帯主", date(1985, 4, 12)), *others]
    agencies.remove_records(
        session=world.session,
        agency_code=CHIYODA,
        link_code=link,
        items=["household", "household-income"],
    )
    records = [
        RecordWrite(
            link_code=link,
            item_code="household",
            payload={
                "is_head": True,
                "relation_to_head": "世帯主",
                "member_count": len(members),
                "member_relations": [relation for relation, _ in members],
                "member_birth_dates": [born.isoformat() for _, born in members],
            },
            source="住民基本台帳",
            valid_from=date(2014, 4, 1),
        )
    ]
    for position, total in incomes.items():
        relation, born = members[position - 1]
        records.append(
            RecordWrite(
                link_code=link,
                item_code="household-income",
                key=f"2025-{position}",
                payload={
                    "income_year": 2025,
                    "relation_to_head": relation,
                    "birth_date": born.isoformat(),
                    "total_income": total,
                },
                source="個人住民税課税台帳",
                valid_from=date(2026, 6, 1),
            )
        )
    agencies.upsert_records(session=world.session, agency_code=CHIYODA, records=records)


@dataclass
class Unanswering:
    """The in-process agencies, with some that never answer (a timeout)."""

    inner: network.AgencyTransport
    silent: set[str] = field(default_factory=set)

    def query(self, provider: str, signed_query: str) -> str:
        if provider in self.silent:
            raise TimeoutError(provider)
        return self.inner.query(provider, signed_query)

    def publish(self, owner: str, signed_update: str) -> str:
        return self.inner.publish(owner, signed_update)


def filed_before(world: TaxWorld, year: int, *, total_income: int, refund: int) -> None:
    """A return of ``year`` the NTA holds for 太郎, as filing through the portal leaves it."""
    link = network.link_code_for_resident(
        session=world.session, resident_id=world.taro, agency_code=NTA
    )
    agencies.upsert_records(
        session=world.session,
        agency_code=NTA,
        records=[
            RecordWrite(
                link_code=link,
                item_code="income-tax-return",
                key=str(year),
                payload={
                    "income_year": year,
                    "office_name": "神田税務署",
                    "receipt_number": f"{year + 1}0220103045123456",
                    "filed_on": f"{year + 1}-02-20",
                    "total_income": total_income,
                    "taxable_income": 2_500_000,
                    "total_tax": 160_000,
                    "withheld": 172_000,
                    "due": 0,
                    "refund": refund,
                    "return_sha256": "0" * 64,
                },
                source="e-Tax（マイナポータル経由の電子申告）",
                valid_from=date(year + 1, 2, 20),
            )
        ],
    )


def nothing_filed(world: TaxWorld) -> None:
    """The NTA holds no return of 太郎's (his persona filed 令和6年分)."""
    link = network.link_code_for_resident(
        session=world.session, resident_id=world.taro, agency_code=NTA
    )
    agencies.remove_records(
        session=world.session, agency_code=NTA, link_code=link, items=["income-tax-return"]
    )
