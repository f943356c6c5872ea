"""Forms of e-applications on the server: which form a municipality offers, and drafts (下書き).

The definitions themselves are :mod:`myna.forms`; here they are checked against the
agencies' catalog (each pre-fill must name an item an agency provides) and kept per
resident as drafts. The reference data behind the ``municipality`` and ``postal_code``
widgets is looked up here too: the choices of a municipality field, a postal-code
lookup, the checks of both, and the names (labels) of the codes a form holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import agencies, reference, registry
from myna.applications.models import ApplicationDraft
from myna.catalog.domain import Procedure, ProcedureNotFoundError
from myna.catalog.loader import shipped_catalog
from myna.forms import (
    FieldError,
    FieldSpec,
    FieldView,
    FormDefinition,
    FormDefinitionError,
    GroupSpec,
    GroupView,
    Prefill,
    ReadableGroup,
    RequiredWhen,
    coerce,
    document_answers,
    load_form,
    readable,
    shipped_forms,
    validate,
    view,
)
from myna.platform.db import utcnow
from myna.platform.errors import N_, MynaError, NotFoundError
from myna.platform.i18n import gettext as _

__all__ = [
    "PREFECTURE_SUFFIX",
    "FieldError",
    "FieldSpec",
    "FieldView",
    "FormDefinition",
    "FormDefinitionError",
    "FormNotAvailableError",
    "GroupSpec",
    "GroupView",
    "LookupNotAvailableError",
    "LookupResult",
    "MunicipalityChoices",
    "Prefill",
    "ReadableGroup",
    "RequiredWhen",
    "check_references",
    "checked_forms",
    "chosen_prefectures",
    "coerce",
    "document_answers",
    "form_for",
    "labels",
    "load_draft",
    "load_form",
    "lookup",
    "municipality_choices",
    "readable",
    "save_draft",
    "shipped_forms",
    "validate",
    "view",
]


@cache
def checked_forms() -> dict[str, FormDefinition]:
    """The shipped forms, each pre-fill checked against the agencies' items (at first use)."""
    items = agencies.load_catalog().items
    forms = shipped_forms()
    for code, form in forms.items():
        for group in form.groups:
            if group.prefill is not None and group.prefill.item not in items:
                raise FormDefinitionError(
                    procedure=code, reason=f"prefill names an unknown item {group.prefill.item!r}"
                )
    return forms


class FormNotAvailableError(NotFoundError):
    """An online procedure whose form this portal does not have yet."""

    code = "form_not_available"
    message = N_(
        "The procedure {procedure} cannot be filed through this portal yet. "
        "Please apply at the municipality's department."
    )


def form_for(*, session: Session, municipality_code: str, code: str) -> tuple[Procedure, str]:
    """The online procedure ``code`` as offered by the municipality, with its name; else 404."""
    municipality = registry.get_municipality(session=session, code=municipality_code)
    procedure = shipped_catalog().get(code)
    if procedure is None or not procedure.online or not procedure.offered_in(municipality.code):
        raise ProcedureNotFoundError(procedure=code, municipality=municipality.full_name)
    if code not in checked_forms():
        raise FormNotAvailableError(procedure=procedure.name_ja)
    return procedure, municipality.full_name


def _find(
    session: Session, resident_id: int, municipality_code: str, code: str
) -> ApplicationDraft | None:
    return session.scalars(
        select(ApplicationDraft).where(
            ApplicationDraft.resident_id == resident_id,
            ApplicationDraft.municipality_code == municipality_code,
            ApplicationDraft.procedure_code == code,
        )
    ).one_or_none()


def save_draft(
    *, session: Session, resident_id: int, municipality_code: str, code: str, data: dict[str, Any]
) -> None:
    """Keep what the resident filled in so far, valid or not (one draft per procedure)."""
    draft = _find(session, resident_id, municipality_code, code)
    if draft is None:
        session.add(
            ApplicationDraft(
                resident_id=resident_id,
                municipality_code=municipality_code,
                procedure_code=code,
                data=data,
            )
        )
    else:
        draft.data = data
        draft.updated_at = utcnow()
    session.flush()


