"""What proxies did for the resident (代理人の操作履歴): one page, newest first.

Acts recorded by the proxies' context (appointments, acting begun and ended, notices
opened, applications filed) and the exchanges a proxy asked for through the hub (the
exchange log's ``actor``), side by side. The same exchanges also show, marked, in
やりとり履歴.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from myna import proxy
from myna.network import transparency
from myna.platform.sessions import CurrentResident
from myna.platform.web import templates_beside, transaction
from myna.portal import presenters

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)


@router.get("/proxy/activity", response_class=HTMLResponse)
def proxy_activity(request: Request, current: CurrentResident) -> Response:
    with transaction(request) as db:
        acts = proxy.activity_for(session=db, principal_id=current.resident_id)
        page = transparency.exchanges_for_subject(
            session=db, subject=str(current.resident_id), by_proxy=True, page=1, page_size=50
        )
        exchanges = presenters.exchange_views(db, page.items, 0)
    return templates.page(
        request,
        "portal/proxy_activity.html",
        proxy_acts=acts,
        proxy_exchanges=exchanges,
        headers={"Cache-Control": "no-store"},
    )
