"""Personas, look-ups and moves against a migrated database."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from myna.registry import (
    PERSONAS_BY_KEY,
    AddressChangeReason,
    InvalidMoveError,
    InvalidMyNumberError,
    Relation,
    ResidentNotActiveError,
    ResidentNotFoundError,
    ResidentRead,
    ResidentStatus,
    Sex,
    address_history,
    ensure_personas,
    find_resident_by_my_number,
    get_my_number,
    get_resident,
    household_members,
    record_move,
)
from myna.registry.models import Resident


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Resident)) or 0


def test_personas_are_created_once_and_returned_each_time(session: Session) -> None:
    first = ensure_personas(session=session)
    count = _count(session)
    second = ensure_personas(session=session)
    assert first == second
    assert _count(session) == count
    assert set(first) == {"taro", "hanako", "haruto", "misaki", "ichiro"}


def test_the_yamada_family_shares_one_household(session: Session) -> None:
    people = ensure_personas(session=session)
    taro, hanako, haruto = people["taro"], people["hanako"], people["haruto"]
    assert taro.full_name == "山田 太郎"
    assert taro.full_name_kana == "ヤマダ タロウ"
    assert taro.municipality_name == "東京都千代田区"
    assert taro.full_address == "東京都千代田区神田神保町二丁目3番4号"
    assert (taro.sex, taro.birth_date) == (Sex.MALE, date(1985, 4, 12))
    assert taro.household_id == hanako.household_id == haruto.household_id
    assert (taro.relation, hanako.relation, haruto.relation) == (
        Relation.HEAD,
        Relation.WIFE,
        Relation.CHILD,
    )
    members = household_members(session=session, household_id=taro.household_id)
    assert [m.id for m in members] == [taro.id, hanako.id, haruto.id]
    assert people["misaki"].household_id not in {taro.household_id, people["ichiro"].household_id}
    assert people["misaki"].municipality_name == "神奈川県横浜市"
    assert people["ichiro"].municipality_name == "北海道札幌市"


def test_the_my_number_is_not_part_of_the_resident_record(session: Session) -> None:
    taro = ensure_personas(session=session)["taro"]
    assert "my_number" not in ResidentRead.model_fields
    assert PERSONAS_BY_KEY["taro"].my_number not in taro.model_dump_json()
    assert get_my_number(session=session, resident_id=taro.id) == "314159265352"


def test_it_finds_a_resident_by_my_number_however_it_is_typed(session: Session) -> None:
    misaki = ensure_personas(session=session)["misaki"]
    found = find_resident_by_my_number(session=session, my_number="1414-2135-6230")
    assert found == misaki


def test_a_malformed_my_number_is_told_apart_from_an_unknown_one(session: Session) -> None:
    ensure_personas(session=session)
    with pytest.raises(InvalidMyNumberError):
        find_resident_by_my_number(session=session, my_number="141421356231")
    with pytest.raises(InvalidMyNumberError):
        find_resident_by_my_number(session=session, my_number="1414")
    with pytest.raises(ResidentNotFoundError) as caught:
        find_resident_by_my_number(session=session, my_number="123456789018")
    assert caught.value.status_code == 404
    assert "123456789018" not in str(caught.value)


def test_an_unknown_resident_id_is_not_found(session: Session) -> None:
    with pytest.raises(ResidentNotFoundError):
        get_resident(session=session, resident_id=987_654_321)
    with pytest.raises(ResidentNotFoundError):
        get_my_number(session=session, resident_id=987_654_321)


def test_a_move_closes_the_old_address_and_opens_the_new_one(session: Session) -> None:
    misaki = ensure_personas(session=session)["misaki"]
    moved = record_move(
        session=session,
        resident_id=misaki.id,
        municipality_code="131016",
        address="丸の内一丁目9番1号",
        moved_on=date(2026, 12, 1),
    )
    assert moved.full_address == "東京都千代田区丸の内一丁目9番1号"
    assert get_resident(session=session, resident_id=misaki.id) == moved
    history = address_history(session=session, resident_id=misaki.id)
    assert [(h.municipality_code, h.valid_from, h.valid_to, h.reason) for h in history] == [
        ("141003", date(2018, 4, 1), date(2026, 12, 1), AddressChangeReason.MOVE_IN.value),
        ("131016", date(2026, 12, 1), None, AddressChangeReason.MOVE_IN.value),
    ]
    # She lived alone: her household moved with her.
    assert moved.household_id == misaki.household_id


def test_a_move_within_the_municipality_is_a_tenkyo(session: Session) -> None:
    ichiro = ensure_personas(session=session)["ichiro"]
    record_move(
        session=session,
        resident_id=ichiro.id,
        municipality_code="011002",
        address="北区北十条西三丁目1番1号",
        moved_on=date(2026, 5, 1),
    )
    history = address_history(session=session, resident_id=ichiro.id)
    assert history[-1].reason == AddressChangeReason.MOVE_WITHIN.value


def test_a_family_moves_member_by_member_into_the_heads_new_household(session: Session) -> None:
    people = ensure_personas(session=session)
    taro = record_move(
        session=session,
        resident_id=people["taro"].id,
        municipality_code="141003",
        address="中区山下町二丁目3番4号",
        moved_on=date(2026, 12, 1),
    )
    assert taro.household_id != people["taro"].household_id
    assert taro.relation == Relation.HEAD
    hanako = record_move(
        session=session,
        resident_id=people["hanako"].id,
        municipality_code="141003",
        address="中区山下町二丁目3番4号",
        moved_on=date(2026, 12, 1),
        household_id=taro.household_id,
        relation=Relation.WIFE,
    )
    assert (hanako.household_id, hanako.relation) == (taro.household_id, Relation.WIFE)
    with pytest.raises(InvalidMoveError):
        record_move(
            session=session,
            resident_id=people["haruto"].id,
            municipality_code="141003",
            address="中区別の町一丁目1番1号",
            moved_on=date(2026, 12, 1),
            household_id=taro.household_id,
        )


def test_a_move_dated_before_the_current_address_is_refused(session: Session) -> None:
    misaki = ensure_personas(session=session)["misaki"]
    with pytest.raises(InvalidMoveError):
        record_move(
            session=session,
            resident_id=misaki.id,
            municipality_code="131016",
            address="丸の内一丁目9番1号",
            moved_on=date(2018, 4, 1),
        )
    assert len(address_history(session=session, resident_id=misaki.id)) == 1


def test_a_closed_record_cannot_move(session: Session) -> None:
    ichiro = ensure_personas(session=session)["ichiro"]
    session.get_one(Resident, ichiro.id).status = ResidentStatus.DECEASED.value
    session.flush()
    with pytest.raises(ResidentNotActiveError):
        record_move(
            session=session,
            resident_id=ichiro.id,
            municipality_code="011002",
            address="中央区大通西一丁目1番1号",
            moved_on=date(2026, 12, 1),
        )
