"""Pure rules of the agencies: who they are, what they hold, who may ask for what.

Nothing here reads a file or a database. The catalog (``catalog.py``) parses the data
files into these value objects; the replica store (``service.py``) and the network hub
use them.

* Agencies (機関): national bodies, every municipality (市区町村), health insurers
  (保険者) and the police license system, each with a stable ``code``.
* Categories and items: the groups of わたしの情報 on the deck's p5 (世帯, 地方税,
  健康・医療, 子育て, 福祉・介護, 雇用・年金) and the item schemas (特定個人情報の項目)
  with typed fields.
* Procedures (事務) and the authorization table, modelled on 番号法 別表第二 (since the
  2023 amendment, the tables of the 主務省令 under 第19条第8号): a requesting agency
  may ask a providing agency for an item only for a procedure the law lists.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from myna.platform import i18n
from myna.platform.errors import N_, MynaError, NotFoundError
from myna.platform.tomlfile import ReasonedError

# Dynamic agency codes: one municipality (市区町村), its National Health Insurance
# (国民健康保険) and each prefecture's late-stage elderly medical care union
# (後期高齢者医療広域連合).
MUNICIPALITY_PREFIX = "muni-"
KOKUHO_PREFIX = "kokuho-"
KOKI_PREFIX = "koki-"
PORTAL_AGENCY = "portal"
EVERY_ITEM = "*"

_MUNICIPAL_CODE = re.compile(r"[0-9]{6}")
_PREFECTURE_CODE = re.compile(r"(0[1-9]|[1-3][0-9]|4[0-7])")


class CatalogFileError(ReasonedError):
    """A data file of the catalog is malformed: start-up stops and names the entry."""

    code = "invalid_catalog_file"
    message = N_(
        "The data file {file} is not valid at {entry}: {reason} Correct the entry and start again."
    )
    status_code = 500


class UnknownAgencyError(NotFoundError):
    """An agency code that names no agency of the network."""

    code = "unknown_agency"
    message = N_("The agency {agency} is not known to the information provision network.")


class UnknownItemError(NotFoundError, code="unknown_item"):
    """An item code that names no item schema."""

    message = N_("The item {item} is not a known item of the information provision network.")


class ItemNotProvidedError(MynaError, code="item_not_provided", status_code=422):
    """An agency asked for (or given) an item it does not hold."""

    message = N_("The agency {agency} does not provide the item {item}.")


class InvalidPayloadError(ReasonedError, code="invalid_payload", status_code=422):
    """A record whose payload does not match its item schema."""

    message = N_("The record of the item {item} is not valid: the field {field} {reason}")


class NotAuthorizedError(ReasonedError, code="not_authorized", status_code=403):
    """The authorization table does not allow the request."""

    message = N_("The request is not allowed by the authorization table: {reason}")


class AgencyKind(StrEnum):
    """What sort of body an agency is."""

    NATIONAL = "national"
    MUNICIPALITY = "municipality"
    INSURER = "insurer"
    POLICE = "police"


@dataclass(frozen=True, slots=True)
class Agency:
    """An agency (機関) of the information provision network."""

    code: str
    name_ja: str
    name_en: str
    kind: AgencyKind


def agency_kind_of_dynamic_code(code: str) -> AgencyKind | None:
    """The kind of a generated agency code (``muni-``, ``kokuho-``, ``koki-``), else None."""
    if code.startswith(MUNICIPALITY_PREFIX):
        rest = code.removeprefix(MUNICIPALITY_PREFIX)
        return AgencyKind.MUNICIPALITY if _MUNICIPAL_CODE.fullmatch(rest) else None
    if code.startswith(KOKUHO_PREFIX):
        rest = code.removeprefix(KOKUHO_PREFIX)
        return AgencyKind.INSURER if _MUNICIPAL_CODE.fullmatch(rest) else None
    if code.startswith(KOKI_PREFIX):
        rest = code.removeprefix(KOKI_PREFIX)
        return AgencyKind.INSURER if _PREFECTURE_CODE.fullmatch(rest) else None
    return None


def served_area(code: str) -> tuple[str | None, str | None]:
    """The (municipality code, prefecture code) a generated agency code serves.

    ``muni-131016`` and ``kokuho-131016`` serve municipality 131016; ``koki-13`` serves
    prefecture 13; any other code serves no single area: ``(None, None)``.
    """
    if agency_kind_of_dynamic_code(code) is None:
        return None, None
    for prefix in (MUNICIPALITY_PREFIX, KOKUHO_PREFIX):
        if code.startswith(prefix):
            return code.removeprefix(prefix), None
    return None, code.removeprefix(KOKI_PREFIX)


def municipality_agency_code(municipality_code: str) -> str:
    """The agency code of a municipality: ``muni-131016``."""
    return f"{MUNICIPALITY_PREFIX}{municipality_code}"


def kokuho_agency_code(municipality_code: str) -> str:
    """The agency code of a municipality's National Health Insurance: ``kokuho-131016``."""
    return f"{KOKUHO_PREFIX}{municipality_code}"


