"""Open-data JSON API of the service catalog (ぴったりサービス検索): no login, read only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from myna.catalog import service
from myna.catalog.domain import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_QUERY_LENGTH
from myna.catalog.schemas import ProcedureRead, SearchResultRead
from myna.platform.api_errors import error_responses
from myna.platform.params import PageNumber
from myna.platform.web import transaction

router = APIRouter(prefix="/api/services", tags=["service catalog"])
ERRORS = error_responses(400, 404, 422)
MUNICIPALITY_PATTERN = r"^[0-9]{6}$"
CODE_PATTERN = r"^[a-z0-9-]{1,64}$"


@router.get(
    "",
    responses=ERRORS,
    summary="Search the procedures",
    description=(
        "Procedures by keyword (Japanese in any width, kana or kanji), category, life event "
        "and municipality, paginated in a fixed order. Open data: no login needed."
    ),
)
def search_procedures(
    request: Request,
    query: Annotated[
        str, Query(max_length=MAX_QUERY_LENGTH, description="Keywords, all must match.")
    ] = "",
    category: Annotated[
        str, Query(max_length=32, description="child-rearing, long-term-care, disaster, vehicle.")
    ] = "",
    life_event: Annotated[str, Query(max_length=32, description="e.g. birth, moving.")] = "",
    municipality: Annotated[
        str, Query(max_length=6, description="Local government code (6 digits).")
    ] = "",
    page: Annotated[PageNumber, Query()] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> SearchResultRead:
    with transaction(request) as db:
        return service.search(
            session=db,
            query=query,
            category=category,
            life_event=life_event,
            municipality_code=municipality,
            page=page,
            page_size=page_size,
        )


@router.get(
    "/{municipality}/{code}",
    responses=ERRORS,
    summary="One procedure of a municipality",
    description="Eligibility, documents, signature and online filing of one procedure.",
)
def read_procedure(
    request: Request,
    municipality: Annotated[str, Path(pattern=MUNICIPALITY_PATTERN)],
    code: Annotated[str, Path(pattern=CODE_PATTERN)],
) -> ProcedureRead:
    with transaction(request) as db:
        return service.get_procedure(session=db, municipality_code=municipality, code=code)
