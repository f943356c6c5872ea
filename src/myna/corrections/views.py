"""The resident's correction pages: the form from わたしの情報, sending it, the answers.

``POST /my-info/corrections/new`` opens the form for one record (what the resident was
shown travels in the body, never in a URL); ``POST /my-info/corrections`` sends it (one
optional evidence file); ``GET /my-info/corrections`` lists the resident's requests and
the agencies' answers.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from myna import corrections, network
from myna.platform.forms import Posted, Upload
from myna.platform.sessions import CurrentResident, check_csrf
from myna.platform.web import get_container, templates_beside, transaction

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)
CORRECTIONS_PATH = "/my-info/corrections"
NO_STORE = {"Cache-Control": "no-store"}
CURRENT_PREFIX = "current."


def _shown(values: dict[str, str]) -> dict[str, str]:
    """What the resident was shown of each field (``current.<field>`` in the form)."""
    return {
        name.removeprefix(CURRENT_PREFIX): value
        for name, value in values.items()
        if name.startswith(CURRENT_PREFIX)
    }


def _form_page(
    request: Request,
    csrf_token: str,
    target: corrections.CorrectionTarget,
    values: dict[str, str],
    problems: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return templates.page(
        request,
        "corrections/form.html",
        status_code=status_code,
        headers=NO_STORE,
        csrf_token=csrf_token,
        target=target,
        values=values,
        problems=problems or {},
    )


@router.post(f"{CORRECTIONS_PATH}/new", response_class=HTMLResponse)
def new_correction(request: Request, current: CurrentResident, posted: Posted) -> Response:
    """The form for one record of わたしの情報, showing what the resident saw."""
    check_csrf(current, posted.get("csrf_token"))
    with transaction(request) as db:
        target = corrections.target(
            session=db,
            owner=posted.get("provider", "")[:64],
            item=posted.get("item", "")[:64],
            shown=_shown(posted),
        )
    return _form_page(request, current.csrf_token, target, {"field": ""})


@router.post(CORRECTIONS_PATH)
def send_correction(request: Request, current: CurrentResident, upload: Upload) -> Response:
    """Send the request through the hub; on a problem, the form again with what was typed."""
    values, file = upload
    data = b""
    filename = ""
    if file is not None:
        with file.file:  # the spooled temporary file is ours to close
            data = file.file.read(network.MAX_EVIDENCE_BYTES + 1)
        filename = file.filename or ""
    check_csrf(current, values.get("csrf_token"))
    field = values.get("field", "")[:64]
    draft = corrections.CorrectionDraft(
        owner=values.get("provider", "")[:64],
        item=values.get("item", "")[:64],
        field=field,
        # What the resident was shown of the field they chose (the form carries each).
        current=values.get(f"{CURRENT_PREFIX}{field}", "") if field else "",
        proposed=values.get("proposed", ""),
        reason=values.get("reason", ""),
        evidence=corrections.EvidenceUpload(filename=filename, data=data) if data else None,
    )
    try:
        with transaction(request) as db:
            corrections.file_correction(
                session=db,
                hub=get_container(request).hub_for(db),
                resident_id=current.resident_id,
                draft=draft,
            )
    except corrections.CorrectionFormError as error:
        with transaction(request) as db:
            target = corrections.target(
                session=db, owner=draft.owner, item=draft.item, shown=_shown(values)
            )
        return _form_page(
            request, current.csrf_token, target, values, error.problems, status_code=422
        )
    return RedirectResponse(f"{CORRECTIONS_PATH}?done=sent", status_code=303)


@router.get(CORRECTIONS_PATH, response_class=HTMLResponse)
def my_corrections(request: Request, current: CurrentResident, done: str = "") -> Response:
    """The resident's requests and the agencies' answers."""
    with transaction(request) as db:
        listed = corrections.corrections_of(session=db, resident_id=current.resident_id)
    return templates.page(
        request,
        "corrections/list.html",
        headers=NO_STORE,
        requests=listed,
        sent=done == "sent",
    )
