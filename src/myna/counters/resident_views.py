"""The resident's page of the card's uses at municipal counters (市民カードの利用).

``GET /card-uses`` lists the books the resident has on loan at the municipalities'
libraries (due dates in 和暦, overdue ones marked) and every use of the card at a
counter (利用履歴): registrations, loans, returns, shelter check-ins and check-outs,
with how the card was presented. Only the logged-in resident's own, found by their
pseudonyms: nobody else's loans or check-ins can appear.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from myna.counters import service as counters
from myna.counters.domain import ACTION_LABELS, LOAN_DAYS, LOAN_LIMIT, METHOD_LABELS
from myna.platform.sessions import CurrentResident
from myna.platform.web import get_container, templates_beside, transaction

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)
PATH = "/card-uses"


@router.get(PATH, response_class=HTMLResponse)
def card_uses_page(request: Request, current: CurrentResident) -> Response:
    settings = get_container(request).settings
    with transaction(request) as db:
        loans = counters.loans_of(session=db, settings=settings, resident_id=current.resident_id)
        uses = counters.card_uses_of(session=db, settings=settings, resident_id=current.resident_id)
    return templates.page(
        request,
        "counters/card_uses.html",
        csrf_token=current.csrf_token,
        counters_loans=loans,
        counters_uses=uses,
        counters_action_labels=ACTION_LABELS,
        counters_method_labels=METHOD_LABELS,
        counters_loan_limit=LOAN_LIMIT,
        counters_loan_days=LOAN_DAYS,
        headers={"Cache-Control": "no-store"},
    )
