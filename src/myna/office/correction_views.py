"""Back-office pages for correction requests (訂正の申出) to the municipality's agencies.

``GET /office/corrections`` lists the requests (open first), ``GET /office/corrections/{id}``
shows one beside the records it questions, with its evidence
(``/office/corrections/{id}/evidence``); ``POST /office/corrections/{id}/answer``
corrects a record or declines, with the reason the resident will read, and sends the
answer through the hub. Another municipality's request is "not found".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from myna import agencies
from myna.office import corrections
from myna.office.views import templates
from myna.platform.errors import MynaError
from myna.platform.params import BigRowId
from myna.platform.sessions import CsrfField, CurrentStaff, StaffBrowser, as_staff, check_csrf
from myna.platform.web import get_container, transaction

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}
CorrectionId = Annotated[BigRowId, Path()]
STATUSES = {s.value: s for s in agencies.CorrectionStatus}


@router.get("/office/corrections", response_class=HTMLResponse)
def corrections_page(
    request: Request,
    current: CurrentStaff,
    status: Annotated[str, Query(pattern="^(open|corrected|not_corrected|all)?$")] = "open",
) -> Response:
    with transaction(request) as db:
        listed = corrections.queue(
            session=db, staff_id=current.staff_id, status=STATUSES.get(status)
        )
    return templates.page(
        request,
        "office/corrections.html",
        office_corrections=listed,
        office_correction_status=status or "open",
        headers=NO_STORE,
    )


def _detail_page(
    request: Request,
    csrf_token: str,
    detail: corrections.CorrectionDetail,
    *,
    error: str = "",
    done: bool = False,
    status_code: int = 200,
) -> Response:
    return templates.page(
        request,
        "office/corrections_detail.html",
        csrf_token=csrf_token,
        office_correction=detail,
        office_correction_error=error,
        office_correction_done=done,
        status_code=status_code,
        headers=NO_STORE,
    )


@router.get("/office/corrections/{correction_id}", response_class=HTMLResponse)
def correction_page(
    request: Request,
    current: CurrentStaff,
    correction_id: CorrectionId,
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    with transaction(request) as db:
        detail = corrections.detail(
            session=db, staff_id=current.staff_id, correction_id=correction_id
        )
    return _detail_page(request, current.csrf_token, detail, done=done == "answered")


@router.get("/office/corrections/{correction_id}/evidence")
def correction_evidence(
    request: Request, current: CurrentStaff, correction_id: CorrectionId
) -> Response:
    with transaction(request) as db:
        name, media_type, data = corrections.evidence(
            session=db, staff_id=current.staff_id, correction_id=correction_id
        )
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{ascii_name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/office/corrections/{correction_id}/answer", response_class=HTMLResponse)
def answer_correction(
    request: Request,
    browser: StaffBrowser,
    correction_id: CorrectionId,
    csrf_token: CsrfField = "",
    decision: Annotated[str, Form(pattern="^(corrected|not_corrected)$")] = "not_corrected",
    reason: Annotated[str, Form(max_length=2000)] = "",
    record_id: Annotated[BigRowId | None, Form()] = None,
    field: Annotated[str, Form(max_length=64)] = "",
    value: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    # The form's token first: a post without a logged-in session is refused as forged.
    current = check_csrf(as_staff(browser), csrf_token)
    form = corrections.AnswerForm(
        corrected=decision == "corrected",
        reason=reason,
        record_id=record_id,
        field=field,
        value=value,
    )
    with transaction(request) as db:
        hub = get_container(request).hub_for(db)
        try:
            # A savepoint: a refusal half-way undoes the correction, and the page renders.
            with db.begin_nested():
                corrections.answer(
                    session=db,
                    hub=hub,
                    staff_id=current.staff_id,
                    correction_id=correction_id,
                    form=form,
                )
        except MynaError as error:
            if error.status_code == 404:
                raise
            detail = corrections.detail(
                session=db, staff_id=current.staff_id, correction_id=correction_id
            )
            return _detail_page(
                request,
                current.csrf_token,
                detail,
                error=error.localized(),
                status_code=error.status_code,
            )
    return RedirectResponse(f"/office/corrections/{correction_id}?done=answered", status_code=303)
