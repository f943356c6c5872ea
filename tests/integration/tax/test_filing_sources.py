"""Filing a return with relatives and the self-medication choice: what is signed covers them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pytest
from lxml import etree

from myna.tax import etax
from myna.tax import service as tax
from tests.integration.tax.conftest import LIFE, QUAKE, YEAR, Resident, TaxWorld, logged_in
from tests.integration.tax.conftest import set_household as put_household
from tests.integration.tax.test_filing import _answer, _csrf, _filings, _request_id, _to_be_signed

HANAKO = ("妻", date(1987, 9, 3))
HARUTO = ("子", date(2016, 6, 20))
SAKURA = ("子", date(2008, 5, 1))


@pytest.fixture
def taro(world: TaxWorld) -> Iterator[Resident]:
    yield from logged_in(world, "taro")


def _gathered_with_household(resident: Resident) -> str:
    token = _csrf(resident.client.get("/tax").text)
    resident.client.post("/tax/2025/start", data={"csrf_token": token})
    done = resident.client.post(
        "/tax/2025/gather",
        data={
            "csrf_token": token,
            "source": [
                "salary",
                f"certificate:{LIFE}",
                f"certificate:{QUAKE}",
                "medical",
                "household",
            ],
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/tax/2025?done=gathered"
    return token


def test_relatives_and_the_self_medication_choice_are_filed_with_their_sources(
    world: TaxWorld, taro: Resident
) -> None:
    token = _gathered_with_household(taro)
    entered = taro.client.post(
        "/tax/2025/self-medication",
        data={"csrf_token": token, "spent": "50,000"},
        follow_redirects=False,
    )
    assert entered.status_code == 303
    chosen = taro.client.post(
        "/tax/2025/medical-choice",
        data={"csrf_token": token, "choice": "self_medication"},
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    request_id = _request_id(taro.client)
    document = json.loads(_to_be_signed(taro.client, request_id))
    xml = etree.fromstring(document["data"]["return_xml"].encode())
    ns = {"t": etax.NAMESPACE}
    assert xml.findtext("t:Form/t:Deductions/t:Spouse", namespaces=ns) == "380000"
    assert xml.findtext("t:Form/t:Deductions/t:MedicalKind", namespaces=ns) == "self_medication"
    assert xml.findtext("t:Form/t:Deductions/t:Medical", namespaces=ns) == "38000"
    sources = {
        (s.get("field"), s.get("kind"), s.get("value")) for s in xml.iterfind(".//t:Source", ns)
    }
    assert {
        ("spouse.income", tax.MUNICIPALITY, "250000"),
        ("dependants.income", tax.ASSUMED, "0"),
        ("self_medication.spent", tax.RESIDENT, "50000"),
        ("self_medication.claimed", tax.RESIDENT, "1"),
    } <= sources
    filed = _answer(taro.client, request_id, taro.sign(_to_be_signed(taro.client, request_id)))
    assert filed.status_code == 200  # type: ignore[attr-defined]
    assert _filings(world.session) == 1


def test_a_choice_changed_after_freezing_is_not_filed(world: TaxWorld, taro: Resident) -> None:
    token = _gathered_with_household(taro)
    taro.client.post("/tax/2025/self-medication", data={"csrf_token": token, "spent": "50000"})
    request_id = _request_id(taro.client)
    content = _to_be_signed(taro.client, request_id)
    chosen = taro.client.post(
        "/tax/2025/medical-choice",
        data={"csrf_token": token, "choice": "self_medication"},
        follow_redirects=False,
    )
    assert chosen.status_code == 303
    refused = _answer(taro.client, request_id, taro.sign(content))
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert refused.json()["error"] == "tax_return_changed"  # type: ignore[attr-defined]
    assert _filings(world.session) == 0


def test_a_relative_who_joined_after_freezing_makes_the_signature_useless(
    world: TaxWorld, taro: Resident
) -> None:
    put_household(world, [HANAKO, HARUTO], {2: 250_000})
    world.session.commit()
    _gathered_with_household(taro)
    request_id = _request_id(taro.client)
    content = _to_be_signed(taro.client, request_id)
    put_household(world, [HANAKO, HARUTO, SAKURA], {2: 250_000})
    tax.gather(
        session=world.session,
        hub=world.hub(),
        documents=world.box,
        resident_id=world.taro,
        year=YEAR,
        consents=tax.Consents(household=True),
    )
    world.session.commit()
    refused = _answer(taro.client, request_id, taro.sign(content))
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert refused.json()["error"] == "tax_return_changed"  # type: ignore[attr-defined]
    assert _filings(world.session) == 0