def load_draft(
    *, session: Session, resident_id: int, municipality_code: str, code: str
) -> dict[str, Any] | None:
    """The resident's own draft for the procedure, or None (never another resident's)."""
    draft = _find(session, resident_id, municipality_code, code)
    return None if draft is None else dict(draft.data)


# --- reference data behind the municipality and postal_code widgets ---------------

PREFECTURE_SUFFIX = "__prefecture"  # the prefecture select of a municipality field
_CHOOSE_PREFECTURE = N_("Choose the prefecture first, then press 「Show municipalities」.")
_NOT_IN_REGISTRY = N_(
    "The municipality {code} cannot receive applications through this portal. Choose "
    "the municipality from the list."
)
_POSTAL_MISMATCH = N_(
    "The postal code {postal_code} is in {postal_name}, but {chosen} is chosen. Choose "
    "the same municipality or correct the postal code."
)
_POSTAL_FOUND = N_(
    "The postal code {postal_code} is in {name}. The municipality was chosen and the "
    "town filled in; check them and add the block number and building."
)
_POSTAL_FOUND_ADDRESS_KEPT = N_(
    "The postal code {postal_code} is in {name}. The municipality was chosen; the "
    "address you typed was kept as it is ({town})."
)
_MUNICIPALITIES_SHOWN = N_("The municipalities of {prefecture} are listed. Choose one.")


@dataclass(frozen=True, slots=True)
class MunicipalityChoices:
    """What a municipality field offers: the prefectures, the chosen one, its municipalities.

    ``groups`` are (prefecture name, [(code, name)]) — one prefecture once it is chosen,
    every prefecture until then, so the form works even without the extra step.
    """

    prefectures: tuple[tuple[str, str], ...]
    prefecture: str
    groups: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


@dataclass(frozen=True, slots=True)
class LookupResult:
    """A lookup's outcome: the data (filled in), the errors, a status message."""

    data: dict[str, Any]
    errors: list[FieldError]
    message: str
    prefectures: dict[str, str]


def _municipality_fields(form: FormDefinition) -> list[FieldSpec]:
    return [f for f in form.fields.values() if f.widget == "municipality"]


def chosen_prefectures(form: FormDefinition, posted: Mapping[str, str]) -> dict[str, str]:
    """The prefecture chosen for each municipality field, as posted (2 digits or nothing)."""
    chosen: dict[str, str] = {}
    for spec in _municipality_fields(form):
        value = posted.get(spec.name + PREFECTURE_SUFFIX, "").strip()
        if len(value) == 2 and value.isascii() and value.isdigit():
            chosen[spec.name] = value
    return chosen


def municipality_choices(
    *,
    session: Session,
    form: FormDefinition,
    data: Mapping[str, Any],
    prefectures: Mapping[str, str],
) -> dict[str, MunicipalityChoices]:
    """The choices of each municipality field of ``form`` (the registry's municipalities)."""
    fields = _municipality_fields(form)
    if not fields:
        return {}
    every = reference.list_prefectures(session=session)
    known = dict(every)
    municipalities = reference.list_municipalities(session=session)
    choices: dict[str, MunicipalityChoices] = {}
    for spec in fields:
        prefecture = prefectures.get(spec.name, "")
        value = data.get(spec.name)
        if prefecture not in known and isinstance(value, str):
            prefecture = next((m.prefecture_code for m in municipalities if m.code == value), "")
        prefecture = prefecture if prefecture in known else ""
        groups = tuple(
            (name, tuple((m.code, m.name) for m in municipalities if m.prefecture_code == code))
            for code, name in every
            if prefecture in {"", code}
        )
        choices[spec.name] = MunicipalityChoices(
            prefectures=tuple(every), prefecture=prefecture, groups=groups
        )
    return choices


def labels(*, session: Session, form: FormDefinition, data: Mapping[str, Any]) -> dict[str, str]:
    """The names of the coded values in ``data``: ``{"new_municipality_code": "大阪府大阪市"}``."""
    names: dict[str, str] = {}
    for spec in _municipality_fields(form):
        value = data.get(spec.name)
        if not isinstance(value, str):
            continue
        try:
            names[spec.name] = reference.get_municipality(session=session, code=value).full_name
        except (reference.MunicipalityNotFoundError, reference.InvalidMunicipalityCodeError):
            continue
    return names


