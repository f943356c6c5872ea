"""Parsing the 総務省 municipality list, and the list shipped with Myna."""

from __future__ import annotations

import csv
import io

import pytest

from myna.registry import MunicipalityFileError, validate_municipality_code
from myna.registry.domain import is_katakana, parse_municipality_csv
from myna.registry.shipped import shipped_municipalities_csv, shipped_weights

HEADER = "団体コード,都道府県名（漢字）,市区町村名（漢字）,都道府県名（カナ）,市区町村名（カナ）\n"


def test_every_shipped_municipality_code_passes_its_check_digit() -> None:
    rows = list(csv.reader(io.StringIO(shipped_municipalities_csv().decode("utf-8"))))[1:]
    assert len(rows) >= 80
    for row in rows:
        assert validate_municipality_code(row[0]) == row[0]
        assert is_katakana(row[3]) and is_katakana(row[4])
        assert int(row[5]) > 0


def test_the_shipped_list_covers_the_wards_designated_cities_and_capitals() -> None:
    rows = parse_municipality_csv(shipped_municipalities_csv())
    names = {(row.prefecture_name, row.name) for row in rows}
    wards = [row for row in rows if row.code.startswith("131") and row.name.endswith("区")]
    assert len(wards) == 23
    assert {("北海道", "札幌市"), ("神奈川県", "横浜市"), ("沖縄県", "那覇市")} <= names
    assert len({row.prefecture_code for row in rows}) == 47
    assert any(row.name.endswith("村") for row in rows)


def test_the_weights_carry_wards_for_designated_cities() -> None:
    weights = {w.code: w for w in shipped_weights()}
    assert "中区" in weights["141003"].wards
    assert weights["131016"].wards == ()


def test_it_reads_a_shift_jis_file_with_half_width_kana_and_skips_prefecture_rows() -> None:
    text = HEADER + "130001,東京都,,ﾄｳｷｮｳﾄ,\n131016,東京都,千代田区,ﾄｳｷｮｳﾄ,ﾁﾖﾀﾞｸ\n"
    rows = parse_municipality_csv(text.encode("cp932"))
    assert [(r.code, r.name, r.name_kana, r.prefecture_code) for r in rows] == [
        ("131016", "千代田区", "チヨダク", "13")
    ]


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("131017,東京都,千代田区,トウキョウト,チヨダク", "check digit"),
        ("131016,東京都,千代田区,トウキョウト", "5 expected columns"),
        ("131016,東京都,千代田区,トウキョウト,chiyoda", "katakana"),
    ],
)
def test_it_names_the_line_of_a_bad_row(line: str, fragment: str) -> None:
    text = HEADER + "131024,東京都,中央区,トウキョウト,チュウオウク\n" + line + "\n"
    with pytest.raises(MunicipalityFileError) as caught:
        parse_municipality_csv(text.encode("utf-8"))
    assert caught.value.params["line"] == 3
    assert fragment in str(caught.value)


def test_it_rejects_a_code_listed_twice() -> None:
    row = "131016,東京都,千代田区,トウキョウト,チヨダク\n"
    with pytest.raises(MunicipalityFileError) as caught:
        parse_municipality_csv((row + row).encode("utf-8"))
    assert caught.value.params["line"] == 2


def test_it_rejects_bytes_that_are_not_text() -> None:
    with pytest.raises(MunicipalityFileError):
        parse_municipality_csv(b"\x81\x00\xff\xfe\x80")
