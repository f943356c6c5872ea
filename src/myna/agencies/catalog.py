"""The catalog: agencies, categories, items, procedures and the authorization table.

Read from the TOML files in ``data/`` (stdlib :mod:`tomllib`) and checked entry by
entry at start-up: a malformed entry stops the load with :class:`CatalogFileError`
naming the file and the entry, so a broken table never serves a single request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from myna.agencies.domain import (
    EVERY_ITEM,
    Agency,
    AgencyKind,
    AgencySelector,
    AuthorizationRule,
    AuthorizationTable,
    CatalogFileError,
    Category,
    FieldSpec,
    FieldType,
    ItemSchema,
    Procedure,
    ProviderSpec,
    Requester,
    UnknownItemError,
    agency_kind_of_dynamic_code,
)
from myna.platform import tomlfile
from myna.platform.errors import N_

AGENCIES_FILE = "agencies.toml"
ITEMS_FILE = "items.toml"
AUTHORIZATION_FILE = "authorization.toml"
DATA_FILES = (AGENCIES_FILE, ITEMS_FILE, AUTHORIZATION_FILE)

_MISSING_FILE = N_("the file is missing.")
_NOT_INT = N_("the key {key} must be a whole number.")
_NOT_NUMBER = N_("the key {key} must be a number.")
_NOT_LIST = N_("the key {key} must be a list.")
_NOT_TABLE = N_("the key {key} must be a table.")
_NO_SUCH = N_("the {key} {value} does not exist.")
_KIND_OR_AGENCY = N_("give either kind or agency (exactly one of them).")
_PROVIDER_MISMATCH = N_("the provider must be the item's own provider ({expected}).")
_CHOICES_NEEDED = N_("a field of type choice needs a list of choices.")
_NOTHING_DEFINED = N_("the file defines no {key}.")


@dataclass(frozen=True, slots=True)
class Catalog:
    """Everything the network knows statically, loaded once and never changed."""

    agencies: Mapping[str, Agency]  # the national ones; municipal ones come from the registry
    categories: Mapping[str, Category]
    items: Mapping[str, ItemSchema]
    procedures: Mapping[str, Procedure]
    authorization: AuthorizationTable
    updates: tuple[UpdateRule, ...] = ()

    def item(self, code: str) -> ItemSchema:
        """The item schema ``code``, or :class:`UnknownItemError`."""
        found = self.items.get(code)
        if found is None:
            raise UnknownItemError(item=code)
        return found

    def items_in(self, category: str) -> list[ItemSchema]:
        """The items of ``category`` a person is shown, in file order (not internal ones)."""
        return [
            item for item in self.items.values() if item.category == category and not item.internal
        ]

    def kind_of(self, code: str) -> AgencyKind | None:
        """The kind of the agency ``code`` (static or generated), None if unknown."""
        agency = self.agencies.get(code)
        return agency.kind if agency is not None else agency_kind_of_dynamic_code(code)

    def resolve(self, code: str) -> Agency | None:
        """An :class:`Agency` for ``code``: the listed one, or one with its code as name."""
        return _resolve(self.agencies, code)

    def provides(self, agency: Agency | str, item: str) -> bool:
        """Whether ``agency`` is one of the providers of ``item``."""
        resolved = self.resolve(agency) if isinstance(agency, str) else agency
        schema = self.items.get(item)
        return resolved is not None and schema is not None and schema.provider.matches(resolved)

    def knows(self, agency: str) -> bool:
        """Whether ``agency`` is a code of the network (listed or generated)."""
        return self.kind_of(agency) is not None

    def allows(self, requester: str, procedure: str, item: str) -> bool:
        """Whether the authorization table allows the request (別表)."""
        return self.authorization.allows(requester, procedure, item)

    def may_update(self, publisher: str, owner: str, procedure: str, item: str) -> bool:
        """Whether ``publisher`` may write ``item`` into ``owner``'s store (the update table).

        The owner must provide the item; an item every agency of a kind provides (a
        municipality's records) is written only by that agency itself.
        """
        agency, target = self.resolve(publisher), self.resolve(owner)
        schema = self.items.get(item)
        if agency is None or target is None or schema is None:
            return False
        if not schema.provider.matches(target):
            return False
        if schema.provider.agency is None and owner != publisher:
            return False
        return any(
            rule.procedure == procedure and rule.item == item and rule.publisher.matches(agency)
            for rule in self.updates
        )

    def category_of(self, item: str) -> str:
        """The category (わたしの情報 section) of ``item``."""
        return self.item(item).category

    def items_provided_by(self, agency: Agency | str) -> list[ItemSchema]:
        """The items ``agency`` holds in its replica store."""
        return [item for item in self.items.values() if self.provides(agency, item.code)]


def _resolve(agencies: Mapping[str, Agency], code: str) -> Agency | None:
    agency = agencies.get(code)
    if agency is not None:
        return agency
    kind = agency_kind_of_dynamic_code(code)
    return None if kind is None else Agency(code=code, name_ja=code, name_en=code, kind=kind)


class _Entry(tomlfile.TomlEntry):
    """One TOML table being read, for error messages that name it."""

    error_type = CatalogFileError
    not_a_table = _NOT_TABLE

    def __init__(self, file: str, entry: str, table: Any, allowed: Iterable[str]) -> None:
        super().__init__(file, entry, table, frozenset(allowed))

    def named(self, code: str) -> str:
        """``[[item]] #3`` becomes ``[[item]] "code"``; a single table keeps its name."""
        if " #" not in self.entry:
            return self.entry
        return f'{self.entry.split(" #", maxsplit=1)[0]} "{code}"'

    def text(self, key: str, *, required: bool = True, default: str = "") -> str:
        value = self.required(key, required=required)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.error(tomlfile.NOT_TEXT, key=key)
        return value

    def boolean(self, key: str, *, default: bool = False) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.error(tomlfile.NOT_BOOL, key=key)
        return value

    def integer(self, key: str) -> int | None:
        value = self.table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(_NOT_INT, key=key)
        return value

    def number(self, key: str) -> float | None:
        value = self.table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(_NOT_NUMBER, key=key)
        return value

    def texts(self, key: str, *, required: bool = True) -> tuple[str, ...]:
        value = self.required(key, required=required)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(_NOT_LIST, key=key)
        return tuple(value)

    def choice(self, key: str, choices: Iterable[str]) -> str:
        value = self.text(key)
        options = list(choices)
        if value not in options:
            raise self.error(tomlfile.NOT_ONE_OF, value=value, choices=", ".join(options))
        return value

    def tables(self, key: str) -> list[Any]:
        value = self.required(key)
        if not isinstance(value, list):
            raise self.error(_NOT_LIST, key=key)
        return value


def _read(file: str, text: str) -> dict[str, Any]:
    return tomlfile.read_toml(file, text, CatalogFileError)


def _entries(file: str, document: Mapping[str, Any], key: str) -> list[Any]:
    value = document.get(key)
    if value is None:
        raise CatalogFileError(file=file, entry=f"[[{key}]]", reason=_NOTHING_DEFINED, key=key)
    if not isinstance(value, list):
        raise CatalogFileError(file=file, entry=f"[[{key}]]", reason=_NOT_LIST, key=key)
    return value


def _each(
    file: str, document: Mapping[str, Any], table: str, keys: tuple[str, ...]
) -> Iterator[tuple[int, _Entry]]:
    """The ``[[table]]`` entries, numbered from 1 and named by their number for errors."""
    for index, raw in enumerate(_entries(file, document, table), start=1):
        yield index, _Entry(file, f"[[{table}]] #{index}", raw, keys)


def _known(entry: _Entry, key: str, defined: Mapping[str, object]) -> str:
    """The text at ``key``, which must name something ``defined`` earlier."""
    value = entry.text(key)
    if value not in defined:
        raise entry.error(_NO_SUCH, key=key, value=value)
    return value


def _unique(entry: _Entry, code: str, seen: Mapping[str, object]) -> str:
    if code in seen:
        raise entry.error(tomlfile.DUPLICATE, value=code)
    return code


def _parse_agencies(text: str) -> dict[str, Agency]:
    document = _read(AGENCIES_FILE, text)
    agencies: dict[str, Agency] = {}
    keys = ("code", "name_ja", "name_en", "kind")
    for _, entry in _each(AGENCIES_FILE, document, "agency", keys):
        code = entry.text("code")
        entry.entry = f'[[agency]] "{code}"'
        _unique(entry, code, agencies)
        if agency_kind_of_dynamic_code(code) is not None:
            raise entry.error(tomlfile.DUPLICATE, value=code)
        agencies[code] = Agency(
            code=code,
            name_ja=entry.text("name_ja"),
            name_en=entry.text("name_en"),
            kind=AgencyKind(entry.choice("kind", [k.value for k in AgencyKind])),
        )
    return agencies


_Selector = TypeVar("_Selector", bound=AgencySelector)


def _party(
    entry: _Entry, key: str, agencies: Mapping[str, Agency], selector: type[_Selector]
) -> _Selector:
    """The ``{kind = ...}`` or ``{agency = ...}`` table at ``key`` (exactly one of them)."""
    inner = _Entry(entry.file, f"{entry.entry} {key}", entry.table.get(key), ("kind", "agency"))
    kind = inner.text("kind", required=False) or None
    agency = inner.text("agency", required=False) or None
    if (kind is None) == (agency is None):
        raise inner.error(_KIND_OR_AGENCY)
    if kind is not None:
        inner.choice("kind", [k.value for k in AgencyKind])
    if agency is not None and agency not in agencies:
        raise inner.error(_NO_SUCH, key="agency", value=agency)
    return selector(kind=AgencyKind(kind) if kind else None, agency=agency)


def _parse_field(item_entry: _Entry, index: int, raw: Any) -> FieldSpec:
    entry = _Entry(
        item_entry.file,
        f"{item_entry.entry} fields[{index}]",
        raw,
        (
            "name",
            "type",
            "label_ja",
            "label_en",
            "unit",
            "required",
            "choices",
            "minimum",
            "maximum",
            "places",
        ),
    )
    name = entry.text("name")
    entry.entry = f'{item_entry.entry} field "{name}"'
    field_type = FieldType(entry.choice("type", [t.value for t in FieldType]))
    choices = entry.texts("choices", required=False)
    if field_type is FieldType.CHOICE and not choices:
        raise entry.error(_CHOICES_NEEDED)
    decimal = field_type is FieldType.DECIMAL
    bound = entry.number if decimal else entry.integer
    return FieldSpec(
        name=name,
        type=field_type,
        label_ja=entry.text("label_ja"),
        label_en=entry.text("label_en"),
        unit=entry.text("unit", required=False),
        required=entry.boolean("required", default=True),
        choices=choices,
        minimum=bound("minimum"),
        maximum=bound("maximum"),
        places=entry.integer("places") if decimal else None,
    )


def _parse_items(
    text: str, agencies: Mapping[str, Agency]
) -> tuple[dict[str, Category], dict[str, ItemSchema]]:
    document = _read(ITEMS_FILE, text)
    categories: dict[str, Category] = {}
    for index, entry in _each(ITEMS_FILE, document, "category", ("code", "name_ja", "name_en")):
        code = _unique(entry, entry.text("code"), categories)
        categories[code] = Category(
            code=code, name_ja=entry.text("name_ja"), name_en=entry.text("name_en"), order=index
        )
    items: dict[str, ItemSchema] = {}
    allowed = (
        "code",
        "name_ja",
        "name_en",
        "category",
        "provider",
        "multiple",
        "internal",
        "fields",
    )
    for _, entry in _each(ITEMS_FILE, document, "item", allowed):
        code = entry.text("code")
        entry.entry = f'[[item]] "{code}"'
        _unique(entry, code, items)
        if code == EVERY_ITEM:
            raise entry.error(tomlfile.NOT_TEXT, key="code")
        category = _known(entry, "category", categories)
        provider = _party(entry, "provider", agencies, ProviderSpec)
        fields = tuple(
            _parse_field(entry, i, f) for i, f in enumerate(entry.tables("fields"), start=1)
        )
        names = [f.name for f in fields]
        for name in names:
            if names.count(name) > 1:
                raise entry.error(tomlfile.DUPLICATE, value=name)
        items[code] = ItemSchema(
            code=code,
            name_ja=entry.text("name_ja"),
            name_en=entry.text("name_en"),
            category=category,
            provider=provider,
            fields=fields,
            multiple=entry.boolean("multiple"),
            internal=entry.boolean("internal"),
        )
    return categories, items


@dataclass(frozen=True, slots=True)
class UpdateRule:
    """One row of the update table: ``publisher`` may write ``item`` under ``procedure``."""

    publisher: Requester
    procedure: str
    item: str


def _parse_updates(
    document: Mapping[str, Any],
    agencies: Mapping[str, Agency],
    items: Mapping[str, ItemSchema],
    procedures: Mapping[str, Procedure],
) -> tuple[UpdateRule, ...]:
    rules: list[UpdateRule] = []
    keys = ("publisher", "procedure", "items")
    for _, entry in _each(AUTHORIZATION_FILE, document, "update", keys):
        procedure = _known(entry, "procedure", procedures)
        publisher = _party(entry, "publisher", agencies, Requester)
        for code in entry.texts("items"):
            if code not in items:
                raise entry.error(_NO_SUCH, key="item", value=code)
            rules.append(UpdateRule(publisher, procedure, code))
    return tuple(rules)


def _parse_authorization(
    text: str, agencies: Mapping[str, Agency], items: Mapping[str, ItemSchema]
) -> tuple[dict[str, Procedure], list[AuthorizationRule], tuple[UpdateRule, ...]]:
    document = _read(AUTHORIZATION_FILE, text)
    procedures: dict[str, Procedure] = {}
    keys = ("code", "name_ja", "name_en", "law_row", "law")
    for _, entry in _each(AUTHORIZATION_FILE, document, "procedure", keys):
        code = entry.text("code")
        entry.entry = f'[[procedure]] "{code}"'
        _unique(entry, code, procedures)
        procedures[code] = Procedure(
            code=code,
            name_ja=entry.text("name_ja"),
            name_en=entry.text("name_en"),
            law_row=entry.text("law_row"),
            law=entry.text("law"),
        )
    rules: list[AuthorizationRule] = []
    keys = ("requester", "procedure", "items", "provider", "self_only")
    for _, entry in _each(AUTHORIZATION_FILE, document, "rule", keys):
        procedure = _known(entry, "procedure", procedures)
        requester = _party(entry, "requester", agencies, Requester)
        provider: ProviderSpec | None = None
        if "provider" in entry.table:
            provider = _party(entry, "provider", agencies, ProviderSpec)
        self_only = entry.boolean("self_only")
        for code in entry.texts("items"):
            if code != EVERY_ITEM and code not in items:
                raise entry.error(_NO_SUCH, key="item", value=code)
            if provider is not None and code != EVERY_ITEM and items[code].provider != provider:
                raise entry.error(_PROVIDER_MISMATCH, expected=str(items[code].provider))
            rules.append(AuthorizationRule(requester, procedure, code, provider, self_only))
    return procedures, rules, _parse_updates(document, agencies, items, procedures)


def parse_catalog(texts: Mapping[str, str]) -> Catalog:
    """A catalog from the text of the three data files, keyed by file name."""
    agencies = _parse_agencies(texts[AGENCIES_FILE])
    categories, items = _parse_items(texts[ITEMS_FILE], agencies)
    procedures, rules, updates = _parse_authorization(texts[AUTHORIZATION_FILE], agencies, items)

    table = AuthorizationTable(
        rules,
        procedures=procedures,
        items=items,
        resolve_agency=lambda code: _resolve(agencies, code),
    )
    return Catalog(
        agencies=agencies,
        categories=categories,
        items=items,
        procedures=procedures,
        authorization=table,
        updates=updates,
    )


def _read_texts(directory: Path | None) -> dict[str, str]:
    texts: dict[str, str] = {}
    for name in DATA_FILES:
        if directory is None:
            texts[name] = resources.files("myna.agencies").joinpath("data", name).read_text("utf-8")
            continue
        path = directory / name
        if not path.is_file():
            raise CatalogFileError(file=str(path), entry="-", reason=_MISSING_FILE)
        texts[name] = path.read_text("utf-8")
    return texts


@cache
def load_catalog(directory: Path | None = None) -> Catalog:
    """The catalog from ``directory`` (default: the shipped ``data/``), loaded once."""
    return parse_catalog(_read_texts(directory))
