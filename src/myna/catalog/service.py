"""Use cases of the service catalog: search and one procedure's page, without login."""

from __future__ import annotations

from sqlalchemy.orm import Session

from myna import registry
from myna.catalog import domain
from myna.catalog.domain import DEFAULT_PAGE_SIZE, Procedure, ProcedureNotFoundError
from myna.catalog.loader import shipped_catalog
from myna.catalog.schemas import MunicipalityRef, ProcedureRead, ProcedureSummary, SearchResultRead
from myna.forms import shipped_forms


def search(
    *,
    session: Session,
    query: str | None = None,
    category: str | None = None,
    life_event: str | None = None,
    municipality_code: str | None = None,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> SearchResultRead:
    """One page of procedures matching the keywords and filters, with the total."""
    if municipality_code:
        municipality_code = registry.get_municipality(session=session, code=municipality_code).code
    criteria = domain.make_criteria(
        query=query,
        category=category,
        life_event=life_event,
        municipality_code=municipality_code,
        page=page,
        page_size=page_size,
    )
    found = domain.search(shipped_catalog().procedures, criteria)
    names = municipality_names(session=session)
    return SearchResultRead(
        items=[_summary(p, names) for p in found.items],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
        pages=found.pages,
        has_next=found.has_next,
    )


def get_procedure(*, session: Session, municipality_code: str, code: str) -> ProcedureRead:
    """The procedure ``code`` as the municipality offers it, or a 404 error."""
    municipality = registry.get_municipality(session=session, code=municipality_code)
    procedure = shipped_catalog().get(code)
    if procedure is None or not procedure.offered_in(municipality.code):
        raise ProcedureNotFoundError(procedure=code, municipality=municipality.full_name)
    summary = _summary(procedure, municipality_names(session=session))
    return ProcedureRead(
        **summary.model_dump(),
        municipality=MunicipalityRef(code=municipality.code, name=municipality.full_name),
        eligibility=procedure.eligibility,
        documents=list(procedure.documents),
        department=procedure.department,
        apply_url=(
            f"/apply/{municipality.code}/{procedure.code}"
            if procedure.online and procedure.code in shipped_forms()
            else None
        ),
    )


def home_municipality(*, session: Session, resident_id: int) -> str:
    """The local government code of the municipality where the resident lives."""
    return registry.get_resident(session=session, resident_id=resident_id).municipality_code


def municipality_names(*, session: Session) -> dict[str, str]:
    """Local government code → full name, for every municipality of the registry."""
    return {m.code: m.full_name for m in registry.list_municipalities(session=session)}


def _summary(procedure: Procedure, names: dict[str, str]) -> ProcedureSummary:
    offered_by = (
        None
        if procedure.municipalities is None
        else [MunicipalityRef(code=c, name=names.get(c, c)) for c in procedure.municipalities]
    )
    return ProcedureSummary(
        code=procedure.code,
        name_ja=procedure.name_ja,
        name_en=procedure.name_en,
        category=procedure.category.value,
        life_events=[e.value for e in procedure.life_events],
        summary=procedure.summary,
        online=procedure.online,
        signature_required=procedure.signature_required,
        priority=procedure.priority,
        offered_by=offered_by,
    )
