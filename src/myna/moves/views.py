"""Residents' move pages: 転出届 and 転入予約 in one submission, and their progress.

``GET /moves`` lists the resident's moves (those they filed and those they move in)
with each step: move-out filed → certificate information sent → move-in completed.
The move itself is filed through the normal ``/apply/{municipality}/moving-out`` form
and signing pages.
"""

# No `from __future__ import annotations`: FastAPI reads the closures' annotations.

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse

from myna import registry
from myna.applications.views import NO_STORE
from myna.moves import service as moves
from myna.platform.forms import SettingsDep
from myna.platform.forms import resident_of as _resident
from myna.platform.web import make_templates, template_context, transaction

templates = make_templates(Path(__file__).with_name("templates"))


def make_router(*, resident_session: Any, check_csrf: Any, cookie_name: str) -> APIRouter:
    """The resident's move pages, over the portal's login session."""
    del check_csrf  # the pages only read; filing goes through the application pages
    router = APIRouter(include_in_schema=False)

    async def session_cookie(request: Request) -> str | None:
        return request.cookies.get(cookie_name)

    SessionCookie = Annotated[str | None, Depends(session_cookie)]  # noqa: N806 - a type alias

    @router.get("/moves", response_class=HTMLResponse)
    def moves_page(request: Request, settings: SettingsDep, cookie: SessionCookie) -> Response:
        with transaction(request) as db:
            active = resident_session(db, settings, cookie)
            resident_id = _resident(active)
            listed = moves.moves_of_resident(session=db, resident_id=resident_id)
            resident = registry.get_resident(session=db, resident_id=resident_id)
        return templates.TemplateResponse(
            request,
            "moves/moves.html",
            template_context(
                request,
                move_list=listed,
                move_apply_url=f"/apply/{resident.municipality_code}/{moves.MOVE_OUT}",
                csrf_token=active.csrf_token,
            ),
            headers=NO_STORE,
        )

    return router
