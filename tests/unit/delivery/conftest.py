"""Documents of every kind, and a sender's P-256 key with a self-made certificate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from myna.delivery import (
    ContributionKind,
    Dependents,
    Document,
    Donation,
    DonationReceipt,
    EarthquakeInsuranceCertificate,
    InsuredObject,
    LifeInsuranceCategory,
    LifeInsuranceCertificate,
    LifeInsurancePremiums,
    LifeInsuranceSystem,
    NationalPensionCertificate,
    PublicPensionWithholdingSlip,
    SalaryWithholdingSlip,
)

RECIPIENT = "pw-7Hq2KxY9mZ0aBcDeFgHi"


def _header(code: str, name: str, issued_on: date, year: int = 2025) -> dict[str, object]:
    return {
        "document_id": f"{code}-2025-0001",
        "issued_on": issued_on,
        "sender_code": code,
        "sender_name": name,
        "recipient": RECIPIENT,
        "year": year,
    }


LIFE = LifeInsuranceCertificate(
    **_header("sakura-life", "さくら生命保険株式会社", date(2025, 10, 15)),  # type: ignore[arg-type]
    insurer_name="さくら生命保険株式会社",
    insurer_corporate_number="1234567890123",
    contractor="山田 太郎",
    policy_number="SL-0012345",
    insurance_type="終身保険",
    insured="山田 太郎",
    system=LifeInsuranceSystem.NEW,
    category=LifeInsuranceCategory.GENERAL,
    certified_amount=102880,
    certified_as_of=date(2025, 9, 30),
    declared_amount=123456,
)

EARTHQUAKE = EarthquakeInsuranceCertificate(
    **_header("hinode-fire", "日の出損害保険株式会社", date(2025, 10, 20)),  # type: ignore[arg-type]
    insurer_name="日の出損害保険株式会社",
    contractor="山田 太郎",
    policy_number="HF-77-001",
    insured="山田 太郎",
    insured_object=InsuredObject.BUILDING_AND_HOUSEHOLD_GOODS,
    certified_as_of=date(2025, 10, 1),
    earthquake_premium=38400,
    old_long_term_premium=5000,
)

DONATION = DonationReceipt(
    **_header("furusato-portal", "ふるさと寄附ポータル", date(2026, 1, 10)),  # type: ignore[arg-type]
    municipality_code="011002",
    municipality_name="北海道札幌市",
    donor="山田 太郎",
    donations=(Donation(date(2025, 6, 1), 10000), Donation(date(2025, 12, 20), 30000)),
)

PENSION = NationalPensionCertificate(
    **_header("nenkin-kikou", "日本年金機構", date(2025, 11, 1)),  # type: ignore[arg-type]
    contribution_kind=ContributionKind.NATIONAL_PENSION,
    insured="山田 花子",
    period_from=date(2025, 1, 1),
    period_to=date(2025, 12, 1),
    paid_amount=175200,
    expected_amount=35040,
)

SALARY = SalaryWithholdingSlip(
    **_header("yamato-shoji", "大和商事株式会社", date(2026, 1, 20)),  # type: ignore[arg-type]
    payer_name="大和商事株式会社",
    payer_address="東京都千代田区霞が関1-1-1",
    payee="山田 太郎",
    payment_amount=5_000_000,
    income_after_employment_deduction=3_560_000,
    total_deductions=1_450_000,
    withholding_tax=104_600,
    deductible_spouse=True,
    dependents=Dependents(specified=1, elderly=0, other=1, under_16=1),
    social_insurance=720_000,
    life_insurance_deduction=40_000,
    life_insurance_premiums=LifeInsurancePremiums(new_general=123_456, medical_care=60_000),
    earthquake_insurance_deduction=38_400,
)

PUBLIC_PENSION = PublicPensionWithholdingSlip(
    **_header("nenkin-kikou", "日本年金機構", date(2026, 1, 15)),  # type: ignore[arg-type]
    payer_name="日本年金機構",
    payee="山田 一郎",
    payment_amount=2_100_000,
    withholding_tax=12_300,
    social_insurance=180_000,
    deductible_spouse=False,
    dependents=0,
)

ALL_DOCUMENTS: tuple[Document, ...] = (LIFE, EARTHQUAKE, DONATION, PENSION, SALARY, PUBLIC_PENSION)


@dataclass(frozen=True)
class Signer:
    """A sender's key and the certificate naming its organisation (urn:myna:agency:<code>)."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def make_signer(code: str, *, days_valid: int = 30) -> Signer:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, code)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days_valid))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier(f"urn:myna:agency:{code}")]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return Signer(key=key, certificate=certificate)


@pytest.fixture(scope="session")
def signers() -> dict[str, Signer]:
    """One signer per sender in ALL_DOCUMENTS (keys are slow enough to make once)."""
    return {code: make_signer(code) for code in {d.sender_code for d in ALL_DOCUMENTS}}
