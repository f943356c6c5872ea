"""E-application forms (電子申請の様式): the published definitions, with no server parts.

The server validates and renders them; the card reader shows what a resident signs with
them. Nothing here reads a database or knows the agencies (the server checks each
pre-fill's item against the agencies' catalog, :mod:`myna.applications.forms`).

Each online procedure's form is a JSON Schema (Draft 2020-12) plus a UI schema, in
``data/<procedure>.json``: ``ui.groups`` gives the fieldsets and the field order,
``ui.fields`` the widget (text, textarea, date, select, radio, checkbox), the Japanese
label, help and choices. Two widgets stand for reference data the server looks up:
``municipality`` (a 全国地方公共団体コード chosen by prefecture, then municipality, by name)
and ``postal_code`` (a 郵便番号 whose ``fills`` name the municipality field and the
address field a lookup fills in). The code is what is stored and signed; the names
people read come with the signed document as ``labels`` (see :func:`readable`). The
server validates with :mod:`jsonschema` and turns each error into a message naming the
field, so the page can show it next to that field.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from myna.platform.errors import N_, MynaError
from myna.platform.i18n import format_date
from myna.platform.i18n import gettext as _
from myna.platform.params import EARLIEST_DATE, LATEST_DATE, plausible_date

WIDGETS = frozenset(
    {"text", "textarea", "date", "select", "radio", "checkbox", "municipality", "postal_code"}
)
# What a postal-code lookup may fill: the municipality field and the address field.
FILLS = frozenset({"municipality", "address"})
MAX_VALUE_LENGTH = 2000
MAX_DIGITS = 9  # longer numbers stay text and fail the type rule on their field
CHECKED = frozenset({"on", "true", "1", "yes"})

_REQUIRED_TEXT = N_("Enter {label}.")
_REQUIRED_CHOICE = N_("Choose {label}.")
_MUST_CHECK = N_("Check 「{label}」 to continue.")
_TOO_LONG = N_("{label} must be at most {limit} characters.")
_TOO_SHORT = N_("{label} must be at least {limit} characters.")
_PATTERN = N_("{label} is not in the expected form ({hint}).")
_DATE = N_("Enter {label} as a date.")
_DATE_RANGE = N_("{label} must be a date from {earliest} to {latest}.")
_CONTROL = N_("{label} must not contain control characters.")
# Line breaks and tabs are text (a textarea has them); other control characters are not.
_ALLOWED_CONTROLS = frozenset("\t\n\r")
_INTEGER = N_("Enter {label} as a whole number in half-width digits.")
_MINIMUM = N_("{label} must be {limit} or more.")
_MAXIMUM = N_("{label} must be {limit} or less.")
_ENUM = N_("Choose {label} from the choices shown.")
_INVALID = N_("{label} is not valid. Please check it.")


class FormDefinitionError(MynaError):
    """A form file that is not a consistent JSON Schema plus UI schema (a build error)."""

    code = "form_definition"
    message = N_("The application form {procedure} is broken: {reason}")
    status_code = 500


@dataclass(frozen=True, slots=True)
class RequiredWhen:
    """A case in which an optional field must be filled in, in the words of the form.

    ``values`` are the labels of the trigger's choices that make the field required; an
    empty tuple means "whenever the trigger is filled in" (``dependentRequired``).
    """

    field: str
    label: str
    values: tuple[str, ...] = ()

    def text(self) -> str:
        """「申請者の保育を必要とする理由」が「就労」の場合は必須, in the reader's language."""
        if not self.values:
            return _("required if 「{field}」 is filled in").format(field=self.label)
        shown = _(" or ").join(f"「{v}」" for v in self.values)
        return _("required if 「{field}」 is {values}").format(field=self.label, values=shown)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One input of a form: its UI and whether the schema requires it."""

    name: str
    widget: str
    label: str
    required: bool
    help: str = ""
    hint: str = ""
    options: tuple[tuple[str, str], ...] = ()
    autocomplete: str = ""
    inputmode: str = ""
    max_length: int | None = None
    fills: tuple[tuple[str, str], ...] = ()
    # When an optional field becomes required (the schema's if/then, dependentRequired).
    required_when: tuple[RequiredWhen, ...] = ()

    def filled(self, what: str) -> str:
        """The field a postal-code lookup fills with ``what`` (municipality, address), or ""."""
        return dict(self.fills).get(what, "")

    @property
    def conditional(self) -> bool:
        """Whether the field is optional only in some cases (its label says which)."""
        return not self.required and bool(self.required_when)

    def condition(self) -> str:
        """The cases in which the field is required, joined, or "" for a plain field."""
        return _("; ").join(c.text() for c in self.required_when)


@dataclass(frozen=True, slots=True)
class Prefill:
    """Where a fieldset may be filled from: one item of わたしの情報 and its field mapping.

    ``fields`` maps a form field to the item's payload field. The values are fetched
    through the hub only after the resident agrees to this group (入力補助の同意).
    """

    item: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """A fieldset: its legend, its fields in order, and where it may be pre-filled from."""

    title: str
    fields: tuple[FieldSpec, ...]
    prefill: Prefill | None = None


@dataclass(frozen=True, slots=True)
class FormDefinition:
    """A procedure's form: the JSON Schema and the groups to render."""

    procedure: str
    schema: dict[str, Any]
    groups: tuple[GroupSpec, ...]

    @property
    def fields(self) -> dict[str, FieldSpec]:
        """Every field by name."""
        return {f.name: f for g in self.groups for f in g.fields}