def lookup(
    *,
    session: Session,
    form: FormDefinition,
    data: dict[str, Any],
    action: str,
    prefectures: Mapping[str, str],
) -> LookupResult:
    """Run the lookup a button asked for: ``postal:<field>`` or ``prefecture:<field>``.

    The data comes back with what was found filled in (a typed address is never
    overwritten); an unknown postal code, or a button without its input, is an error
    on that field.
    """
    kind, _sep, name = action.partition(":")
    spec = form.fields.get(name)
    data, chosen = dict(data), dict(prefectures)
    if kind == "postal" and spec is not None and spec.widget == "postal_code":
        return _postal_lookup(session, spec, data, chosen)
    if kind == "prefecture" and spec is not None and spec.widget == "municipality":
        prefecture = chosen.get(name, "")
        known = dict(reference.list_prefectures(session=session))
        if prefecture not in known:
            return LookupResult(data, [FieldError(name, _(_CHOOSE_PREFECTURE))], "", chosen)
        value = data.get(name)
        if isinstance(value, str) and not value.startswith(prefecture):
            data.pop(name)  # a municipality of another prefecture: choose again
        message = _(_MUNICIPALITIES_SHOWN).format(prefecture=known[prefecture])
        return LookupResult(data, [], message, chosen)
    raise LookupNotAvailableError


class LookupNotAvailableError(MynaError, code="lookup_not_available", status_code=400):
    """A lookup button this form does not have."""

    message = N_("This form has no such lookup. Go back to the form and try again.")


def _postal_lookup(
    session: Session,
    spec: FieldSpec,
    data: dict[str, Any],
    chosen: dict[str, str],
) -> LookupResult:
    value = data.get(spec.name)
    if not isinstance(value, str) or not value:
        message = _("Enter {label}.").format(label=spec.label)
        return LookupResult(data, [FieldError(spec.name, message)], "", chosen)
    try:
        found = reference.lookup_postal_code(session=session, postal_code=value)
    except MynaError as error:
        return LookupResult(data, [FieldError(spec.name, error.localized())], "", chosen)
    data[spec.name] = found.formatted_postal_code
    municipality_field, address_field = spec.filled("municipality"), spec.filled("address")
    if municipality_field:
        data[municipality_field] = found.municipality.code
        chosen[municipality_field] = found.municipality.prefecture_code
    template = _POSTAL_FOUND
    if address_field and found.town:
        typed = data.get(address_field)
        if not isinstance(typed, str) or not typed.strip():
            data[address_field] = found.town
        elif not typed.startswith(found.town):
            template = _POSTAL_FOUND_ADDRESS_KEPT
    message = _(template).format(
        postal_code=found.formatted_postal_code,
        name=found.municipality.full_name,
        town=found.town,
    )
    return LookupResult(data, [], message, chosen)


def check_references(
    *, session: Session, form: FormDefinition, data: Mapping[str, Any]
) -> list[FieldError]:
    """The checks of the reference widgets: municipalities in the registry, postal codes found.

    A postal code must exist and lie in the municipality chosen beside it.
    """
    errors: dict[str, FieldError] = {}
    names = labels(session=session, form=form, data=data)
    for spec in _municipality_fields(form):
        value = data.get(spec.name)
        if isinstance(value, str) and spec.name not in names:
            errors[spec.name] = FieldError(spec.name, _(_NOT_IN_REGISTRY).format(code=value))
    for spec in form.fields.values():
        value = data.get(spec.name)
        if spec.widget != "postal_code" or not isinstance(value, str) or not value:
            continue
        try:
            found = reference.lookup_postal_code(session=session, postal_code=value)
        except MynaError as error:
            errors.setdefault(spec.name, FieldError(spec.name, error.localized()))
            continue
        target = spec.filled("municipality")
        chosen = data.get(target)
        if target and isinstance(chosen, str) and chosen != found.municipality.code:
            errors.setdefault(
                target,
                FieldError(
                    target,
                    _(_POSTAL_MISMATCH).format(
                        postal_code=found.formatted_postal_code,
                        postal_name=found.municipality.full_name,
                        chosen=names.get(target, chosen),
                    ),
                ),
            )
    return [errors[n] for n in form.fields if n in errors]
