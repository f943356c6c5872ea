"""Loading municipality lists: all or nothing, UTF-8 or Shift_JIS, upserts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna.registry import (
    MunicipalityFileError,
    MunicipalityNotFoundError,
    ensure_municipalities,
    get_municipality,
    list_municipalities,
    load_municipality_file,
)
from myna.registry.models import Municipality

HEADER = "団体コード,都道府県名（漢字）,市区町村名（漢字）,都道府県名（カナ）,市区町村名（カナ）\n"


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Municipality)) or 0


def test_the_shipped_list_is_loaded_once_when_the_registry_is_empty(session: Session) -> None:
    loaded = ensure_municipalities(session=session)
    assert loaded == 0 or loaded >= 80
    total = _count(session)
    assert total >= 80
    assert ensure_municipalities(session=session) == 0
    assert _count(session) == total
    chiyoda = get_municipality(session=session, code="131016")
    assert (chiyoda.full_name, chiyoda.name_kana) == ("東京都千代田区", "チヨダク")
    tokyo = list_municipalities(session=session, prefecture_code="13")
    assert len(tokyo) >= 23 and all(m.prefecture_name == "東京都" for m in tokyo)


def test_a_bad_row_writes_nothing(session: Session) -> None:
    ensure_municipalities(session=session)
    before = _count(session)
    text = (
        HEADER
        + "012025,北海道,函館市,ホッカイドウ,ハコダテシ\n"
        + "012033,北海道,小樽市,ホッカイドウ,オタルシ\n"
        + "012049,北海道,旭川市,ホッカイドウ,アサヒカワシ\n"  # wrong check digit
    )
    with pytest.raises(MunicipalityFileError) as caught:
        load_municipality_file(session=session, data=text.encode("utf-8"))
    assert caught.value.params["line"] == 4
    assert _count(session) == before
    with pytest.raises(MunicipalityNotFoundError):
        get_municipality(session=session, code="012025")


def test_a_shift_jis_list_is_loaded_and_existing_rows_are_updated(session: Session) -> None:
    ensure_municipalities(session=session)
    before = _count(session)
    text = (
        HEADER
        + "010006,北海道,,ﾎｯｶｲﾄﾞｳ,\n"
        + "012025,北海道,函館市,ﾎｯｶｲﾄﾞｳ,ﾊｺﾀﾞﾃｼ\n"
        + "131016,東京都,千代田区,ﾄｳｷｮｳﾄ,ﾁﾖﾀﾞｸﾃｽﾄ\n"
    )
    result = load_municipality_file(session=session, data=text.encode("cp932"))
    assert (result.inserted, result.updated) == (1, 1)
    assert _count(session) == before + 1
    assert get_municipality(session=session, code="012025").name_kana == "ハコダテシ"
    assert get_municipality(session=session, code="131016").name_kana == "チヨダクテスト"
    again = load_municipality_file(session=session, data=text.encode("cp932"))
    assert (again.inserted, again.updated) == (0, 0)