def koki_agency_code(prefecture_code: str) -> str:
    """The agency code of a prefecture's 後期高齢者医療広域連合: ``koki-13``."""
    return f"{KOKI_PREFIX}{prefecture_code}"


# -- categories and items ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Category:
    """A section of わたしの情報 (deck p5), such as 世帯 or 子育て; ``order`` as in the deck."""

    code: str
    name_ja: str
    name_en: str
    order: int


class FieldType(StrEnum):
    """How a payload field is written in JSON."""

    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"  # ISO 8601 calendar date, "YYYY-MM-DD"
    CHOICE = "choice"  # one of ``choices``
    LIST = "list"  # a list of strings (or of ``choices`` when given)
    DECIMAL = "decimal"  # a JSON number, whole or not (a measurement: 172.4 cm, BMI 23.1)


# Units that make an integer a year (2026年度, 2025年, 2025年分): a year is written without
# a thousands separator, never 2,026年度.
YEAR_UNITS = frozenset({"年", "年度", "年分"})


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of an item's payload, with its Japanese label and unit."""

    name: str
    type: FieldType
    label_ja: str
    label_en: str
    unit: str = ""
    required: bool = True
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    places: int | None = None  # decimals shown for a ``decimal`` field (None: as stored)

    @property
    def is_year(self) -> bool:
        """Whether the field is an integer year (unit 年 or 年度, or a name like ``*_year``)."""
        named = self.name == "year" or self.name.endswith("_year")
        return self.type is FieldType.INTEGER and (self.unit in YEAR_UNITS or named)


def display_integer(value: int, spec: FieldSpec) -> str:
    """An integer value as people read it, without its unit: 3,800,000, but a year 2026."""
    return str(value) if spec.is_year else f"{value:,}"


def display_decimal(value: float, spec: FieldSpec) -> str:
    """A decimal value as people read it, without its unit: 172.4, 5.6 (``places`` kept)."""
    if spec.places is not None:
        return f"{value:,.{spec.places}f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:,g}"


# The largest magnitude a ``decimal`` field takes: beyond it a float loses whole units.
MAX_DECIMAL = 1e15


@dataclass(frozen=True, slots=True)
class AgencySelector:
    """Every agency of a kind, or one named agency."""

    kind: AgencyKind | None = None
    agency: str | None = None

    def matches(self, agency: Agency) -> bool:
        """Whether ``agency`` is one of those selected."""
        if self.agency is not None:
            return agency.code == self.agency
        return agency.kind == self.kind

    def __str__(self) -> str:
        return f"kind:{self.kind}" if self.agency is None else f"agency:{self.agency}"


@dataclass(frozen=True, slots=True)
class ProviderSpec(AgencySelector):
    """Which agencies provide an item: every agency of a kind, or one named agency."""


