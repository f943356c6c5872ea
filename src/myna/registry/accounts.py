"""The public-fund receiving account (公金受取口座): one bank account per resident.

The first half is pure rules (no I/O): field formats, the ゆうちょ銀行 conversion and
the normalisation of the holder's name in kana. The second half is the service that
keeps one account per resident with an audit row for every change.

Formats follow the Zengin conventions banks use for transfers: a 4-digit bank code
(金融機関コード), a 3-digit branch code (支店コード), an account type (預金種目) and a
7-digit account number (口座番号). The bank and the branch must exist in the Zengin
list (:mod:`myna.reference.banks`, the ``zengin-code`` dataset); their names come from
it wherever the account is shown.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from myna import reference
from myna.platform.attributes import from_attributes
from myna.platform.db import utcnow
from myna.platform.errors import N_, MynaError, NotFoundError
from myna.registry.account_models import PublicFundAccount, PublicFundAccountChange
from myna.registry.domain import ResidentStatus
from myna.registry.models import Resident
from myna.registry.service import ResidentNotFoundError

# -- rules (pure) ---------------------------------------------------------------------

JAPAN_POST_BANK = "9900"


class AccountType(enum.StrEnum):
    """預金種目: the kinds of account a public payment may go to."""

    ORDINARY = "普通"
    CHECKING = "当座"
    SAVINGS = "貯蓄"


class AccountAction(enum.StrEnum):
    """What a resident did to the account (the audit row's action)."""

    REGISTERED = "registered"
    CHANGED = "changed"
    DELETED = "deleted"


class AccountFieldError(MynaError, code="invalid_account_field"):
    """One field of the account form is not right; ``field`` names it."""

    field = ""


class InvalidBankCodeError(AccountFieldError, code="invalid_bank_code"):
    """The bank code is not 4 digits."""

    field = "bank_code"
    message = N_(
        "The bank code must be 4 digits (金融機関コード). Find it in your bankbook or on "
        "your bank's website and enter it again."
    )


class InvalidBranchCodeError(AccountFieldError, code="invalid_branch_code"):
    """The branch code is not 3 digits."""

    field = "branch_code"
    message = N_(
        "The branch code must be 3 digits (支店コード). Find it in your bankbook and enter "
        "it again."
    )


class UnknownBankError(AccountFieldError, code="unknown_bank"):
    """A bank code in the right form that no financial institution has."""

    field = "bank_code"
    message = N_(
        "No financial institution has the code {code}. Search for your bank by its name "
        "and choose it from the list."
    )


class UnknownBranchError(AccountFieldError, code="unknown_branch"):
    """A branch code in the right form that the chosen bank does not have."""

    field = "branch_code"
    message = N_(
        "{bank} has no branch with the code {code}. Search for the branch by its name "
        "and choose it from the list."
    )


class UnknownJapanPostOfficeError(AccountFieldError, code="unknown_japan_post_office"):
    """A ゆうちょ銀行 記号 whose branch for transfers does not exist."""

    field = "symbol"
    message = N_(
        "No Japan Post Bank branch matches the symbol {symbol}. Check the symbol (記号) in "
        "your passbook."
    )


class InvalidAccountTypeError(AccountFieldError, code="invalid_account_type"):
    """The account type is none of 普通, 当座, 貯蓄."""

    field = "account_type"
    message = N_("Choose the account type: ordinary, checking or savings.")


class InvalidAccountNumberError(AccountFieldError, code="invalid_account_number"):
    """The account number is not 1 to 7 digits."""

    field = "number"
    message = N_("The account number must be up to 7 digits. Enter it as printed in your bankbook.")


class InvalidJapanPostSymbolError(AccountFieldError, code="invalid_japan_post_symbol"):
    """The ゆうちょ銀行 記号 is not 5 digits starting with 1."""

    field = "symbol"
    message = N_(
        "The Japan Post Bank symbol (記号) of an ordinary savings account is 5 digits "
        "starting with 1. Enter it as printed in your passbook, or enter the branch code "
        "and account number for transfers instead."
    )


class InvalidJapanPostNumberError(AccountFieldError, code="invalid_japan_post_number"):
    """The ゆうちょ銀行 番号 is not 2 to 8 digits."""

    field = "symbol_number"
    message = N_(
        "The Japan Post Bank number (番号) must be 2 to 8 digits. Enter it as printed in "
        "your passbook."
    )


class InvalidHolderNameError(AccountFieldError, code="invalid_holder_name"):
    """The holder's name has characters other than kana and spaces."""

    field = "holder_kana"
    message = N_(
        "Enter the account holder's name in katakana, family name first, as the bank registered it."
    )


class HolderNameMismatchError(AccountFieldError, code="holder_name_mismatch"):
    """The holder's name differs from the resident's name in kana."""

    field = "holder_kana"
    message = N_(
        "The account holder's name does not match your name in kana. Only an account in "
        "your own name can be registered; check the name in your bankbook."
    )


class InvalidAccountError(MynaError, code="invalid_account", status_code=422):
    """The form has one or more wrong fields (each in ``errors``, by field name)."""

    message = N_("Some details of the account are not right. Correct them and send again.")

    def __init__(self, errors: Mapping[str, AccountFieldError]) -> None:
        super().__init__()
        self.errors = dict(errors)


@dataclass(frozen=True, slots=True)
class AccountForm:
    """What a resident enters; ゆうちょ銀行 accounts may come as 記号 and 番号 instead."""

    bank_code: str = ""
    branch_code: str = ""
    account_type: str = ""
    number: str = ""
    holder_kana: str = ""
    symbol: str = ""
    symbol_number: str = ""


@dataclass(frozen=True, slots=True)
class BankAccount:
    """A checked account in Zengin form."""

    bank_code: str
    branch_code: str
    account_type: AccountType
    number: str
    holder_kana: str

    @property
    def bank_name(self) -> str | None:
        """The bank's name in the Zengin list."""
        return bank_name(self.bank_code)

    @property
    def branch_name(self) -> str | None:
        """The branch's name in the Zengin list."""
        return branch_name(self.bank_code, self.branch_code)


def bank_name(code: str) -> str | None:
    """The name of bank ``code``, or None when the Zengin list no longer has it."""
    bank = reference.get_bank(code)
    return None if bank is None else bank.name


def branch_name(bank_code: str, branch_code: str) -> str | None:
    """The name of a branch, or None when the Zengin list no longer has it."""
    branch = reference.get_branch(bank_code, branch_code)
    return None if branch is None else branch.name


_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_SEPARATORS = " 　・･.．"
_LONG_VOWELS = str.maketrans({"-": "ー", "‐": "ー", "－": "ー", "−": "ー", "ｰ": "ー"})


def _digits(text: str) -> str:
    """Full-width digits made ASCII, surrounding spaces and inner hyphens dropped."""
    return unicodedata.normalize("NFKC", text).strip().replace("-", "").replace(" ", "")


def normalize_kana(text: str) -> str:
    """A name in kana as banks write it: full-width capital katakana, one space between parts.

    NFKC makes half-width katakana full-width (ﾀﾞ → ダ); hiragana becomes katakana;
    small kana become capitals (ッ → ツ), as account names are registered; hyphens
    stand for the long vowel ー; spaces and 中黒 separate the parts of the name.
    """
    text = unicodedata.normalize("NFKC", text).translate(_LONG_VOWELS)
    text = "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)
    text = text.translate(_SMALL_KANA)
    for separator in _SEPARATORS:
        text = text.replace(separator, " ")
    return "　".join(text.split())


def kana_key(text: str) -> str:
    """The normalised name without separators, for comparing two names."""
    return normalize_kana(text).replace("　", "")


def _is_katakana_name(text: str) -> bool:
    return bool(text) and all("ア" <= c <= "ヴ" or c in "ー　" for c in text)


def japan_post_to_zengin(symbol: str, number: str) -> tuple[str, str]:
    """The branch code and account number of a ゆうちょ銀行 通常貯金 記号・番号.

    The bank's rule for receiving transfers: the branch (店名) is the 2nd and 3rd
    digits of the 5-digit 記号 followed by "8"; the account number is the 番号 without
    its last digit, zero-padded to 7 digits. Only 通常貯金 (記号 starting with 1) is
    converted; 振替口座 follow another rule and are entered as branch and number.
    """
    symbol, number = _digits(symbol), _digits(number)
    if len(symbol) != 5 or not symbol.isascii() or not symbol.isdigit() or symbol[0] != "1":
        raise InvalidJapanPostSymbolError
    if not (2 <= len(number) <= 8) or not number.isascii() or not number.isdigit():
        raise InvalidJapanPostNumberError
    return symbol[1:3] + "8", number[:-1].zfill(7)


def _check_exists(
    errors: dict[str, AccountFieldError], bank: str, branch: str, symbol: str
) -> None:
    """Add an error when the bank or the branch (each well-formed) is not in the Zengin list."""
    if "bank_code" in errors:
        return
    found = reference.get_bank(bank)
    if found is None:
        errors["bank_code"] = UnknownBankError(code=bank)
        return
    if {"branch_code", "symbol", "symbol_number"} & errors.keys():
        return
    if reference.get_branch(bank, branch) is None:
        if bank == JAPAN_POST_BANK and symbol.strip():
            errors["symbol"] = UnknownJapanPostOfficeError(symbol=_digits(symbol))
        else:
            errors["branch_code"] = UnknownBranchError(bank=found.name, code=branch)


def check_account(form: AccountForm, *, resident_kana: str) -> BankAccount:
    """The account in Zengin form, or :class:`InvalidAccountError` with every wrong field.

    ``resident_kana`` is the resident's registered name in kana (family then given);
    the holder's name must be the same once both are normalised.
    """
    errors: dict[str, AccountFieldError] = {}
    bank = _digits(form.bank_code)
    if len(bank) != 4 or not bank.isascii() or not bank.isdigit():
        errors["bank_code"] = InvalidBankCodeError()
    branch, number = _digits(form.branch_code), _digits(form.number)
    account_type: AccountType | None = None
    if bank == JAPAN_POST_BANK and (form.symbol.strip() or form.symbol_number.strip()):
        try:
            branch, number = japan_post_to_zengin(form.symbol, form.symbol_number)
            account_type = AccountType.ORDINARY
        except AccountFieldError as error:
            errors[error.field] = error
    else:
        if len(branch) != 3 or not branch.isascii() or not branch.isdigit():
            errors["branch_code"] = InvalidBranchCodeError()
        if not (1 <= len(number) <= 7) or not number.isascii() or not number.isdigit():
            errors["number"] = InvalidAccountNumberError()
        try:
            account_type = AccountType(form.account_type.strip())
        except ValueError:
            errors["account_type"] = InvalidAccountTypeError()
    holder = normalize_kana(form.holder_kana)
    if not _is_katakana_name(holder):
        errors["holder_kana"] = InvalidHolderNameError()
    elif kana_key(holder) != kana_key(resident_kana):
        errors["holder_kana"] = HolderNameMismatchError()
    _check_exists(errors, bank, branch, form.symbol)
    if errors or account_type is None:
        raise InvalidAccountError(errors)
    return BankAccount(
        bank_code=bank,
        branch_code=branch,
        account_type=account_type,
        number=number.zfill(7),
        holder_kana=holder,
    )


# -- the service ----------------------------------------------------------------------


class AccountRead(BaseModel):
    """A resident's registered account."""

    model_config = ConfigDict(frozen=True)

    bank_code: str
    bank_name: str | None
    branch_code: str
    branch_name: str | None
    account_type: AccountType
    number: str
    holder_kana: str
    registered_at: datetime
    updated_at: datetime


class AccountChange(BaseModel):
    """One audit row: what was done to the account, and when."""

    model_config = ConfigDict(frozen=True)

    action: AccountAction
    at: datetime


class AccountAlreadyRegisteredError(MynaError, code="account_already_registered", status_code=409):
    """A second account for the same resident."""

    message = N_(
        "You already have a public-fund receiving account. Change it instead of "
        "registering another one."
    )


class AccountNotRegisteredError(NotFoundError, code="account_not_registered"):
    """Change or delete without an account."""

    message = N_("You have no public-fund receiving account yet. Register one first.")


class AccountHolderNotActiveError(MynaError, code="account_holder_not_active", status_code=409):
    """The resident's record is closed (死亡 or 転出)."""

    message = N_(
        "This resident record is closed, so no account can be registered. Ask the "
        "municipality where you live now."
    )


def _read(row: PublicFundAccount) -> AccountRead:
    return from_attributes(
        AccountRead,
        row,
        bank_name=bank_name(row.bank_code),
        branch_name=branch_name(row.bank_code, row.branch_code),
        account_type=AccountType(row.account_type),
    )


def _resident(session: Session, resident_id: int) -> Resident:
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise ResidentNotFoundError
    if resident.status != ResidentStatus.ACTIVE:
        raise AccountHolderNotActiveError
    return resident


def _checked(session: Session, resident_id: int, form: AccountForm) -> BankAccount:
    resident = _resident(session, resident_id)
    return check_account(form, resident_kana=resident.family_name_kana + resident.given_name_kana)


def _row(session: Session, resident_id: int) -> PublicFundAccount | None:
    return session.scalar(
        select(PublicFundAccount).where(PublicFundAccount.resident_id == resident_id)
    )


def _audit(session: Session, resident_id: int, action: AccountAction) -> None:
    session.add(PublicFundAccountChange(resident_id=resident_id, action=action, at=utcnow()))


def _fill(row: PublicFundAccount, account: BankAccount) -> None:
    row.bank_code = account.bank_code
    row.branch_code = account.branch_code
    row.account_type = account.account_type.value
    row.number = account.number
    row.holder_kana = account.holder_kana


def register_account(*, session: Session, resident_id: int, form: AccountForm) -> AccountRead:
    """Register the resident's account (only one; see :func:`change_account`)."""
    account = _checked(session, resident_id, form)
    if _row(session, resident_id) is not None:
        raise AccountAlreadyRegisteredError
    now = utcnow()
    row = PublicFundAccount(resident_id=resident_id, registered_at=now, updated_at=now)
    _fill(row, account)
    session.add(row)
    _audit(session, resident_id, AccountAction.REGISTERED)
    session.flush()
    return _read(row)


def change_account(*, session: Session, resident_id: int, form: AccountForm) -> AccountRead:
    """Replace the resident's registered account with another one."""
    account = _checked(session, resident_id, form)
    row = _row(session, resident_id)
    if row is None:
        raise AccountNotRegisteredError
    _fill(row, account)
    row.updated_at = utcnow()
    _audit(session, resident_id, AccountAction.CHANGED)
    session.flush()
    return _read(row)


def delete_account(*, session: Session, resident_id: int) -> None:
    """Remove the resident's account (the audit row stays)."""
    if _row(session, resident_id) is None:
        raise AccountNotRegisteredError
    session.execute(delete(PublicFundAccount).where(PublicFundAccount.resident_id == resident_id))
    _audit(session, resident_id, AccountAction.DELETED)
    session.flush()


def get_account(*, session: Session, resident_id: int) -> AccountRead | None:
    """The resident's registered account, if any."""
    row = _row(session, resident_id)
    return _read(row) if row is not None else None


def account_history(*, session: Session, resident_id: int) -> list[AccountChange]:
    """The resident's registrations, changes and deletions, oldest first."""
    rows = session.scalars(
        select(PublicFundAccountChange)
        .where(PublicFundAccountChange.resident_id == resident_id)
        .order_by(PublicFundAccountChange.id)
    )
    return [AccountChange(action=AccountAction(r.action), at=r.at) for r in rows]