@dataclass(frozen=True, slots=True)
class FieldError:
    """A validation error on one field, localized."""

    field: str
    message: str


@dataclass(slots=True)
class FieldView:
    """A field as the page shows it: spec, current value, error."""

    spec: FieldSpec
    value: Any = None
    error: str = ""


@dataclass(slots=True)
class GroupView:
    """A fieldset as the page shows it."""

    title: str
    fields: list[FieldView] = field(default_factory=list)


def load_form(procedure: str, raw: Any) -> FormDefinition:
    """Check and read one form file's content (JSON Schema + UI schema)."""

    def broken(reason: str) -> FormDefinitionError:
        return FormDefinitionError(procedure=procedure, reason=reason)

    if not isinstance(raw, dict) or raw.get("procedure") != procedure:
        raise broken("the file must name its procedure")
    schema, ui = raw.get("schema"), raw.get("ui")
    if not isinstance(schema, dict) or not isinstance(ui, dict):
        raise broken("schema and ui are required")
    Draft202012Validator.check_schema(schema)
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    specs: dict[str, Any] = ui.get("fields", {})
    groups: list[GroupSpec] = []
    seen: list[str] = []
    for group in ui.get("groups", []):
        fields: list[FieldSpec] = []
        for name in group["fields"]:
            spec, prop = specs.get(name), properties.get(name)
            if spec is None or prop is None or name in seen:
                raise broken(f"field {name} needs one schema property and one UI entry")
            if spec.get("widget") not in WIDGETS:
                raise broken(f"field {name} has an unknown widget")
            options = tuple((str(k), str(v)) for k, v in spec.get("options", {}).items())
            if "enum" in prop and [k for k, _ in options] != prop["enum"]:
                raise broken(f"field {name}: the options must match the schema's enum")
            fills = _fills(name, spec, broken)
            seen.append(name)
            fields.append(
                FieldSpec(
                    name=name,
                    widget=spec["widget"],
                    label=spec["label"],
                    required=name in required,
                    help=spec.get("help", ""),
                    hint=spec.get("hint", ""),
                    options=options,
                    autocomplete=spec.get("autocomplete", ""),
                    inputmode=spec.get("inputmode", ""),
                    max_length=prop.get("maxLength"),
                    fills=fills,
                )
            )
        groups.append(
            GroupSpec(
                title=group["title"],
                fields=tuple(fields),
                prefill=_prefill(group.get("prefill"), [f.name for f in fields], broken),
            )
        )
    if set(seen) != set(properties):
        raise broken("every schema property must appear in exactly one group")
    groups = _with_conditions(schema, groups, broken)
    widgets = {f.name: f.widget for g in groups for f in g.fields}
    for group in groups:
        for spec in group.fields:
            target = spec.filled("municipality")
            if target and widgets.get(target) != "municipality":
                raise broken(f"field {spec.name} must fill a municipality field")
            if spec.filled("address") not in {"", *widgets}:
                raise broken(f"field {spec.name} fills an unknown address field")
    return FormDefinition(procedure=procedure, schema=schema, groups=tuple(groups))


