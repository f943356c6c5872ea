"""Building, parsing, validating and explaining 民間送達 documents."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from myna.delivery import (
    MAX_DOCUMENT_BYTES,
    Document,
    DocumentTooLargeError,
    LifeInsuranceCategory,
    LifeInsuranceSystem,
    SchemaInvalidError,
    UnknownDocumentKindError,
    UnsafeDocumentError,
    explain,
    parse,
)
from myna.delivery.documents import read_stored
from myna.platform import i18n
from tests.unit.delivery.conftest import (
    ALL_DOCUMENTS,
    DONATION,
    EARTHQUAKE,
    LIFE,
    PENSION,
    PUBLIC_PENSION,
    SALARY,
)


@pytest.mark.parametrize("document", ALL_DOCUMENTS, ids=lambda d: d.kind.value)
def test_each_kind_round_trips_through_its_xml(document: Document) -> None:
    xml = document.to_xml()
    assert xml.startswith(f'<{document.root_name} xmlns="{document.kind.namespace}"'.encode())
    assert parse(xml) == document
    assert read_stored(xml) == document  # a stored document reads back the same
    assert document.to_xml() == xml  # canonical: the same document, the same bytes


def test_the_recipient_is_named_only_by_its_pairwise_identifier() -> None:
    xml = LIFE.to_xml()
    assert b"<Recipient>pw-7Hq2KxY9mZ0aBcDeFgHi</Recipient>" in xml
    number = dataclasses.replace(LIFE, recipient="123456789012")
    with pytest.raises(SchemaInvalidError) as refused:
        number.to_xml()
    assert refused.value.params["element"].endswith("/Header/Recipient")
    digits_only = dataclasses.replace(LIFE, recipient="1234567890123456")
    with pytest.raises(SchemaInvalidError, match="Recipient"):
        digits_only.to_xml()


def _without(xml: bytes, element: bytes) -> bytes:
    start = xml.index(b"<" + element + b">")
    end = xml.index(b"</" + element + b">") + len(element) + 3
    return xml[:start] + xml[end:]


def test_it_refuses_a_missing_amount_naming_the_element() -> None:
    xml = _without(LIFE.to_xml(), b"DeclaredAmount")
    with pytest.raises(SchemaInvalidError) as refused:
        parse(xml)
    assert refused.value.params["element"] == "/LifeInsuranceCertificate/Policy"
    assert "DeclaredAmount" in refused.value.params["reason"]
    assert refused.value.params["line"] != "?"


def test_it_refuses_a_negative_amount_naming_the_element_and_line() -> None:
    xml = SALARY.to_xml().replace(b"<WithholdingTax>104600<", b"<WithholdingTax>-1<")
    with pytest.raises(SchemaInvalidError) as refused:
        parse(xml)
    assert refused.value.params["element"] == "/SalaryWithholdingSlip/WithholdingTax"
    line = xml[: xml.index(b"<WithholdingTax>")].count(b"\n") + 1
    assert refused.value.params["line"] == str(line)
    assert f"line {line}" in str(refused.value)


def test_a_builder_refuses_a_negative_amount() -> None:
    with pytest.raises(SchemaInvalidError, match="PaidAmount"):
        dataclasses.replace(PENSION, paid_amount=-100).to_xml()


@pytest.mark.parametrize(
    ("replace", "element"),
    [
        ({"year": 2019}, "/Header/Year"),  # before electronic certificates existed
        ({"year": 2026}, "/Header/Year"),  # after the day it was issued
        ({"certified_as_of": date(2024, 12, 31)}, "/Policy/CertifiedAmount"),
    ],
)
def test_it_refuses_a_wrong_year(replace: dict[str, object], element: str) -> None:
    with pytest.raises(SchemaInvalidError) as refused:
        dataclasses.replace(LIFE, **replace).to_xml()  # type: ignore[arg-type]
    assert refused.value.params["element"] == "/LifeInsuranceCertificate" + element


def test_a_parsed_document_with_a_wrong_year_is_refused_with_its_line() -> None:
    xml = DONATION.to_xml().replace(b"<ReceivedOn>2025-06-01", b"<ReceivedOn>2024-06-01")
    with pytest.raises(SchemaInvalidError) as refused:
        parse(xml)
    assert refused.value.params["element"] == "/DonationReceipt/Donation/ReceivedOn"
    assert refused.value.params["line"] != "?"


def test_medical_care_premiums_exist_in_the_new_system_only() -> None:
    old_medical = dataclasses.replace(
        LIFE, system=LifeInsuranceSystem.OLD, category=LifeInsuranceCategory.MEDICAL_CARE
    )
    with pytest.raises(SchemaInvalidError, match="Category"):
        old_medical.to_xml()


def test_it_refuses_a_document_of_an_unknown_kind() -> None:
    with pytest.raises(UnknownDocumentKindError):
        parse(b'<Invoice xmlns="urn:example:invoice"><Amount>1</Amount></Invoice>')
    other_version = LIFE.to_xml().replace(b"TEG800:1", b"TEG800:2")
    with pytest.raises(UnknownDocumentKindError):
        parse(other_version)


def test_it_refuses_an_oversized_document_before_parsing() -> None:
    padding = b"<!--" + b"x" * MAX_DOCUMENT_BYTES + b"-->"
    with pytest.raises(DocumentTooLargeError) as refused:
        parse(LIFE.to_xml().replace(b"<Header>", b"<Header>" + padding))
    assert refused.value.status_code == 413


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<LifeInsuranceCertificate xmlns="urn:myna:delivery:TEG800:1"><Contractor>&lol4;</Contractor>
</LifeInsuranceCertificate>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<LifeInsuranceCertificate xmlns="urn:myna:delivery:TEG800:1">&secret;</LifeInsuranceCertificate>"""


