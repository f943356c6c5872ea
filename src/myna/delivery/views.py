"""The resident's 民間送達 pages: the box, one document, and the senders to link.

``GET /delivery`` lists what arrived (unread first marked) and the box's log;
``GET /delivery/{id}`` shows one document's meaning in plain Japanese and marks it read;
``GET /delivery/{id}/original.xml`` downloads the file as the sender signed it;
``GET /delivery/senders`` lists the senders, and ``POST`` links or unlinks one (the
resident is logged in with the card, which is what linking asks for).
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from myna.delivery import service
from myna.delivery.domain import SENDER_KIND_LABELS
from myna.delivery.errors import UnknownSenderError
from myna.platform.errors import MynaError
from myna.platform.forms import Posted
from myna.platform.sessions import CurrentResident, check_csrf
from myna.platform.web import templates_beside, transaction

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)
BOX_PATH = service.BOX_PATH
SENDERS_PATH = f"{BOX_PATH}/senders"
NO_STORE = {"Cache-Control": "no-store"}


@router.get(BOX_PATH, response_class=HTMLResponse)
def box_page(request: Request, current: CurrentResident) -> Response:
    """The documents delivered to the resident, newest first, and the box's log."""
    with transaction(request) as db:
        found = service.box(session=db, resident_id=current.resident_id)
        return templates.page(request, "delivery/box.html", headers=NO_STORE, box=found)


@router.get(SENDERS_PATH, response_class=HTMLResponse)
def senders_page(request: Request, current: CurrentResident, done: str = "") -> Response:
    """The registered senders, which ones may deliver to the box, and the switch."""
    return _senders(request, current, done=done, problem=None, status=200)


def _senders(
    request: Request, current: CurrentResident, *, done: str, problem: str | None, status: int
) -> Response:
    with transaction(request) as db:
        links = service.links_of(session=db, resident_id=current.resident_id)
        return templates.page(
            request,
            "delivery/senders.html",
            status_code=status,
            headers=NO_STORE,
            csrf_token=current.csrf_token,
            links=links,
            kind_labels=SENDER_KIND_LABELS,
            done=done if done in ("linked", "unlinked") else "",
            problem=problem,
        )


@router.post(SENDERS_PATH)
def change_link(request: Request, current: CurrentResident, posted: Posted) -> Response:
    """Link (``action=link``) or unlink (``action=unlink``) one sender."""
    check_csrf(current, posted.get("csrf_token"))
    action = posted.get("action", "")
    code = posted.get("sender", "")
    try:
        with transaction(request) as db:
            if action == "link":
                service.link(session=db, resident_id=current.resident_id, sender_code=code)
            elif action == "unlink":
                service.unlink(session=db, resident_id=current.resident_id, sender_code=code)
            else:
                raise UnknownSenderError
    except MynaError as error:
        return _senders(
            request, current, done="", problem=error.localized(), status=error.status_code
        )
    return RedirectResponse(f"{SENDERS_PATH}?done={action}ed", status_code=303)


@router.get(BOX_PATH + "/{delivery_id}", response_class=HTMLResponse)
def document_page(request: Request, current: CurrentResident, delivery_id: str) -> Response:
    """One document: what it means, its sender and dates; opening it marks it read."""
    with transaction(request) as db:
        item = service.open_document(
            session=db, resident_id=current.resident_id, delivery_id=delivery_id
        )
        return templates.page(request, "delivery/document.html", headers=NO_STORE, item=item)


@router.get(BOX_PATH + "/{delivery_id}/original.xml")
def original(request: Request, current: CurrentResident, delivery_id: str) -> Response:
    """The document as the sender signed it (XML with its enveloped signature)."""
    with transaction(request) as db:
        found = service.original(
            session=db, resident_id=current.resident_id, delivery_id=delivery_id
        )
    return Response(
        found.data,
        media_type="application/xml",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{found.filename}"'},
    )