def _required_cases(
    schema: dict[str, Any], broken: Callable[[str], FormDefinitionError]
) -> list[tuple[str, tuple[str, ...], list[str]]]:
    """The schema's conditional requirements as (trigger, trigger values, fields required).

    Two shapes are read: ``if`` one property is ``const``/``enum`` ``then`` ``required``
    (at the top or in ``allOf``), and ``dependentRequired`` (an empty value tuple: the
    trigger being filled in). Any other ``if`` is a form the page could not explain.
    """
    cases: list[tuple[str, tuple[str, ...], list[str]]] = []
    for rule in [schema, *schema.get("allOf", [])]:
        if "if" not in rule:
            continue
        test = rule["if"].get("properties", {}) if isinstance(rule["if"], dict) else {}
        then = rule.get("then", {}).get("required", [])
        if len(test) != 1 or not then or "else" in rule:
            raise broken("an if/then must test one property and require fields")
        ((trigger, value),) = test.items()
        values = value.get("enum", [value["const"]] if "const" in value else None)
        if not values:
            raise broken(f"the if on {trigger} must be a const or an enum")
        cases.append((trigger, tuple(str(v) for v in values), list(then)))
    for trigger, needed in schema.get("dependentRequired", {}).items():
        cases.append((trigger, (), list(needed)))
    return cases


def _with_conditions(
    schema: dict[str, Any],
    groups: list[GroupSpec],
    broken: Callable[[str], FormDefinitionError],
) -> list[GroupSpec]:
    """The groups with each optional field's cases of being required."""
    specs = {f.name: f for g in groups for f in g.fields}
    found: dict[str, list[RequiredWhen]] = {}
    for trigger, values, needed in _required_cases(schema, broken):
        source = specs.get(trigger)
        if source is None or not set(needed) <= set(specs):
            raise broken(f"the condition on {trigger} names an unknown field")
        options = dict(source.options)
        case = RequiredWhen(trigger, source.label, tuple(options.get(v, v) for v in values))
        for name in needed:
            found.setdefault(name, []).append(case)
    return [
        GroupSpec(
            title=g.title,
            fields=tuple(replace(f, required_when=tuple(found.get(f.name, ()))) for f in g.fields),
            prefill=g.prefill,
        )
        for g in groups
    ]


def _fills(
    name: str, spec: dict[str, Any], broken: Callable[[str], FormDefinitionError]
) -> tuple[tuple[str, str], ...]:
    """What a postal_code field's lookup fills (only a postal_code fills anything)."""
    fills = tuple((str(k), str(v)) for k, v in spec.get("fills", {}).items())
    if fills and (spec["widget"] != "postal_code" or not {k for k, _ in fills} <= FILLS):
        raise broken(f"field {name}: only a postal_code may fill municipality, address")
    return fills


