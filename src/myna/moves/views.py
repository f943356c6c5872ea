"""Residents' move pages: 転出届 and 転入予約 in one submission, and their progress.

``GET /moves`` lists the resident's moves (those they filed and those they move in)
with each step: move-out filed → certificate information sent → move-in completed.
The move itself is filed through the normal ``/apply/{municipality}/moving-out`` form
and signing pages.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations.

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from myna import registry
from myna.applications.views import NO_STORE
from myna.moves import service as moves
from myna.platform.sessions import CurrentResident
from myna.platform.web import templates_beside, transaction

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)


@router.get("/moves", response_class=HTMLResponse)
def moves_page(request: Request, current: CurrentResident) -> Response:
    with transaction(request) as db:
        listed = moves.moves_of_resident(session=db, resident_id=current.resident_id)
        resident = registry.get_resident(session=db, resident_id=current.resident_id)
    return templates.page(
        request,
        "moves/moves.html",
        move_list=listed,
        move_apply_url=f"/apply/{resident.municipality_code}/{moves.MOVE_OUT}",
        csrf_token=current.csrf_token,
        headers=NO_STORE,
    )
