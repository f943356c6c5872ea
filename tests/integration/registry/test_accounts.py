"""Registering, changing and deleting the one public-fund account, with its audit rows."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from myna import registry

FORM = registry.AccountForm(
    bank_code="0009",
    branch_code="001",
    account_type="普通",
    number="7654321",
    holder_kana="ﾔﾏﾀﾞ ﾀﾛｳ",
)


@pytest.fixture
def residents(session: Session) -> dict[str, registry.ResidentRead]:
    registry.ensure_municipalities(session=session)
    return registry.ensure_personas(session=session)


def test_a_resident_registers_changes_and_deletes_their_account(
    session: Session, residents: dict[str, registry.ResidentRead]
) -> None:
    taro = residents["taro"].id
    assert registry.get_account(session=session, resident_id=taro) is None
    saved = registry.register_account(session=session, resident_id=taro, form=FORM)
    assert (saved.bank_name, saved.number, saved.holder_kana) == (
        "三井住友銀行",
        "7654321",
        "ヤマダ　タロウ",
    )
    changed = registry.change_account(
        session=session,
        resident_id=taro,
        form=registry.AccountForm(
            bank_code="0001",
            branch_code="200",
            account_type="貯蓄",
            number="42",
            holder_kana="やまだ たろう",
        ),
    )
    assert registry.get_account(session=session, resident_id=taro) == changed
    assert (changed.bank_code, changed.number) == ("0001", "0000042")
    registry.delete_account(session=session, resident_id=taro)
    assert registry.get_account(session=session, resident_id=taro) is None
    history = registry.account_history(session=session, resident_id=taro)
    assert [h.action for h in history] == [
        registry.AccountAction.REGISTERED,
        registry.AccountAction.CHANGED,
        registry.AccountAction.DELETED,
    ]
    assert all(h.at.tzinfo is not None for h in history)


def test_a_resident_has_only_one_account(
    session: Session, residents: dict[str, registry.ResidentRead]
) -> None:
    taro = residents["taro"].id
    registry.register_account(session=session, resident_id=taro, form=FORM)
    with pytest.raises(registry.AccountAlreadyRegisteredError):
        registry.register_account(session=session, resident_id=taro, form=FORM)


def test_change_and_delete_need_a_registered_account(
    session: Session, residents: dict[str, registry.ResidentRead]
) -> None:
    taro = residents["taro"].id
    with pytest.raises(registry.AccountNotRegisteredError):
        registry.change_account(session=session, resident_id=taro, form=FORM)
    with pytest.raises(registry.AccountNotRegisteredError):
        registry.delete_account(session=session, resident_id=taro)
    assert registry.account_history(session=session, resident_id=taro) == []


def test_an_account_in_another_persons_name_is_refused(
    session: Session, residents: dict[str, registry.ResidentRead]
) -> None:
    with pytest.raises(registry.InvalidAccountError) as caught:
        registry.register_account(session=session, resident_id=residents["misaki"].id, form=FORM)
    assert isinstance(caught.value.errors["holder_kana"], registry.HolderNameMismatchError)
    assert registry.get_account(session=session, resident_id=residents["misaki"].id) is None


def test_one_residents_account_is_not_anothers(
    session: Session, residents: dict[str, registry.ResidentRead]
) -> None:
    registry.register_account(session=session, resident_id=residents["taro"].id, form=FORM)
    assert registry.get_account(session=session, resident_id=residents["hanako"].id) is None
    assert registry.account_history(session=session, resident_id=residents["hanako"].id) == []
