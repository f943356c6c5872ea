"""Kana readings (読み) of Japanese text, so that a search ignores how a word is spelt.

転出 and てんしゅつ, 引越し, 引っ越し, 引越 and ひっこし are one word to a resident. The
readings come from pykakasi's dictionary (KAKASI's kanji dictionary), which knows the
common okurigana variants (引越 / 引越し / 引っ越し → ひっこし, 届出 / 届け出 → とどけで).
:data:`READING_FIXES` lists, before the dictionary is asked, the few words of the
catalog it reads wrongly or spells in a variant it does not know; each has its reason.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Protocol, cast

import pykakasi

# Words the dictionary gets wrong, replaced by their reading before it is asked. Keep the
# list short: add a word only when a test shows the dictionary misses it.
READING_FIXES: dict[str, str] = {
    # Segmented as 要介 + 護 and read ようすけご: the care level words of 介護保険.
    "要介護": "ようかいご",
    "要支援": "ようしえん",
    # The okurigana み after 申込 is kept as an extra kana (もうしこみみ).
    "申込み": "もうしこみ",
    # 障がい is written with kana on purpose by many municipalities; the dictionary
    # reads the kanji alone as しょう.
    "障がい": "しょうがい",
}


class _Converter(Protocol):
    def convert(self, text: str) -> list[dict[str, str]]: ...


@cache
def _kakasi() -> _Converter:
    # Loading the dictionary takes most of a second: once per process, on first use.
    # pykakasi ships py.typed but leaves kakasi() unannotated: the Protocol types it here.
    return cast(_Converter, pykakasi.kakasi())  # type: ignore[no-untyped-call]


def reading(text: str) -> str:
    """The reading of ``text`` in hiragana; kana, Latin letters and digits stay as they are.

    The text is NFKC-normalised first, so half-width katakana are read like full-width.
    """
    composed = unicodedata.normalize("NFKC", text)
    for word in sorted(READING_FIXES, key=len, reverse=True):
        composed = composed.replace(word, READING_FIXES[word])
    return "".join(part["hira"] for part in _kakasi().convert(composed))
