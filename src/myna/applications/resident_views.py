"""Residents' application pages: pre-fill, files, signing, receipts and 申請履歴.

``POST /apply/{m}/{code}/prefill`` fills agreed groups from わたしの情報 (through the hub),
``.../attachments`` adds or removes a file, ``.../sign`` freezes the checked draft into a
signing request; ``/apply/sign/{id}`` waits for the card reader (QR code or link, like
the login) and moves on to the receipt; ``/applications`` lists the resident's filings
and ``/applications/{receipt}`` shows one with its history and the signed files. Every
page needs the resident's login, or a proxy's acting for them with the apply scope
(``proxy.ActingForApply``), and shows only the resident's own filings.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

import io
from typing import Annotated, Any
from urllib.parse import quote

import segno
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from myna import proxy
from myna.applications import forms, submission
from myna.applications import service as applications
from myna.applications.domain import (
    MAX_APPLICATION_ATTACHMENT_BYTES,
    ApplicationStatus,
    parse_receipt_number,
)
from myna.applications.views import (
    NO_STORE,
    Code,
    Municipality,
    PostedDraft,
    form_page,
    keep_typed,
    review_page,
    templates,
)
from myna.platform.forms import PostedMany, SettingsDep, Upload
from myna.platform.params import PageNumber, RowId
from myna.platform.sessions import check_csrf
from myna.platform.web import get_container, transaction

RequestId = Annotated[str, Path(min_length=20, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Receipt = Annotated[str, Path(min_length=16, max_length=24)]
router = APIRouter(include_in_schema=False)


def signing_link(reader_url: str, portal_url: str, request_id: str) -> str:
    """The link (and QR content) that opens the card reader on this signing request."""
    request_uri = f"{portal_url.rstrip('/')}/api/signing-requests/{request_id}"
    return f"{reader_url.rstrip('/')}/sign?request_uri={quote(request_uri, safe='')}"


def _download(filename: str) -> dict[str, str]:
    return {
        **NO_STORE,
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
    }


def _readable(
    code: str, data: dict[str, Any], labels: dict[str, str] | None = None
) -> list[forms.ReadableGroup]:
    form = forms.checked_forms().get(code)
    return [] if form is None else forms.readable(form, data, labels)


# --- pre-fill and attachments of a draft ------------------------------------------


@router.post("/apply/{municipality}/{code}/prefill")
def prefill(
    request: Request,
    current: proxy.ActingForApply,
    municipality: Municipality,
    code: Code,
    posted: PostedMany,
) -> Response:
    """Fill the agreed groups through the hub; the exchange shows in やりとり履歴."""
    check_csrf(current, next(iter(posted.get("csrf_token", [])), None))
    with transaction(request) as db:
        submission.prefill(
            session=db,
            hub=get_container(request).hub_for(db),
            resident_id=current.resident_id,
            municipality_code=municipality,
            code=code,
            group_titles=posted.get("group", [])[:20],
            proxy_id=current.proxy_id,
        )
    return RedirectResponse(f"/apply/{municipality}/{code}?done=prefilled", status_code=303)


@router.post("/apply/{municipality}/{code}/attachments")
def attach(
    request: Request,
    current: proxy.ActingForApply,
    municipality: Municipality,
    code: Code,
    upload: Upload,
) -> Response:
    """Attach a file, keeping what was typed in the form (the attach button is the form's).

    A refused file shows the form again with the reason beside the file input.
    """
    values, file = upload
    data = b""
    if file is not None:
        with file.file:  # the spooled temporary file is ours to close
            data = file.file.read(MAX_APPLICATION_ATTACHMENT_BYTES + 1)
    check_csrf(current, values.get("csrf_token"))
    name = "" if file is None else (file.filename or "")
    with transaction(request) as db:
        keep_typed(
            db,
            resident_id=current.resident_id,
            municipality=municipality,
            code=code,
            values=values,
        )
        try:
            if not name and not data:
                raise submission.NoFileChosenError
            with db.begin_nested():
                submission.add_attachment(
                    session=db,
                    resident_id=current.resident_id,
                    municipality_code=municipality,
                    code=code,
                    name=name,
                    media_type="" if file is None else (file.content_type or ""),
                    data=data,
                )
        except submission.AttachmentProblemError as error:
            return form_page(
                request,
                db,
                resident_id=current.resident_id,
                municipality=municipality,
                code=code,
                csrf_token=current.csrf_token,
                problem=error.localized(),
                status_code=error.status_code,
            )
    return RedirectResponse(
        f"/apply/{municipality}/{code}?done=attached#attachments", status_code=303
    )


@router.post("/apply/{municipality}/{code}/attachments/{attachment_id}/delete")
def detach(
    request: Request, draft: PostedDraft, attachment_id: Annotated[RowId, Path()]
) -> Response:
    """Remove a file, keeping what was typed in the form."""
    with transaction(request) as db:
        keep_typed(
            db,
            resident_id=draft.resident_id,
            municipality=draft.municipality,
            code=draft.code,
            values=draft.values,
        )
        submission.remove_attachment(
            session=db,
            resident_id=draft.resident_id,
            municipality_code=draft.municipality,
            code=draft.code,
            attachment_id=attachment_id,
        )
    return RedirectResponse(
        f"/apply/{draft.municipality}/{draft.code}?done=removed#attachments", status_code=303
    )


# --- from the checked draft to the card's signature --------------------------------


@router.post("/apply/{municipality}/{code}/sign")
def sign(request: Request, draft: PostedDraft) -> Response:
    """Freeze the checked draft; the same submission key always leads to one request.

    A signing certificate that is revoked or expired is caught here, before a request
    exists: the review comes back with what to do.
    """
    with transaction(request) as db:
        try:
            view = submission.prepare(
                session=db,
                procedures=get_container(request).procedures,
                resident_id=draft.resident_id,
                municipality_code=draft.municipality,
                code=draft.code,
                submission_key=draft.values.get("submission_key", ""),
                proxy_id=draft.proxy_id,
            )
        except submission.SigningCertificateError as error:
            return review_page(
                request,
                db,
                resident_id=draft.resident_id,
                municipality=draft.municipality,
                code=draft.code,
                csrf_token=draft.csrf_token,
                problem=error.localized(),
                status_code=error.status_code,
                proxy_id=draft.proxy_id,
            )
    if view.receipt_number is not None:
        return RedirectResponse(f"/applications/{view.receipt_number}", status_code=303)
    return RedirectResponse(f"/apply/sign/{view.id}", status_code=303)


@router.get("/apply/sign/{request_id}", response_class=HTMLResponse)
def signing_page(
    request: Request, settings: SettingsDep, current: proxy.ActingForApply, request_id: RequestId
) -> Response:
    with transaction(request) as db:
        view = submission.request_for_resident(
            session=db, request_id=request_id, resident_id=current.resident_id
        )
        state = submission.status(
            session=db, request_id=request_id, resident_id=current.resident_id
        )
    if view.done_path is not None:
        return RedirectResponse(view.done_path, status_code=303)
    if view.purpose != submission.APPLICATION:
        raise submission.SigningRequestNotFoundError  # its own context shows it
    document = view.document
    return templates.page(
        request,
        "applications/signing.html",
        signing=view,
        signing_state=state,
        signing_form=f"/apply/{view.municipality_code}/{view.procedure_code}",
        signing_answers=forms.document_answers(document),
        signing_attachments=document["attachments"],
        signing_applicant=document["applicant"]["name"],
        signing_proxy=document.get("proxy", {}).get("name"),
        signing_link=signing_link(settings.reader_url, settings.portal_url, view.id),
        headers=NO_STORE,
    )


@router.get("/apply/sign/{request_id}/qr.svg")
def signing_qr(
    request: Request, settings: SettingsDep, current: proxy.ActingForApply, request_id: RequestId
) -> Response:
    with transaction(request) as db:
        submission.request_for_resident(
            session=db, request_id=request_id, resident_id=current.resident_id
        )
    qr = segno.make(signing_link(settings.reader_url, settings.portal_url, request_id))
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=5, border=2, dark="#111", light="#fff", xmldecl=True)
    return Response(buffer.getvalue(), media_type="image/svg+xml", headers=NO_STORE)


@router.get("/apply/sign/{request_id}/status")
def signing_status(
    request: Request, current: proxy.ActingForApply, request_id: RequestId
) -> Response:
    with transaction(request) as db:
        state = submission.status(
            session=db, request_id=request_id, resident_id=current.resident_id
        )
    return JSONResponse(state, headers=NO_STORE)


# --- 申請履歴: the resident's filings, one filing, its signed files ---------------


@router.get("/applications", response_class=HTMLResponse)
def application_list(
    request: Request,
    current: proxy.ActingForApply,
    page: Annotated[PageNumber, Query()] = 1,
) -> Response:
    with transaction(request) as db:
        found = applications.list_applications(
            session=db, resident_id=current.resident_id, page=page
        )
    return templates.page(
        request, "applications/applications.html", application_page=found, headers=NO_STORE
    )


@router.get("/applications/{receipt}", response_class=HTMLResponse)
def application_detail(
    request: Request, current: proxy.ActingForApply, receipt: Receipt
) -> Response:
    with transaction(request) as db:
        filed = applications.get_application(
            session=db, receipt_number=receipt, resident_id=current.resident_id
        )
        events = applications.history(session=db, application_id=filed.id, for_resident=True)
        files = applications.attachments(session=db, application_id=filed.id)
        form = forms.checked_forms().get(filed.procedure_code)
        names = {} if form is None else forms.labels(session=db, form=form, data=filed.data)
    return templates.page(
        request,
        "applications/application.html",
        application=filed,
        application_events=events,
        application_files=files,
        application_answers=_readable(filed.procedure_code, filed.data, names),
        application_needs_correction=filed.status is ApplicationStatus.CORRECTION_REQUESTED,
        headers=NO_STORE,
    )


@router.get("/applications/{receipt}/application.{extension}")
def signed_file(
    request: Request,
    current: proxy.ActingForApply,
    receipt: Receipt,
    extension: Annotated[str, Path(pattern="^(json|p7s)$")],
) -> Response:
    """The signed document (``.json``) or its detached CMS signature (``.p7s``)."""
    with transaction(request) as db:
        filed = applications.get_application(
            session=db, receipt_number=receipt, resident_id=current.resident_id
        )
        content, signature = applications.signed_parts(session=db, application_id=filed.id)
    name = f"{parse_receipt_number(receipt)}.{extension}"
    if extension == "json":
        return Response(content, media_type="application/json", headers=_download(name))
    return Response(signature, media_type="application/pkcs7-signature", headers=_download(name))
