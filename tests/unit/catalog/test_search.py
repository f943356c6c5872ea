"""Search over the catalog: kana, width and reading folding, filters, paging, order."""

from __future__ import annotations

import pytest

from myna.catalog import InvalidSearchError, normalise, shipped_catalog
from myna.catalog.domain import SearchPage, make_criteria, search
from myna.catalog.readings import READING_FIXES, reading


def _search(
    query: str = "",
    *,
    category: str | None = None,
    life_event: str | None = None,
    municipality: str | None = None,
    page: int = 1,
    page_size: int = 100,
) -> SearchPage:
    criteria = make_criteria(
        query=query,
        category=category,
        life_event=life_event,
        municipality_code=municipality,
        page=page,
        page_size=page_size,
    )
    return search(shipped_catalog().procedures, criteria)


def _names(page: SearchPage) -> list[str]:
    return [p.name_ja for p in page.items]


def test_normalise_folds_width_and_katakana_to_hiragana() -> None:
    assert normalise("ｼﾞﾄﾞｳ") == normalise("ジドウ") == normalise("じどう") == "じどう"
    assert normalise("ＡＢＣ １２") == "abc12"
    assert normalise("保育\u3000施設") == "保育施設"


@pytest.mark.parametrize("query", ["じどうてあて", "ジドウテアテ", "ｼﾞﾄﾞｳﾃｱﾃ", "児童手当"])
def test_child_allowance_is_found_however_it_is_typed(query: str) -> None:
    assert "児童手当の認定請求" in _names(_search(query))


def test_every_term_must_match() -> None:
    found = _names(_search("保育　変更"))
    assert found == ["保育施設等の利用者負担額の変更届"]


def test_english_names_are_searched_too() -> None:
    assert "罹災証明書の発行申請" in _names(_search("DISASTER DAMAGE"))


def test_a_name_match_comes_before_a_summary_match() -> None:
    found = _names(_search("介護保険"))
    # 要介護・要支援認定の申請 comes first in the catalog but names 介護保険 only in its summary.
    assert found[:2] == ["介護保険負担割合証の再交付申請", "介護保険負担限度額認定申請"]
    assert "要介護・要支援認定の申請" in found[2:]


def test_category_filter() -> None:
    page = _search(category="long-term-care")
    assert page.total == 11
    assert {p.category for p in page.items} == {"long-term-care"}


def test_life_event_filter() -> None:
    found = _search(life_event="car-purchase")
    assert {p.category for p in found.items} == {"vehicle"}
    assert found.total == 4


def test_municipality_extras_are_only_found_there() -> None:
    assert "次世代育成手当の申請" in _names(_search(municipality="131016"))
    assert "次世代育成手当の申請" not in _names(_search(municipality="131121"))
    assert "子育て利用券の申請" in _names(_search(municipality="131121"))
    assert _search(municipality="131121").total == 34


def test_pages_cover_every_result_once_in_a_fixed_order() -> None:
    everything = _names(_search())
    pages = [_names(_search(page=n, page_size=10)) for n in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [10, 10, 10, 6]
    assert [name for names in pages for name in names] == everything
    last = _search(page=4, page_size=10)
    assert last.pages == 4 and not last.has_next
    assert _search(page=9, page_size=10).items == ()


@pytest.mark.parametrize(
    "params",
    [
        {"category": "sports"},
        {"life_event": "party"},
        {"page": 0},
        {"page_size": 0},
        {"page_size": 101},
        {"query": "あ" * 101},
    ],
)
def test_bad_parameters_are_refused_with_a_reason(params: dict[str, object]) -> None:
    with pytest.raises(InvalidSearchError) as caught:
        _search(**params)  # type: ignore[arg-type]
    assert caught.value.status_code == 400
    assert caught.value.localized()


def _codes(query: str) -> set[str]:
    return {p.code for p in _search(query).items}


@pytest.mark.parametrize(
    ("typed", "other"),
    [
        ("転出", "てんしゅつ"),
        ("転出", "テンシュツ"),
        ("転出", "ﾃﾝｼｭﾂ"),
        ("引越し", "引っ越し"),
        ("引越し", "引越"),
        ("引越し", "ひっこし"),
        ("引っ越し", "ヒッコシ"),
        ("児童手当", "ｼﾞﾄﾞｳﾃｱﾃ"),
        ("申込み", "申し込み"),
        ("要介護", "ようかいご"),
        ("届出", "届け出"),
    ],
)
def test_spellings_and_readings_of_one_word_find_the_same_procedures(
    typed: str, other: str
) -> None:
    found = _codes(typed)
    assert found, typed
    assert _codes(other) == found


def test_moving_out_is_found_by_every_spelling_of_moving_house() -> None:
    for query in ("引越し", "引っ越し", "引越", "ひっこし", "ﾋｯｺｼ", "転出", "てんしゅつ"):
        assert "moving-out" in _codes(query), query


def test_a_reading_is_found_in_a_kanji_text_without_a_keyword() -> None:
    # No keyword of 罹災証明書の発行申請 spells りさい in kana: the reading comes from
    # the dictionary.
    assert "disaster-certificate" in _codes("りさいしょうめい")


def test_the_reading_table_only_fixes_what_the_dictionary_reads_wrongly() -> None:
    assert reading("引っ越し") == reading("引越し") == reading("引越") == "ひっこし"
    assert reading("転出") == "てんしゅつ"
    for word, said in READING_FIXES.items():
        assert reading(word) == said