def _prefill(
    raw: Any, names: list[str], broken: Callable[[str], FormDefinitionError]
) -> Prefill | None:
    """A group's pre-fill source, checked: a known item and only this group's text fields."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("fields"), dict):
        raise broken("a prefill needs an item and a fields mapping")
    item = raw.get("item")
    if not isinstance(item, str) or not item:
        raise broken("a prefill names the item it reads")
    pairs = tuple((str(k), str(v)) for k, v in raw["fields"].items())
    if not pairs or any(name not in names for name, _ in pairs):
        raise broken("a prefill may only fill fields of its own group")
    return Prefill(item=item, fields=pairs)


@cache
def shipped_forms() -> dict[str, FormDefinition]:
    """Every form under ``data``, checked at first use."""
    folder = resources.files("myna.forms").joinpath("data")
    forms: dict[str, FormDefinition] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            code = entry.name.removesuffix(".json")
            forms[code] = load_form(code, json.loads(entry.read_text(encoding="utf-8")))
    return forms


def coerce(form: FormDefinition, submitted: dict[str, str]) -> dict[str, Any]:
    """Posted text → JSON values: blanks dropped, numbers parsed, checkboxes as booleans.

    Unknown names are ignored; a value that does not parse is kept as text so that
    validation reports it on its field.
    """
    data: dict[str, Any] = {}
    for name, spec in form.fields.items():
        raw = submitted.get(name, "").strip()[:MAX_VALUE_LENGTH]
        kind = form.schema["properties"][name].get("type")
        if kind == "boolean":
            data[name] = raw.lower() in CHECKED
        elif not raw:
            continue
        elif kind == "integer" and spec.widget != "select":
            digits = raw.translate(_FULL_WIDTH_DIGITS)
            whole = digits.isascii() and digits.isdigit() and len(digits) <= MAX_DIGITS
            data[name] = int(digits) if whole else raw
        else:
            data[name] = raw
    return data


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def validate(form: FormDefinition, data: dict[str, Any]) -> list[FieldError]:
    """Every schema rule the data breaks, one localized message per field, in form order."""
    validator = Draft202012Validator(
        form.schema, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    found: dict[str, FieldError] = {}
    for error in validator.iter_errors(data):
        name = _field_of(error)
        if name in form.fields and name not in found:
            found[name] = FieldError(name, _message(form.fields[name], error))
    for name, spec in form.fields.items():
        if name not in found and _has_control(data.get(name)):
            found[name] = FieldError(name, _(_CONTROL).format(label=spec.label))
        if name not in found and _is_date(form, spec) and not _plausible(data.get(name)):
            found[name] = FieldError(
                name,
                _(_DATE_RANGE).format(
                    label=spec.label,
                    earliest=EARLIEST_DATE.isoformat(),
                    latest=LATEST_DATE.isoformat(),
                ),
            )
    return [found[n] for n in form.fields if n in found]


def _has_control(value: Any) -> bool:
    return isinstance(value, str) and any(
        unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS for c in value
    )


def _is_date(form: FormDefinition, spec: FieldSpec) -> bool:
    return spec.widget == "date" or form.schema["properties"][spec.name].get("format") == "date"


def _plausible(value: Any) -> bool:
    """Whether a date field's value lies from 1900 to 2100 (other values: not this rule's).

    The schema checks only the form of a date (``9999-12-31`` is one); a day that far off
    means nothing to any procedure and would overflow a deadline counted from it.
    """
    if not isinstance(value, str):
        return True
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return True  # not a date at all: the schema's format rule reports it
    return plausible_date(day)


def _field_of(error: ValidationError) -> str:
    if error.validator == "required":
        # One error per missing property; its message names it (``'x' is a required ...``).
        required: list[str] = (
            list(error.schema.get("required", [])) if isinstance(error.schema, dict) else []
        )
        instance: Any = error.instance
        names = [n for n in required if n not in instance]
        return next((n for n in names if error.message.startswith(repr(n))), "")
    return str(error.path[0]) if error.path else ""


def _message(spec: FieldSpec, error: ValidationError) -> str:
    rule, limit = error.validator, error.validator_value
    label = spec.label
    if rule == "required":
        typed = {"text", "textarea", "date", "postal_code"}
        text = _REQUIRED_TEXT if spec.widget in typed else _REQUIRED_CHOICE
        return _(text).format(label=label)
    if rule == "const" or (spec.widget == "checkbox" and rule != "type"):
        return _(_MUST_CHECK).format(label=label)
    templates = {
        "maxLength": _TOO_LONG,
        "minLength": _TOO_SHORT,
        "minimum": _MINIMUM,
        "maximum": _MAXIMUM,
        "enum": _ENUM,
        "format": _DATE,
        "type": _INTEGER,
    }
    if rule == "pattern" and spec.widget == "municipality":
        return _(_ENUM).format(label=label)
    if rule == "pattern":
        return _(_PATTERN).format(label=label, hint=spec.hint or spec.help)
    return _(templates.get(str(rule), _INVALID)).format(label=label, limit=limit)


def view(
    form: FormDefinition, data: dict[str, Any], errors: list[FieldError] | None = None
) -> list[GroupView]:
    """The groups with each field's value and error, for the template."""
    messages = {e.field: e.message for e in errors or []}
    return [
        GroupView(
            title=g.title,
            fields=[FieldView(f, data.get(f.name), messages.get(f.name, "")) for f in g.fields],
        )
        for g in form.groups
    ]