@pytest.mark.parametrize(
    "data",
    [
        BILLION_LAUGHS,
        EXTERNAL_ENTITY,
        b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://example.invalid/r.dtd"><r/>',
        b"<LifeInsuranceCertificate",  # not well-formed
        "<r>山田</r>".encode("utf-16"),  # not UTF-8
        b'<?xml version="1.0" encoding="Shift_JIS"?><r/>',
    ],
    ids=["billion-laughs", "external-entity", "external-dtd", "malformed", "utf-16", "shift-jis"],
)
def test_it_refuses_dtds_entities_and_malformed_xml(data: bytes) -> None:
    with pytest.raises(UnsafeDocumentError):
        parse(data)
    with pytest.raises(UnsafeDocumentError):  # nor is a stored document read unsafely
        read_stored(data)


def test_explain_says_a_life_insurance_certificate_in_plain_japanese() -> None:
    lines = explain(LIFE)
    assert lines[0] == ("生命保険料控除証明書（一般・新制度）", "令和7年分の払込保険料 123,456円")
    assert ("証明額", "令和7年9月30日現在 102,880円") in lines
    assert ("保険会社", "さくら生命保険株式会社") in lines
    assert ("発行日", "令和7年10月15日") in lines
    assert ("発行者", "さくら生命保険株式会社（sakura-life）") in lines


def test_explain_names_the_category_and_system() -> None:
    pension_old = dataclasses.replace(
        LIFE, system=LifeInsuranceSystem.OLD, category=LifeInsuranceCategory.PENSION
    )
    assert explain(pension_old)[0][0] == "生命保険料控除証明書（個人年金・旧制度）"


def test_explain_the_other_kinds() -> None:
    assert explain(EARTHQUAKE)[:2] == [
        ("地震保険料控除証明書", "令和7年分の地震保険料 38,400円"),
        ("旧長期損害保険料", "5,000円"),
    ]
    donation = explain(DONATION)
    assert donation[0] == (
        "寄附金受領証明書（ふるさと納税）",
        "令和7年分に北海道札幌市へ寄附 合計40,000円",
    )
    assert ("寄附（令和7年12月20日）", "30,000円") in donation
    pension = explain(PENSION)
    assert pension[0] == (
        "社会保険料控除証明書（国民年金保険料）",
        "令和7年分に納付した国民年金保険料 175,200円",
    )
    assert ("対象期間", "令和7年1月〜令和7年12月") in pension
    salary = dict(explain(SALARY))
    assert salary["給与所得の源泉徴収票"] == "令和7年分の支払金額 5,000,000円"
    assert salary["源泉徴収税額"] == "104,600円"
    assert salary["（内訳）新生命保険料の金額"] == "123,456円"
    assert salary["控除対象配偶者"] == "あり"
    assert salary["控除対象扶養親族の数"] == "特定1人・老人0人・その他1人"
    assert (
        dict(explain(PUBLIC_PENSION))["公的年金等の源泉徴収票"] == "令和7年分の支払金額 2,100,000円"
    )


def test_refusals_are_explained_in_japanese() -> None:
    i18n.set_locale("ja")
    with pytest.raises(UnsafeDocumentError) as unsafe:
        parse(BILLION_LAUGHS)
    assert "DTD" in unsafe.value.localized()
    with pytest.raises(SchemaInvalidError) as refused:
        parse(SALARY.to_xml().replace(b"<WithholdingTax>104600<", b"<WithholdingTax>-1<"))
    assert refused.value.localized().startswith(
        "書類の形式が正しくありません（/SalaryWithholdingSlip"
    )
