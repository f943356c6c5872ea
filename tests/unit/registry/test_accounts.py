"""The public-fund account's rules: formats, ゆうちょ conversion, kana normalisation."""

from __future__ import annotations

import pytest

from myna.registry import (
    AccountForm,
    AccountType,
    InvalidAccountError,
    check_account,
    japan_post_to_zengin,
    normalize_kana,
)

TARO = "ヤマダタロウ"


def _form(**changes: str) -> AccountForm:
    fields = {
        "bank_code": "0001",
        "branch_code": "123",
        "account_type": "普通",
        "number": "1234567",
        "holder_kana": "ヤマダ タロウ",
    }
    fields.update(changes)
    return AccountForm(**fields)


def _errors(form: AccountForm) -> set[str]:
    with pytest.raises(InvalidAccountError) as caught:
        check_account(form, resident_kana=TARO)
    return set(caught.value.errors)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ　タロウ"),
        ("やまだ　たろう", "ヤマダ　タロウ"),
        ("ヤマダ・タロウ", "ヤマダ　タロウ"),
        ("  ヤマダ   タロウ ", "ヤマダ　タロウ"),
        ("ｷｯﾄﾞ ｼｮｳ", "キツド　シヨウ"),
        ("ｽｽﾞｷ ﾕｰｽｹ", "スズキ　ユースケ"),
        ("ｽｽﾞｷ ﾕ-ｽｹ", "スズキ　ユースケ"),
    ],
)
def test_kana_names_normalise_as_banks_write_them(given: str, expected: str) -> None:
    assert normalize_kana(given) == expected


def test_a_valid_account_is_returned_in_zengin_form() -> None:
    account = check_account(_form(number="４５６", bank_code="０００５"), resident_kana=TARO)
    assert (account.bank_code, account.branch_code, account.number) == ("0005", "123", "0000456")
    assert account.account_type is AccountType.ORDINARY
    assert account.bank_name == "三菱UFJ銀行"
    assert account.holder_kana == "ヤマダ　タロウ"


def test_the_bank_and_branch_names_come_from_the_zengin_list() -> None:
    account = check_account(_form(branch_code="004"), resident_kana=TARO)
    assert (account.bank_name, account.branch_name) == ("みずほ銀行", "丸の内中央")


def test_it_refuses_a_bank_code_no_institution_has() -> None:
    with pytest.raises(InvalidAccountError) as caught:
        check_account(_form(bank_code="1234", branch_code="999"), resident_kana=TARO)
    assert set(caught.value.errors) == {"bank_code"}
    assert "1234" in caught.value.errors["bank_code"].localized()
    assert "金融機関名で探して" in caught.value.errors["bank_code"].localized()


def test_it_refuses_a_branch_the_bank_does_not_have() -> None:
    with pytest.raises(InvalidAccountError) as caught:
        check_account(_form(branch_code="999"), resident_kana=TARO)
    assert set(caught.value.errors) == {"branch_code"}
    message = caught.value.errors["branch_code"].localized()
    assert "みずほ銀行に支店コード 999 の支店はありません" in message


def test_it_refuses_a_japan_post_symbol_whose_branch_does_not_exist() -> None:
    form = _form(bank_code="9900", branch_code="", symbol="18890", symbol_number="12345671")
    assert _errors(form) == {"symbol"}


@pytest.mark.parametrize("code", ["", "001", "00001", "abcd", "00a1"])
def test_it_rejects_a_bank_code_that_is_not_4_digits(code: str) -> None:
    assert _errors(_form(bank_code=code)) == {"bank_code"}


@pytest.mark.parametrize("code", ["", "12", "1234", "1x3"])
def test_it_rejects_a_branch_code_that_is_not_3_digits(code: str) -> None:
    assert _errors(_form(branch_code=code)) == {"branch_code"}


@pytest.mark.parametrize("number", ["", "12345678", "12a45"])
def test_it_rejects_an_account_number_that_is_not_up_to_7_digits(number: str) -> None:
    assert _errors(_form(number=number)) == {"number"}


@pytest.mark.parametrize("kind", ["", "定期", "ordinary"])
def test_it_rejects_an_unknown_account_type(kind: str) -> None:
    assert _errors(_form(account_type=kind)) == {"account_type"}


def test_it_rejects_a_holder_name_of_someone_else() -> None:
    assert _errors(_form(holder_kana="サトウ ミサキ")) == {"holder_kana"}


@pytest.mark.parametrize("name", ["", "山田太郎", "YAMADA TARO"])
def test_it_rejects_a_holder_name_not_in_kana(name: str) -> None:
    assert _errors(_form(holder_kana=name)) == {"holder_kana"}


def test_every_wrong_field_is_reported_at_once() -> None:
    wrong = _form(bank_code="1", branch_code="1", number="", account_type="x", holder_kana="")
    assert _errors(wrong) == {"bank_code", "branch_code", "number", "account_type", "holder_kana"}


def test_japan_post_symbol_and_number_convert_to_branch_and_number() -> None:
    assert japan_post_to_zengin("12345", "12345671") == ("238", "1234567")
    assert japan_post_to_zengin("10170", "1234561") == ("018", "0123456")


def test_a_japan_post_account_is_entered_by_symbol_and_number() -> None:
    account = check_account(
        AccountForm(
            bank_code="9900", holder_kana="ﾔﾏﾀﾞ ﾀﾛｳ", symbol="12345", symbol_number="12345671"
        ),
        resident_kana=TARO,
    )
    assert (account.branch_code, account.number) == ("238", "1234567")
    assert account.account_type is AccountType.ORDINARY


@pytest.mark.parametrize(
    ("symbol", "number", "field"),
    [
        ("02345", "1234561", "symbol"),
        ("1234", "1234561", "symbol"),
        ("12345", "1", "symbol_number"),
    ],
)
def test_it_rejects_a_wrong_japan_post_symbol_or_number(
    symbol: str, number: str, field: str
) -> None:
    form = AccountForm(bank_code="9900", holder_kana=TARO, symbol=symbol, symbol_number=number)
    assert _errors(form) == {field}
