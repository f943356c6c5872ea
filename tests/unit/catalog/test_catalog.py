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


# The rules before the reform of October 2024 (児童手当法 改正, 令和6年10月分から):
# paid to the end of junior high school, with an income limit and a 特例給付 above it.
_OUTDATED_CHILD_ALLOWANCE = ("中学校修了", "中学生", "所得制限限度額", "所得上限", "特例給付")


def test_child_allowance_texts_follow_the_rules_since_october_2024() -> None:
    child = [p for p in shipped_catalog().procedures if p.category is Category.CHILD_REARING]
    for procedure in child:
        texts = [procedure.summary, procedure.eligibility, *procedure.documents]
        for text in texts:
            assert not any(old in text for old in _OUTDATED_CHILD_ALLOWANCE), (procedure.code, text)
    claim = shipped_catalog().get("child-allowance-claim")
    assert claim is not None
    assert "高校生年代" in claim.summary and "高校生年代" in claim.eligibility
    assert "所得制限はありません" in claim.summary
    revision = shipped_catalog().get("child-allowance-revision")
    assert revision is not None
    assert "第3子以降は30,000円" in revision.summary


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
