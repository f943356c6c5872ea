"""The authorization table (番号法 別表 model) allows and denies, always with a reason."""

from __future__ import annotations

import pytest

from myna.agencies import (
    Agency,
    AgencyKind,
    AuthorizationTable,
    NotAuthorizedError,
    load_catalog,
)
from myna.platform import i18n


@pytest.fixture
def table() -> AuthorizationTable:
    return load_catalog().authorization


def test_a_municipality_may_ask_income_for_the_child_allowance(table: AuthorizationTable) -> None:
    decision = table.check("muni-131016", "child-allowance", "resident-tax")
    assert decision.allowed
    assert not decision.self_only
    assert decision.rule is not None
    assert decision.rule.requester.kind == AgencyKind.MUNICIPALITY


def test_the_pension_service_may_ask_the_insurer_and_hello_work_the_pension(
    table: AuthorizationTable,
) -> None:
    assert table.allows("jps", "national-pension", "health-insurance")
    assert table.allows("jps", "employees-pension", "employment-insurance")
    assert table.allows("hellowork", "employment-insurance", "public-pension")
    assert table.allows("police", "driver-license", "household")
    assert table.allows("kokuho-141003", "national-health-insurance", "resident-tax")


def test_an_item_outside_the_procedure_is_denied_with_the_reason(table: AuthorizationTable) -> None:
    decision = table.check("police", "driver-license", "resident-tax")
    assert not decision.allowed
    assert decision.explain() == (
        "事務「driver-license」では、機関「police」は項目「resident-tax」を照会できません。"
    )


def test_a_procedure_of_another_agency_is_denied(table: AuthorizationTable) -> None:
    decision = table.check("hellowork", "child-allowance", "resident-tax")
    assert not decision.allowed
    i18n.set_locale("en")
    assert decision.explain() == (
        "The agency hellowork does not carry out the procedure child-allowance."
    )


def test_a_municipality_cannot_use_the_residents_self_disclosure(table: AuthorizationTable) -> None:
    assert not table.allows("muni-131016", "self-disclosure", "household")


@pytest.mark.parametrize(
    ("requester", "procedure", "item", "words"),
    [
        ("tax-office-x", "child-allowance", "resident-tax", "is not known to the network"),
        ("muni-131016", "fishing-license", "resident-tax", "is not in the authorization table"),
        ("muni-131016", "child-allowance", "my-number", "is not a known item"),
    ],
)
def test_unknown_names_are_denied_with_what_was_unknown(
    table: AuthorizationTable, requester: str, procedure: str, item: str, words: str
) -> None:
    decision = table.check(requester, procedure, item)
    assert not decision.allowed
    i18n.set_locale("en")
    assert words in decision.explain()


def test_require_raises_a_forbidden_error_in_japanese(table: AuthorizationTable) -> None:
    with pytest.raises(NotAuthorizedError) as caught:
        table.require("mext", "high-school-support", "vaccination")
    assert caught.value.status_code == 403
    assert "別表" in caught.value.localized()
    assert "vaccination" in caught.value.localized()


def test_an_agency_object_is_accepted_as_well_as_a_code(table: AuthorizationTable) -> None:
    osaka = Agency("muni-271004", "大阪府大阪市", "Osaka", AgencyKind.MUNICIPALITY)
    assert table.allows(osaka, "vaccination", "vaccination")
    assert "vaccination" in table.procedures_of(osaka)
    assert table.items_for("mext", "high-school-support") == {
        "resident-tax",
        "household",
        "public-assistance",
    }


def test_online_eligibility_reads_coverage_and_care_but_not_the_expense_notices(
    table: AuthorizationTable,
) -> None:
    health = {"health-insurance", "medication", "specific-checkup", "clinical-record"}
    assert table.items_for("oqs", "online-eligibility") == health
    assert not table.allows("oqs", "online-eligibility", "medical-expense")
    assert not table.allows("kyokai", "online-eligibility", "medication")
    everything = health | {"medical-expense"}
    assert everything <= table.items_for("portal", "self-disclosure")
    assert everything <= table.items_for("portal", "partner-disclosure")
    catalog = load_catalog()
    assert all(catalog.provides("kokuho-141003", item) for item in everything)
    assert all(catalog.provides("koki-01", item) for item in everything)