@dataclass(frozen=True, slots=True)
class ItemSchema:
    """An item (特定個人情報の項目) an agency holds in its replica store (副本)."""

    code: str
    name_ja: str
    name_en: str
    category: str
    provider: ProviderSpec
    fields: tuple[FieldSpec, ...]
    multiple: bool = False  # several records per person (e.g. one per vaccination)
    # Kept by its holder for its own work (e.g. the eligibility service's index): not a
    # record of わたしの情報, and a rule for every item ("*") does not cover it.
    internal: bool = False

    def field(self, name: str) -> FieldSpec | None:
        """The field called ``name``, if any."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        return None


_PROBLEM_MISSING = N_("is missing.")
_PROBLEM_UNKNOWN = N_("is not part of this item.")
_PROBLEM_STRING = N_("must be text.")
_PROBLEM_INTEGER = N_("must be a whole number.")
_PROBLEM_DECIMAL = N_("must be a number.")
_PROBLEM_BOOLEAN = N_("must be true or false.")
_PROBLEM_DATE = N_("must be a date written YYYY-MM-DD.")
_PROBLEM_CHOICE = N_("must be one of: {choices}.")
_PROBLEM_LIST = N_("must be a list of texts.")
_PROBLEM_RANGE = N_("must be between {minimum} and {maximum}.")
_PROBLEM_AT_LEAST = N_("must be {minimum} or more.")
_PROBLEM_AT_MOST = N_("must be {maximum} or less.")
_PROBLEM_NOT_OBJECT = N_("is not a JSON object (the payload itself).")


def _invalid(item: ItemSchema, field_name: str, reason: str, **params: Any) -> InvalidPayloadError:
    return InvalidPayloadError(item=item.code, field=field_name, reason=reason, **params)


def _check_range(item: ItemSchema, spec: FieldSpec, value: float) -> None:
    low, high = spec.minimum, spec.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            raise _invalid(item, spec.name, _PROBLEM_AT_LEAST, minimum=low)
        if low is None:
            raise _invalid(item, spec.name, _PROBLEM_AT_MOST, maximum=high)
        raise _invalid(item, spec.name, _PROBLEM_RANGE, minimum=low, maximum=high)


def _check_value(item: ItemSchema, spec: FieldSpec, value: Any) -> Any:  # noqa: PLR0911, PLR0912 - one branch per type
    if spec.type is FieldType.STRING:
        if not isinstance(value, str) or not value:
            raise _invalid(item, spec.name, _PROBLEM_STRING)
        return value
    if spec.type is FieldType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(item, spec.name, _PROBLEM_INTEGER)
        _check_range(item, spec, value)
        return value
    if spec.type is FieldType.DECIMAL:
        # JSON has no NaN or infinity, and a huge number is a typing slip, not a measure.
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(item, spec.name, _PROBLEM_DECIMAL)
        if not math.isfinite(value) or abs(value) > MAX_DECIMAL:
            raise _invalid(item, spec.name, _PROBLEM_DECIMAL)
        _check_range(item, spec, value)
        return value
    if spec.type is FieldType.BOOLEAN:
        if not isinstance(value, bool):
            raise _invalid(item, spec.name, _PROBLEM_BOOLEAN)
        return value
    if spec.type is FieldType.DATE:
        if isinstance(value, date):
            return value.isoformat()
        if not isinstance(value, str) or len(value) != 10:
            raise _invalid(item, spec.name, _PROBLEM_DATE)
        try:
            date.fromisoformat(value)
        except ValueError:
            raise _invalid(item, spec.name, _PROBLEM_DATE) from None
        return value
    if spec.type is FieldType.CHOICE:
        if value not in spec.choices:
            raise _invalid(item, spec.name, _PROBLEM_CHOICE, choices="、".join(spec.choices))
        return value
    # FieldType.LIST
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise _invalid(item, spec.name, _PROBLEM_LIST)
    if spec.choices and any(v not in spec.choices for v in value):
        raise _invalid(item, spec.name, _PROBLEM_CHOICE, choices="、".join(spec.choices))
    return list(value)


def validate_payload(item: ItemSchema, payload: Mapping[str, Any]) -> dict[str, Any]:
    """``payload`` checked against ``item``'s fields and normalised (dates as ISO text).

    Unknown fields, missing required fields and values of the wrong type are refused
    with :class:`InvalidPayloadError` naming the field; optional fields may be absent
    or ``None`` (then left out).
    """
    if not isinstance(payload, Mapping):
        raise _invalid(item, "-", _PROBLEM_NOT_OBJECT)
    for name in payload:
        if item.field(name) is None:
            raise _invalid(item, str(name), _PROBLEM_UNKNOWN)
    result: dict[str, Any] = {}
    for spec in item.fields:
        value = payload.get(spec.name)
        if value is None:
            if spec.required:
                raise _invalid(item, spec.name, _PROBLEM_MISSING)
            continue
        result[spec.name] = _check_value(item, spec, value)
    return result


# -- procedures and the authorization table -----------------------------------------------


@dataclass(frozen=True, slots=True)
class Procedure:
    """A procedure (事務) of 番号法 別表 for which agencies exchange information."""

    code: str
    name_ja: str
    name_en: str
    law_row: str  # the 別表 row it models, in the law's words
    law: str  # the statute the procedure is carried out under


@dataclass(frozen=True, slots=True)
class Requester(AgencySelector):
    """Who a rule lets ask: every agency of a kind, or one named agency."""


@dataclass(frozen=True, slots=True)
class AuthorizationRule:
    """One row of the table: ``requester`` may ask ``item`` from ``provider`` for ``procedure``.

    ``self_only`` rows (自己情報開示) allow asking about the logged-in resident only; the
    hub enforces that the subject is the person who asks.
    """

    requester: Requester
    procedure: str
    item: str  # an item code, or EVERY_ITEM
    provider: ProviderSpec | None  # None: whoever provides the item
    self_only: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """The table's answer: allowed or not, and why (a message id with its fields)."""

    allowed: bool
    reason: str
    params: Mapping[str, str] = field(default_factory=dict)
    rule: AuthorizationRule | None = None

    @property
    def self_only(self) -> bool:
        """Whether the request may only be about the requester's own person."""
        return self.rule is not None and self.rule.self_only

    def explain(self) -> str:
        """The reason in the locale in force."""
        return i18n.gettext(self.reason).format(**self.params)


