"""The procedure catalog, read from ``data/*.toml`` and checked entry by entry at load.

A malformed entry stops the load with :class:`ServiceCatalogFileError` naming the file
and the entry (``[[procedure]] #3 "code"``), so a broken catalog never serves a search.
The format is described in docs/services.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from myna.catalog.domain import (
    CATEGORY_LABELS,
    LIFE_EVENT_LABELS,
    Category,
    LifeEvent,
    Procedure,
    ServiceCatalogFileError,
    normalised_reading,
    reading_text_of,
    search_text_of,
)
from myna.platform import tomlfile
from myna.platform.errors import N_
from myna.registry import InvalidMunicipalityCodeError, validate_municipality_code

_ALLOWED = frozenset(
    {
        "code",
        "name_ja",
        "name_en",
        "category",
        "life_events",
        "summary",
        "eligibility",
        "documents",
        "signature_required",
        "online",
        "department",
        "keywords",
        "municipalities",
        "priority",
    }
)
_NO_PROCEDURES = N_("the file must hold a list of [[procedure]] tables.")
_NOT_TEXTS = N_("the key {key} must be a list of non-empty texts.")
_BAD_MUNICIPALITY = N_("the municipality code {value} is not a valid local government code.")
_EMPTY_LIST = N_("the key {key} needs at least one entry.")


@dataclass(frozen=True, slots=True)
class ServiceCatalog:
    """Every procedure, in catalog order (file order within each category)."""

    procedures: tuple[Procedure, ...]

    def get(self, code: str) -> Procedure | None:
        """The procedure ``code``, or None."""
        return next((p for p in self.procedures if p.code == code), None)


class _Entry(tomlfile.TomlEntry):
    """One ``[[procedure]]`` table being read, for errors that name it."""

    error_type = ServiceCatalogFileError
    not_a_table = _NO_PROCEDURES

    def __init__(self, file: str, index: int, table: Any) -> None:
        super().__init__(file, f"[[procedure]] #{index}", table, _ALLOWED)

    def named(self, code: str) -> str:
        return f'{self.entry} "{code}"'

    def text(self, key: str) -> str:
        value = self.required(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(tomlfile.NOT_TEXT, key=key)
        return value.strip()

    def boolean(self, key: str, *, required: bool) -> bool:
        value = self.required(key, required=required)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.error(tomlfile.NOT_BOOL, key=key)
        return value

    def texts(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        value = self.required(key, required=required)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(_NOT_TEXTS, key=key)
        return tuple(v.strip() for v in value)

    def category(self) -> Category:
        value = self.text("category")
        try:
            return Category(value)
        except ValueError:
            raise self.error(
                tomlfile.NOT_ONE_OF, value=value, choices=", ".join(Category)
            ) from None

    def life_events(self) -> tuple[LifeEvent, ...]:
        values = self.texts("life_events")
        if not values:
            raise self.error(_EMPTY_LIST, key="life_events")
        for value in values:
            if value not in LifeEvent.__members__.values():
                raise self.error(tomlfile.NOT_ONE_OF, value=value, choices=", ".join(LifeEvent))
        return tuple(LifeEvent(v) for v in values)

    def municipalities(self) -> tuple[str, ...] | None:
        if "municipalities" not in self.table:
            return None
        codes = self.texts("municipalities")
        if not codes:
            raise self.error(_EMPTY_LIST, key="municipalities")
        checked = []
        for code in codes:
            try:
                checked.append(validate_municipality_code(code))
            except InvalidMunicipalityCodeError:
                raise self.error(_BAD_MUNICIPALITY, value=code) from None
        return tuple(sorted(set(checked)))


def parse_procedures(file: str, text: str) -> list[Procedure]:
    """The procedures of one catalog file, each entry checked."""
    data = tomlfile.read_toml(file, text, ServiceCatalogFileError)
    tables = data.get("procedure")
    if not isinstance(tables, list) or set(data) != {"procedure"}:
        raise ServiceCatalogFileError(file=file, entry="-", reason=_NO_PROCEDURES)
    return [_procedure(_Entry(file, index, table)) for index, table in enumerate(tables, 1)]


def _procedure(entry: _Entry) -> Procedure:
    name_ja = entry.text("name_ja")
    name_en = entry.text("name_en")
    summary = entry.text("summary")
    keywords = entry.texts("keywords", required=False)
    category = entry.category()
    life_events = entry.life_events()
    department = entry.text("department")
    labels = [CATEGORY_LABELS[category], *(LIFE_EVENT_LABELS[e] for e in life_events)]
    return Procedure(
        code=entry.text("code"),
        name_ja=name_ja,
        name_en=name_en,
        category=category,
        life_events=life_events,
        summary=summary,
        eligibility=entry.text("eligibility"),
        documents=entry.texts("documents"),
        signature_required=entry.boolean("signature_required", required=True),
        online=entry.boolean("online", required=True),
        department=department,
        keywords=keywords,
        municipalities=entry.municipalities(),
        priority=entry.boolean("priority", required=False),
        search_text=search_text_of(name_ja, name_en, summary, keywords, [department, *labels]),
        reading_text=reading_text_of(name_ja, summary, keywords, [department]),
        name_reading=normalised_reading(name_ja),
    )


def build_catalog(files: Mapping[str, str]) -> ServiceCatalog:
    """A catalog from ``{file name: TOML text}``; codes must be unique across files."""
    procedures: list[Procedure] = []
    seen: dict[str, str] = {}
    for file in sorted(files):
        for index, procedure in enumerate(parse_procedures(file, files[file]), 1):
            if procedure.code in seen:
                raise ServiceCatalogFileError(
                    file=file,
                    entry=f'[[procedure]] #{index} "{procedure.code}"',
                    reason=tomlfile.DUPLICATE,
                    value=procedure.code,
                )
            seen[procedure.code] = file
            procedures.append(procedure)
    rank = {category: position for position, category in enumerate(Category)}
    # Stable sort: file order survives within a category, whatever the file names.
    procedures.sort(key=lambda p: (rank[p.category], 0 if p.priority else 1))
    return ServiceCatalog(procedures=tuple(procedures))


@cache
def shipped_catalog() -> ServiceCatalog:
    """The catalog of the ``data/*.toml`` files shipped with the package (loaded once)."""
    data = resources.files("myna.catalog").joinpath("data")
    files = {
        item.name: item.read_text(encoding="utf-8")
        for item in data.iterdir()
        if item.name.endswith(".toml")
    }
    return build_catalog(files)
