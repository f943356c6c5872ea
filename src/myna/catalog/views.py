"""The catalog's web pages: search (/services) and one procedure (/services/{m}/{code})."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from myna import registry
from myna.catalog import service
from myna.catalog.api import CODE_PATTERN, MUNICIPALITY_PATTERN, read_procedure
from myna.catalog.domain import (
    CATEGORY_LABELS,
    DEFAULT_PAGE_SIZE,
    LIFE_EVENT_LABELS,
    MAX_QUERY_LENGTH,
)
from myna.platform.i18n import gettext as _
from myna.platform.params import PageNumber
from myna.platform.sessions import OptionalResident
from myna.platform.web import templates_beside, transaction

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)


def _labels() -> dict[str, dict[str, str]]:
    return {
        "categories": {c.value: _(label) for c, label in CATEGORY_LABELS.items()},
        "life_events": {e.value: _(label) for e, label in LIFE_EVENT_LABELS.items()},
    }


@router.get("/services", response_class=HTMLResponse)
def search_page(
    request: Request,
    current: OptionalResident,
    query: Annotated[str, Query(max_length=MAX_QUERY_LENGTH)] = "",
    category: Annotated[str, Query(max_length=32)] = "",
    life_event: Annotated[str, Query(max_length=32)] = "",
    municipality: Annotated[str | None, Query(max_length=6)] = None,
    page: Annotated[PageNumber, Query()] = 1,
) -> Response:
    # The form's own fields are the search's keywords: what the resident typed is searched.
    base = {"query": query, "category": category, "life_event": life_event}
    with transaction(request) as db:
        home = (
            None
            if current is None
            else service.home_municipality(session=db, resident_id=current.resident_id)
        )
        # Absent, the filter starts at the logged-in resident's own municipality; sent
        # empty (「すべての市区町村」), it covers every municipality.
        if municipality is None:
            municipality = home or ""
        result = service.search(
            session=db,
            **base,
            municipality_code=municipality,
            page=page,
            page_size=DEFAULT_PAGE_SIZE,
        )
        municipalities = registry.list_municipalities(session=db)
    form = {**base, "municipality": municipality}
    return templates.page(
        request,
        "catalog/search.html",
        catalog_form=form,
        catalog_result=result,
        catalog_labels=_labels(),
        catalog_municipalities=[
            (m.code, _("%(name)s (where you live)") % {"name": m.full_name})
            if m.code == home
            else (m.code, m.full_name)
            for m in municipalities
        ],
        catalog_home=home,
    )


@router.get("/services/{municipality}/{code}", response_class=HTMLResponse)
def procedure_page(
    request: Request,
    municipality: Annotated[str, Path(pattern=MUNICIPALITY_PATTERN)],
    code: Annotated[str, Path(pattern=CODE_PATTERN)],
) -> Response:
    # The page shows what the open-data API answers for the same address.
    procedure = read_procedure(request, municipality, code)
    return templates.page(
        request, "catalog/procedure.html", procedure=procedure, catalog_labels=_labels()
    )