@dataclass(frozen=True, slots=True)
class ReadableGroup:
    """A fieldset's answers as words: (label, shown value) pairs, for review pages."""

    title: str
    answers: tuple[tuple[str, str], ...]


def readable(
    form: FormDefinition, data: dict[str, Any], labels: Mapping[str, str] | None = None
) -> list[ReadableGroup]:
    """The data as the resident and the staff read it: labels, option labels, yes/no.

    ``labels`` gives the name of a coded value by field (``{"new_municipality_code":
    "大阪府大阪市"}``): a signed document carries them, the server finds them in the
    reference data.
    """
    names = labels or {}
    groups: list[ReadableGroup] = []
    for group in form.groups:
        answers: list[tuple[str, str]] = []
        for spec in group.fields:
            value = data.get(spec.name)
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                shown = _("Yes") if value else _("No")
            elif isinstance(names.get(spec.name), str) and names[spec.name]:
                shown = names[spec.name]
            elif _is_date(form, spec) and isinstance(value, str):
                shown = _readable_date(value)
            else:
                # Numbers as typed: never thousands separators (a year 2026 is not 2,026).
                shown = dict(spec.options).get(str(value), str(value))
            answers.append((spec.label, shown))
        groups.append(ReadableGroup(title=group.title, answers=tuple(answers)))
    return groups


def _readable_date(value: str) -> str:
    """An answered date as residents read it (和暦 in Japanese); the stored text unchanged."""
    try:
        return format_date(date.fromisoformat(value))
    except ValueError:
        return value


def _own_answers(groups: list[Any]) -> list[ReadableGroup]:
    """Groups a document carries itself: ``[{"title": ..., "answers": [[label, value]]}]``."""
    found = []
    for group in groups:
        if not isinstance(group, dict) or not isinstance(group.get("answers"), list):
            continue
        pairs = tuple(
            (str(pair[0]), str(pair[1]))
            for pair in group["answers"]
            if isinstance(pair, list) and len(pair) == 2
        )
        found.append(ReadableGroup(title=str(group.get("title", "")), answers=pairs))
    return found


def document_answers(document: Mapping[str, Any]) -> list[ReadableGroup]:
    """A signed application document's data as words, from the document alone.

    A document of another kind (a tax return) that is no shipped form carries its
    readable groups itself, in order, under ``answers``: they are signed with it.

    The portal's review and signing pages and the card reader all show this, so the
    resident reads the same thing at each step. The names of coded answers come from the
    document's ``labels`` (signed with the codes), never from a lookup.
    """
    procedure = document.get("procedure")
    code = str(procedure.get("code", "")) if isinstance(procedure, dict) else ""
    if code not in shipped_forms() and isinstance(document.get("answers"), list):
        return _own_answers(document["answers"])
    data = document.get("data", {})
    data = data if isinstance(data, dict) else {}
    form = shipped_forms().get(code)
    if form is None:
        return [ReadableGroup(title="", answers=tuple((str(k), str(v)) for k, v in data.items()))]
    raw = document.get("labels")
    labels = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
    return readable(form, data, labels)
