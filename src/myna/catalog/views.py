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
    query: Annotated[str, Query(max_length=MAX_QUERY_LENGTH)] = "",
    category: Annotated[str, Query(max_length=32)] = "",
    life_event: Annotated[str, Query(max_length=32)] = "",
    municipality: Annotated[str, Query(max_length=6)] = "",
    page: Annotated[PageNumber, Query()] = 1,
) -> Response:
    # The form's own fields are the search's keywords: what the resident typed is searched.
    base = {"query": query, "category": category, "life_event": life_event}
    with transaction(request) as db:
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
        catalog_municipalities=[(m.code, m.full_name) for m in municipalities],
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
