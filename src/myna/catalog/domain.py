"""Pure rules of the service catalog (ぴったりサービス検索): procedures, search, paging.

No I/O here: :mod:`myna.catalog.loader` reads the data files, :mod:`myna.catalog.service`
checks municipalities against the registry; this module only decides what matches.
Readings (読み) come from :mod:`myna.catalog.readings`, a dictionary in the package.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from math import ceil
from typing import TypeVar

from myna.catalog.readings import reading
from myna.platform.errors import N_, NotFoundError
from myna.platform.tomlfile import ReasonedError

_E = TypeVar("_E", bound=StrEnum)

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_QUERY_LENGTH = 100


class Category(StrEnum):
    """The four groups of the 31 priority procedures (deck p28), and moves.

    子育て, 介護, 被災者支援 and 自動車保有; 引越し for the move-out notification and
    move-in reservation (引越しワンストップサービス, deck p27).
    """

    CHILD_REARING = "child-rearing"
    LONG_TERM_CARE = "long-term-care"
    DISASTER = "disaster"
    VEHICLE = "vehicle"
    MOVING = "moving"


CATEGORY_LABELS: dict[Category, str] = {
    Category.CHILD_REARING: N_("Child-rearing"),
    Category.LONG_TERM_CARE: N_("Long-term care"),
    Category.DISASTER: N_("Disaster victim support"),
    Category.VEHICLE: N_("Vehicle ownership"),
    Category.MOVING: N_("Moving house"),
}


class LifeEvent(StrEnum):
    """Moments of life a resident searches by (ライフイベント)."""

    PREGNANCY = "pregnancy"
    BIRTH = "birth"
    CHILD_REARING = "child-rearing"
    LONG_TERM_CARE = "long-term-care"
    MOVING = "moving"
    DISASTER = "disaster"
    CAR_PURCHASE = "car-purchase"
    NAME_CHANGE = "name-change"


LIFE_EVENT_LABELS: dict[LifeEvent, str] = {
    LifeEvent.PREGNANCY: N_("Pregnancy"),
    LifeEvent.BIRTH: N_("Birth"),
    LifeEvent.CHILD_REARING: N_("Raising children"),
    LifeEvent.LONG_TERM_CARE: N_("Care for the elderly"),
    LifeEvent.MOVING: N_("Moving house"),
    LifeEvent.DISASTER: N_("Disaster"),
    LifeEvent.CAR_PURCHASE: N_("Buying a car"),
    LifeEvent.NAME_CHANGE: N_("Change of name"),
}


@dataclass(frozen=True, slots=True)
class Procedure:
    """One procedure (手続) a resident can find: what it is, who may file it, what it needs.

    ``municipalities`` is None when every municipality offers it, else the local
    government codes (全国地方公共団体コード) of those that do.
    """

    code: str
    name_ja: str
    name_en: str
    category: Category
    life_events: tuple[LifeEvent, ...]
    summary: str
    eligibility: str
    documents: tuple[str, ...]
    signature_required: bool
    online: bool
    department: str
    keywords: tuple[str, ...]
    municipalities: tuple[str, ...] | None
    priority: bool
    search_text: str
    reading_text: str = ""
    name_reading: str = ""

    def offered_in(self, municipality_code: str) -> bool:
        """Whether the municipality ``municipality_code`` offers this procedure."""
        return self.municipalities is None or municipality_code in self.municipalities


@dataclass(frozen=True, slots=True)
class SearchCriteria:
    """A validated search: normalised terms, filters and the page asked for.

    ``readings`` holds each term's reading, in the order of ``terms``.
    """

    terms: tuple[str, ...]
    category: Category | None
    life_event: LifeEvent | None
    municipality_code: str | None
    page: int
    page_size: int
    readings: tuple[str, ...] = ()

    def term_pairs(self) -> tuple[tuple[str, str], ...]:
        """Each term with its reading (the term itself when no reading was made)."""
        readings = self.readings or self.terms
        return tuple(zip(self.terms, readings, strict=True))


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of matching procedures, with the total over all pages."""

    items: tuple[Procedure, ...]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """How many pages the total fills (at least one, even when empty)."""
        return max(1, ceil(self.total / self.page_size))

    @property
    def has_next(self) -> bool:
        """Whether a later page holds more results."""
        return self.page < self.pages


class ServiceCatalogFileError(ReasonedError):
    """A data file of the service catalog is malformed: loading stops and names the entry."""

    code = "invalid_service_catalog"
    message = N_(
        "The service catalog file {file} is not valid at {entry}: {reason} "
        "Correct the entry and start again."
    )
    status_code = 500


class InvalidSearchError(ReasonedError):
    """A search parameter outside what the catalog knows."""

    code = "invalid_search"
    message = N_("The search is not valid: {reason} Please change the search and try again.")
    status_code = 400


class ProcedureNotFoundError(NotFoundError):
    """A procedure code that the municipality does not offer (or that does not exist)."""

    code = "procedure_not_found"
    message = N_(
        "The procedure {procedure} is not offered by the municipality {municipality}. "
        "Search the catalog for the procedures of your municipality."
    )


