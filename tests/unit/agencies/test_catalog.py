"""The catalog loads from its data files and refuses a broken one, naming the entry."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest

from myna.agencies import (
    EVERY_ITEM,
    AgencyKind,
    CatalogFileError,
    UnknownItemError,
    load_catalog,
)
from myna.platform import i18n

DATA = Path(str(resources.files("myna.agencies").joinpath("data")))


def test_the_shipped_catalog_has_the_six_categories_of_the_deck_in_order_then_national_tax() -> (
    None
):
    catalog = load_catalog()
    names = [c.name_ja for c in sorted(catalog.categories.values(), key=lambda c: c.order)]
    assert names == ["世帯", "地方税", "健康・医療", "子育て", "福祉・介護", "雇用・年金", "国税"]
    for category in catalog.categories:
        assert catalog.items_in(category), category


def test_every_item_has_typed_fields_with_japanese_labels_and_a_known_provider() -> None:
    catalog = load_catalog()
    assert len(catalog.items) >= 18
    for item in catalog.items.values():
        assert item.fields
        assert all(f.label_ja for f in item.fields)
        if item.provider.agency is not None:
            assert item.provider.agency in catalog.agencies
        else:
            assert item.provider.kind in (AgencyKind.MUNICIPALITY, AgencyKind.INSURER)


def test_the_table_has_at_least_twelve_agency_to_agency_rows() -> None:
    rules = load_catalog().authorization.rules
    between_agencies = [r for r in rules if r.requester.agency != "portal"]
    assert len(between_agencies) >= 12
    assert len({r.procedure for r in between_agencies}) >= 12


def test_the_portal_may_ask_every_item_for_the_resident_only() -> None:
    catalog = load_catalog()
    for code, item in catalog.items.items():
        decision = catalog.authorization.check("portal", "self-disclosure", code)
        if item.internal:
            continue
        assert decision.allowed
        assert decision.self_only


def test_an_internal_item_is_never_covered_by_every_item() -> None:
    catalog = load_catalog()
    assert catalog.items["insured-index"].internal
    for procedure in ("self-disclosure", "partner-disclosure", "e-application-prefill"):
        decision = catalog.authorization.check("portal", procedure, "insured-index")
        assert not decision.allowed
    assert "insured-index" not in {i.code for i in catalog.items_in("health")}
    assert not catalog.authorization.allows("oqs", "online-eligibility", "insured-index")


def test_household_income_is_asked_only_to_prepare_the_residents_tax_return() -> None:
    catalog = load_catalog()
    assert catalog.items["household-income"].internal
    for procedure in ("self-disclosure", "partner-disclosure", "e-application-prefill"):
        assert not catalog.authorization.allows("portal", procedure, "household-income")
    decision = catalog.authorization.check(
        "portal", "income-tax-return-preparation", "household-income"
    )
    assert decision.allowed
    assert decision.self_only
    assert "household-income" not in {i.code for i in catalog.items_in("local-tax")}
    assert not catalog.authorization.allows("muni-131016", "child-allowance", "household-income")


def test_providers_are_resolved_for_generated_agency_codes() -> None:
    catalog = load_catalog()
    assert catalog.provides("muni-131016", "resident-tax")
    assert catalog.provides("kokuho-131016", "health-insurance")
    assert catalog.provides("koki-13", "health-insurance")
    assert catalog.provides("jps", "public-pension")
    assert not catalog.provides("jps", "resident-tax")
    assert not catalog.provides("muni-12345", "resident-tax")
    assert catalog.knows("kyokai")
    assert not catalog.knows("koki-48")
    assert catalog.category_of("vaccination") == "health"


def test_an_unknown_item_is_refused() -> None:
    with pytest.raises(UnknownItemError):
        load_catalog().item("my-number")


# -- broken files --------------------------------------------------------------------------


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def _break(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


def test_a_copy_of_the_shipped_files_loads(data_copy: Path) -> None:
    catalog = load_catalog(data_copy)
    assert catalog.items.keys() == load_catalog().items.keys()


def test_an_item_in_an_unknown_category_names_the_file_and_the_item(data_copy: Path) -> None:
    _break(data_copy / "items.toml", 'category = "local-tax"', 'category = "local-taxes"')
    with pytest.raises(CatalogFileError) as caught:
        load_catalog(data_copy)
    message = str(caught.value)
    assert "items.toml" in message
    assert '[[item]] "resident-tax"' in message
    assert "local-taxes" in message


def test_a_field_of_an_unknown_type_names_the_field(data_copy: Path) -> None:
    _break(data_copy / "items.toml", 'name = "tax_amount", type = "integer"',
           'name = "tax_amount", type = "money"')  # fmt: skip
    with pytest.raises(CatalogFileError) as caught:
        load_catalog(data_copy)
    assert 'field "tax_amount"' in str(caught.value)


def test_a_rule_asking_an_unknown_item_names_the_rule(data_copy: Path) -> None:
    _break(data_copy / "authorization.toml", 'items = ["vaccination"]', 'items = ["vaccinations"]')
    with pytest.raises(CatalogFileError) as caught:
        load_catalog(data_copy)
    message = str(caught.value)
    assert "authorization.toml" in message
    assert "[[rule]] #" in message
    assert "vaccinations" in message


def test_a_rule_for_an_unknown_procedure_is_refused(data_copy: Path) -> None:
    _break(data_copy / "authorization.toml", 'procedure = "vaccination"', 'procedure = "vaccine"')
    with pytest.raises(CatalogFileError, match="vaccine"):
        load_catalog(data_copy)


def test_a_rule_whose_provider_is_not_the_items_is_refused(data_copy: Path) -> None:
    _break(data_copy / "authorization.toml", 'provider = { kind = "municipality" }',
           'provider = { agency = "jps" }')  # fmt: skip
    with pytest.raises(CatalogFileError, match="provider"):
        load_catalog(data_copy)


def test_a_duplicate_agency_code_is_refused(data_copy: Path) -> None:
    _break(data_copy / "agencies.toml", 'code = "nta"', 'code = "jps"')
    with pytest.raises(CatalogFileError, match="used twice"):
        load_catalog(data_copy)


def test_an_unknown_key_is_refused(data_copy: Path) -> None:
    _break(data_copy / "agencies.toml", 'code = "mext"', 'code = "mext"\nname = "MEXT"')
    with pytest.raises(CatalogFileError) as caught:
        load_catalog(data_copy)
    assert '[[agency]] "mext"' in str(caught.value)


def test_a_file_that_is_not_toml_is_refused(data_copy: Path) -> None:
    (data_copy / "agencies.toml").write_text("[[agency]\ncode = ", "utf-8")
    with pytest.raises(CatalogFileError, match=r"agencies\.toml"):
        load_catalog(data_copy)


def test_a_missing_file_is_refused(data_copy: Path) -> None:
    (data_copy / "items.toml").unlink()
    with pytest.raises(CatalogFileError, match=r"items\.toml"):
        load_catalog(data_copy)


def test_the_error_reads_in_japanese(data_copy: Path) -> None:
    _break(data_copy / "items.toml", 'category = "local-tax"', 'category = "local-taxes"')
    with pytest.raises(CatalogFileError) as caught:
        load_catalog(data_copy)
    i18n.set_locale("ja")
    text = caught.value.localized()
    assert "データファイル items.toml" in text
    assert "「local-taxes」は定義されていません" in text


def test_every_item_rule_uses_the_wildcard_only_for_the_residents_own_information() -> None:
    rules = load_catalog().authorization.rules
    wildcard = [r for r in rules if r.item == EVERY_ITEM]
    assert {r.procedure for r in wildcard} == {
        "self-disclosure",
        "e-application-prefill",
        "partner-disclosure",
    }
    assert all(r.self_only for r in wildcard)