REASON_ALLOWED = N_("Allowed for the procedure {procedure}.")
REASON_UNKNOWN_REQUESTER = N_("The agency {requester} is not known to the network.")
REASON_UNKNOWN_PROCEDURE = N_("The procedure {procedure} is not in the authorization table.")
REASON_UNKNOWN_ITEM = N_("The item {item} is not a known item.")
REASON_NOT_REQUESTER = N_("The agency {requester} does not carry out the procedure {procedure}.")
REASON_ITEM_NOT_LISTED = N_(
    "The procedure {procedure} does not allow {requester} to ask for the item {item}."
)


class AuthorizationTable:
    """The law's table (番号法 別表第二 model) as rules, with a reason for every answer."""

    def __init__(
        self,
        rules: Iterable[AuthorizationRule],
        *,
        procedures: Mapping[str, Procedure],
        items: Mapping[str, ItemSchema],
        resolve_agency: Callable[[str], Agency | None],
    ) -> None:
        self.rules: tuple[AuthorizationRule, ...] = tuple(rules)
        self._procedures = procedures
        self._items = items
        self._resolve = resolve_agency

    def check(self, requester: Agency | str, procedure: str, item: str) -> Decision:
        """Whether ``requester`` may ask for ``item`` under ``procedure``, and why."""
        agency = self._resolve(requester) if isinstance(requester, str) else requester
        code = requester if isinstance(requester, str) else requester.code
        params = {"requester": code, "procedure": procedure, "item": item}
        if agency is None:
            return Decision(False, REASON_UNKNOWN_REQUESTER, params)
        if procedure not in self._procedures:
            return Decision(False, REASON_UNKNOWN_PROCEDURE, params)
        if item not in self._items:
            return Decision(False, REASON_UNKNOWN_ITEM, params)
        mine = [r for r in self.rules if r.procedure == procedure and r.requester.matches(agency)]
        if not mine:
            return Decision(False, REASON_NOT_REQUESTER, params)
        internal = self._items[item].internal
        for rule in mine:
            if rule.item == item or (rule.item == EVERY_ITEM and not internal):
                return Decision(True, REASON_ALLOWED, params, rule)
        return Decision(False, REASON_ITEM_NOT_LISTED, params)

    def allows(self, requester: Agency | str, procedure: str, item: str) -> bool:
        """Whether the table allows the request (see :meth:`check` for the reason)."""
        return self.check(requester, procedure, item).allowed

    def require(self, requester: Agency | str, procedure: str, item: str) -> AuthorizationRule:
        """The rule allowing the request, or :class:`NotAuthorizedError` with the reason."""
        decision = self.check(requester, procedure, item)
        if decision.rule is None or not decision.allowed:
            raise NotAuthorizedError(reason=decision.reason, **decision.params)
        return decision.rule

    def items_for(self, requester: Agency | str, procedure: str) -> frozenset[str]:
        """Every item ``requester`` may ask for under ``procedure``."""
        return frozenset(code for code in self._items if self.allows(requester, procedure, code))

    def procedures_of(self, requester: Agency | str) -> frozenset[str]:
        """The procedures for which ``requester`` appears in the table."""
        agency = self._resolve(requester) if isinstance(requester, str) else requester
        if agency is None:
            return frozenset()
        return frozenset(r.procedure for r in self.rules if r.requester.matches(agency))


_MAX_FIELD_TEXT = 200


def value_from_text(item: ItemSchema, spec: FieldSpec, text: str) -> Any:
    """A field's value as a person types it (a clerk correcting a record), checked.

    Whole numbers may carry thousands separators; yes/no as はい・いいえ or true/false;
    lists separated by 、 or commas; dates as YYYY-MM-DD. Anything else is refused
    with :class:`InvalidPayloadError` naming the field.
    """
    text = text.strip()
    if not text or len(text) > _MAX_FIELD_TEXT:
        raise _invalid(item, spec.name, _PROBLEM_MISSING)
    value: Any = text
    if spec.type is FieldType.INTEGER:
        digits = text.replace(",", "").replace("，", "")
        if not digits.lstrip("-").isdigit() or len(digits) > 15:
            raise _invalid(item, spec.name, _PROBLEM_INTEGER)
        value = int(digits)
    elif spec.type is FieldType.DECIMAL:
        number = text.replace(",", "").replace("，", "")
        if not re.fullmatch(r"-?[0-9]{1,15}(\.[0-9]{1,6})?", number):
            raise _invalid(item, spec.name, _PROBLEM_DECIMAL)
        value = float(number) if "." in number else int(number)
    elif spec.type is FieldType.BOOLEAN:
        answers = {"はい": True, "true": True, "いいえ": False, "false": False}
        if text.lower() not in answers:
            raise _invalid(item, spec.name, _PROBLEM_BOOLEAN)
        value = answers[text.lower()]
    elif spec.type is FieldType.LIST:
        value = [part.strip() for part in re.split(r"[、,，]", text) if part.strip()]
    return _check_value(item, spec, value)