# Katakana ァ (U+30A1) .. ヶ (U+30F6) sit exactly 0x60 above their hiragana ぁ .. ゖ.
_KATAKANA_FIRST = 0x30A1
_KATAKANA_LAST = 0x30F6
_KANA_OFFSET = 0x60


def normalise(text: str) -> str:
    """Fold ``text`` so that the ways people type Japanese compare equal.

    NFKC (Unicode compatibility composition) turns full-width Latin letters and digits
    into ASCII, half-width katakana (ｼﾞﾄﾞｳ) into full-width with the voiced mark
    composed (ジドウ), and the ideographic space into a space. NFKC keeps katakana and
    hiragana apart, so a small fold maps katakana to hiragana (the blocks are 0x60
    apart) and じどう, ジドウ and ｼﾞﾄﾞｳ all become じどう. Case is folded and spaces
    removed last, so 保育 施設 matches 保育施設.
    """
    composed = unicodedata.normalize("NFKC", text)
    folded = "".join(
        chr(ord(ch) - _KANA_OFFSET) if _KATAKANA_FIRST <= ord(ch) <= _KATAKANA_LAST else ch
        for ch in composed
    )
    return "".join(folded.casefold().split())


def normalised_reading(text: str) -> str:
    """The reading of ``text`` (:func:`myna.catalog.readings.reading`), normalised.

    引越し, 引っ越し, 引越, ひっこし and ﾋｯｺｼ all become ひっこし; 転出 becomes てんしゅつ.
    """
    return normalise(reading(text))


def query_parts(query: str) -> list[str]:
    """The terms of ``query`` as typed, split on any (full- or half-width) space."""
    spaced = unicodedata.normalize("NFKC", query)
    return [part for part in spaced.split() if normalise(part)]


def search_text_of(
    name_ja: str, name_en: str, summary: str, keywords: Iterable[str], extra: Iterable[str]
) -> str:
    """The normalised text a procedure is searched in (names, summary, keywords)."""
    parts = [name_ja, name_en, summary, *keywords, *extra]
    return "\n".join(normalise(part) for part in parts)


def reading_text_of(
    name_ja: str, summary: str, keywords: Iterable[str], extra: Iterable[str]
) -> str:
    """The normalised reading of the Japanese texts a procedure is searched in."""
    parts = [name_ja, summary, *keywords, *extra]
    return "\n".join(normalised_reading(part) for part in parts)


def make_criteria(
    *,
    query: str | None,
    category: str | None,
    life_event: str | None,
    municipality_code: str | None,
    page: int,
    page_size: int,
) -> SearchCriteria:
    """Check the search parameters and turn them into :class:`SearchCriteria`."""
    text = query or ""
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidSearchError(
            reason=N_("the keywords must be at most {limit} characters."), limit=MAX_QUERY_LENGTH
        )
    if page < 1:
        raise InvalidSearchError(reason=N_("the page number must be 1 or more."))
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidSearchError(reason=N_("the page size must be between 1 and 100."))
    parts = query_parts(text)
    return SearchCriteria(
        terms=tuple(normalise(part) for part in parts),
        readings=tuple(normalised_reading(part) for part in parts),
        category=_choice(Category, category, N_("the category is not known.")),
        life_event=_choice(LifeEvent, life_event, N_("the life event is not known.")),
        municipality_code=municipality_code or None,
        page=page,
        page_size=page_size,
    )


def _choice(kind: type[_E], value: str | None, reason: str) -> _E | None:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise InvalidSearchError(reason=reason) from None


def matches(procedure: Procedure, criteria: SearchCriteria) -> bool:
    """Whether ``procedure`` passes every filter and contains every term."""
    if criteria.category is not None and procedure.category != criteria.category:
        return False
    if criteria.life_event is not None and criteria.life_event not in procedure.life_events:
        return False
    if criteria.municipality_code is not None and not procedure.offered_in(
        criteria.municipality_code
    ):
        return False
    return all(
        term in procedure.search_text or (bool(said) and said in procedure.reading_text)
        for term, said in criteria.term_pairs()
    )


def search(procedures: Sequence[Procedure], criteria: SearchCriteria) -> SearchPage:
    """The page of ``procedures`` matching ``criteria``, in a deterministic order.

    Procedures whose name contains every term as typed come first, then those whose
    name's reading holds every term's reading; within each group, the catalog order
    (category, then file order) decides, so the same search always pages the same way.
    """
    position = {procedure.code: index for index, procedure in enumerate(procedures)}
    pairs = criteria.term_pairs()

    def order(procedure: Procedure) -> tuple[int, int]:
        name = normalise(procedure.name_ja) + "\n" + normalise(procedure.name_en)
        if all(term in name for term, _ in pairs):
            return (0, position[procedure.code])
        said = procedure.name_reading
        in_reading = all(term in name or (r and r in said) for term, r in pairs)
        return (1 if in_reading else 2, position[procedure.code])

    found = sorted((p for p in procedures if matches(p, criteria)), key=order)
    start = (criteria.page - 1) * criteria.page_size
    return SearchPage(
        items=tuple(found[start : start + criteria.page_size]),
        total=len(found),
        page=criteria.page,
        page_size=criteria.page_size,
    )
