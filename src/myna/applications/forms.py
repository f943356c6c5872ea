"""Forms of e-applications on the server: which form a municipality offers, and drafts (下書き).

The definitions themselves are :mod:`myna.forms`; here they are checked against the
agencies' catalog (each pre-fill must name an item an agency provides) and kept per
resident as drafts.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from myna import agencies, registry
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
    coerce,
    load_form,
    readable,
    shipped_forms,
    validate,
    view,
)
from myna.platform.db import utcnow
from myna.platform.errors import N_, NotFoundError

__all__ = [
    "FieldError",
    "FieldSpec",
    "FieldView",
    "FormDefinition",
    "FormDefinitionError",
    "FormNotAvailableError",
    "GroupSpec",
    "GroupView",
    "Prefill",
    "ReadableGroup",
    "checked_forms",
    "coerce",
    "form_for",
    "load_draft",
    "load_form",
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
