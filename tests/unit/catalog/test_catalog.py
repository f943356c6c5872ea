"""The shipped procedure catalog loads, and a broken entry names itself."""

from __future__ import annotations

from collections import Counter

import pytest

from myna.catalog import Category, ServiceCatalogFileError, shipped_catalog
from myna.catalog.loader import build_catalog
from myna.platform import i18n

GOOD = """
[[procedure]]
code = "sample"
name_ja = "見本の届出"
name_en = "Sample notification"
category = "disaster"
life_events = ["disaster"]
summary = "見本です。"
eligibility = "だれでも。"
documents = []
signature_required = true
online = true
department = "見本課"
"""


def test_it_ships_the_31_priority_procedures_in_their_categories() -> None:
    priority = [p for p in shipped_catalog().procedures if p.priority]
    assert len(priority) == 31
    assert Counter(p.category for p in priority) == {
        Category.CHILD_REARING: 15,
        Category.LONG_TERM_CARE: 11,
        Category.DISASTER: 1,
        Category.VEHICLE: 4,
    }
    assert all(p.municipalities is None for p in priority)


def test_every_procedure_says_what_it_needs() -> None:
    for procedure in shipped_catalog().procedures:
        assert procedure.name_ja and procedure.name_en and procedure.summary
        assert procedure.eligibility and procedure.department
        assert procedure.life_events


def test_some_procedures_are_only_offered_by_some_municipalities() -> None:
    local = [p for p in shipped_catalog().procedures if p.municipalities is not None]
    assert local
    assert all(not p.priority for p in local)


def test_codes_are_unique() -> None:
    codes = [p.code for p in shipped_catalog().procedures]
    assert len(codes) == len(set(codes))


def test_a_valid_entry_loads() -> None:
    catalog = build_catalog({"x.toml": GOOD})
    assert catalog.get("sample") is not None
    assert catalog.get("missing") is None


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (GOOD.replace('category = "disaster"', 'category = "sports"'), "sports"),
        (GOOD.replace('department = "見本課"', ""), "department"),
        (GOOD.replace("online = true", 'online = "yes"'), "online"),
        (GOOD + 'colour = "red"\n', "colour"),
        (GOOD + 'municipalities = ["131017"]\n', "131017"),
        (GOOD.replace('life_events = ["disaster"]', 'life_events = ["party"]'), "party"),
        (GOOD + GOOD, "twice"),
        ("[[procedure]\n", "TOML"),
    ],
)
def test_a_broken_entry_stops_the_load_and_names_itself(broken: str, expected: str) -> None:
    with pytest.raises(ServiceCatalogFileError) as caught:
        build_catalog({"broken.toml": broken})
    assert "broken.toml" in str(caught.value)
    assert expected in str(caught.value)
    if "TOML" not in expected:
        assert '"sample"' in str(caught.value)


def test_the_load_error_is_explained_in_japanese() -> None:
    i18n.set_locale("ja")
    with pytest.raises(ServiceCatalogFileError) as caught:
        build_catalog({"broken.toml": GOOD.replace("online = true", 'online = "yes"')})
    message = caught.value.localized()
    assert "broken.toml" in message
    assert "true" in message
    assert "修正" in message
