"""Reference data from the maintained datasets: postal codes typed any way, banks by name."""

from __future__ import annotations

import pytest

from myna import reference
from myna.reference.banks import display_bank_name


@pytest.mark.parametrize("typed", ["530-0001", "5300001", "〒５３０－０００１", " 530 0001 "])
def test_a_postal_code_is_read_however_it_is_typed(typed: str) -> None:
    assert reference.normalise_postal_code(typed) == "5300001"


@pytest.mark.parametrize("typed", ["", "530-001", "53000011", "abc-defg", "9" * 5000])
def test_a_postal_code_that_is_not_seven_digits_is_refused(typed: str) -> None:
    with pytest.raises(reference.InvalidPostalCodeError):
        reference.normalise_postal_code(typed)


def test_banks_are_found_by_kanji_kana_romaji_or_code_best_first() -> None:
    for query in ("みずほ", "ミズホ", "mizuho", "0001"):
        assert reference.search_banks(query)[0].code == "0001", query
    assert reference.search_banks("") == []


def test_branches_are_found_within_one_bank() -> None:
    assert [b.code for b in reference.search_branches("0001", "丸の内中央")] == ["004"]
    assert reference.search_branches("1234", "本店") == []
    assert reference.get_branch("0001", "999") is None


def test_domestic_banks_get_their_name_back() -> None:
    assert display_bank_name("0001", "みずほ") == "みずほ銀行"
    assert display_bank_name("0005", "三菱ＵＦＪ") == "三菱UFJ銀行"
    assert display_bank_name("1345", "昭和信金") == "昭和信金"
