"""Banks and branches (金融機関・支店) by their Zengin codes, from the ``zengin-code`` dataset.

``zengin-code`` republishes the 全銀協 list of financial institutions (金融機関コード, 4
digits) and their branches (店舗コード, 3 digits) with names in kanji, katakana and
hiragana, updated as banks merge and close branches. Its names are the short forms
of the list (``みずほ``, ``昭和信金``); domestic banks get ``銀行`` back for display
(:func:`display_bank_name`), the others are shown as listed.

The dataset is static package data, read once per process on first use.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = [
    "BankRead",
    "BranchRead",
    "display_bank_name",
    "get_bank",
    "get_branch",
    "search_banks",
    "search_branches",
]

MAX_QUERY_LENGTH = 40
DEFAULT_LIMIT = 30

# Zengin code ranges of domestic banks whose short name drops 銀行: city, regional and
# online banks, trust banks, second-tier regional banks, and ゆうちょ銀行 (9900).
_BANK_RANGES = (("0001", "0199"), ("0288", "0399"), ("0500", "0599"), ("9900", "9900"))


@dataclass(frozen=True, slots=True)
class BankRead:
    """A financial institution: its code, the name shown, and its name in katakana."""

    code: str
    name: str
    kana: str

    @property
    def label(self) -> str:
        """``みずほ銀行（0001）``."""
        return f"{self.name}（{self.code}）"


@dataclass(frozen=True, slots=True)
class BranchRead:
    """A branch of a bank: its code, name and name in katakana."""

    code: str
    name: str
    kana: str

    @property
    def label(self) -> str:
        """``東京営業部（001）``."""
        return f"{self.name}（{self.code}）"


@dataclass(frozen=True, slots=True)
class _Bank:
    bank: BankRead
    keys: tuple[str, ...]
    branches: Mapping[str, tuple[BranchRead, tuple[str, ...]]]


def display_bank_name(code: str, short_name: str) -> str:
    """The name a resident knows: the short name, with 銀行 for domestic banks."""
    name = unicodedata.normalize("NFKC", short_name)
    if any(low <= code <= high for low, high in _BANK_RANGES) and not name.endswith("銀行"):
        return f"{name}銀行"
    return name


def _key(text: str) -> str:
    """Text compared in searches: NFKC, katakana as hiragana, no spaces, lower case."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)
    return "".join(text.split()).replace("ー", "-")


@cache
def _directory() -> dict[str, _Bank]:
    import zengin_code  # noqa: PLC0415 (loads the whole list on import: only when needed)

    banks: dict[str, _Bank] = {}
    raw: Any
    for code, raw in sorted(zengin_code.Bank.all.items()):
        bank = BankRead(
            code=str(code), name=display_bank_name(str(code), raw.name), kana=str(raw.kana)
        )
        branches = {
            str(branch_code): (
                BranchRead(
                    code=str(branch_code),
                    name=unicodedata.normalize("NFKC", branch.name),
                    kana=str(branch.kana),
                ),
                (_key(branch.name), _key(branch.kana), _key(branch.hira), _key(branch.roma)),
            )
            for branch_code, branch in sorted(raw.branches.items())
        }
        keys = (_key(bank.name), _key(raw.name), _key(raw.kana), _key(raw.hira), _key(raw.roma))
        banks[bank.code] = _Bank(bank=bank, keys=keys, branches=branches)
    return banks


def get_bank(code: str) -> BankRead | None:
    """The bank with Zengin code ``code`` (4 digits), or None."""
    found = _directory().get(code)
    return None if found is None else found.bank


def get_branch(bank_code: str, branch_code: str) -> BranchRead | None:
    """The branch ``branch_code`` of bank ``bank_code``, or None."""
    bank = _directory().get(bank_code)
    branch = None if bank is None else bank.branches.get(branch_code)
    return None if branch is None else branch[0]


def _matches(query: str, code: str, keys: tuple[str, ...]) -> int | None:
    """0 for an exact name or code, 1 for a name starting with it, 2 for containing it."""
    if query == code or query in keys:
        return 0
    if code.startswith(query) or any(k.startswith(query) for k in keys):
        return 1
    if any(query in k for k in keys):
        return 2
    return None


def search_banks(query: str, *, limit: int = DEFAULT_LIMIT) -> list[BankRead]:
    """Banks whose name (kanji, katakana or hiragana) or code matches, best first."""
    wanted = _key(query[:MAX_QUERY_LENGTH])
    if not wanted:
        return []
    ranked = []
    for bank in _directory().values():
        rank = _matches(wanted, bank.bank.code, bank.keys)
        if rank is not None:
            ranked.append((rank, bank.bank.code, bank.bank))
    return [bank for _, _, bank in sorted(ranked)[:limit]]


def search_branches(bank_code: str, query: str, *, limit: int = DEFAULT_LIMIT) -> list[BranchRead]:
    """Branches of one bank whose name or code matches, best first."""
    bank = _directory().get(bank_code)
    wanted = _key(query[:MAX_QUERY_LENGTH])
    if bank is None or not wanted:
        return []
    ranked = []
    for code, (branch, keys) in bank.branches.items():
        rank = _matches(wanted, code, keys)
        if rank is not None:
            ranked.append((rank, code, branch))
    return [branch for _, _, branch in sorted(ranked)[:limit]]
