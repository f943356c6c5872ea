"""接種証明書 pages: the resident's certificates, and the open verifier.

``GET /vaccination`` lists the vaccines the municipality's register holds doses of;
``GET /vaccination/certificates/{vaccine}`` issues both certificates of one and shows
their QR codes, to save or download. ``/vaccination/verify`` is public: anyone pastes
the text of a code or uploads its picture and learns what it certifies, or why not.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

import base64
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse

from myna.platform.errors import MynaError
from myna.platform.forms import Upload
from myna.platform.sessions import CurrentResident
from myna.platform.web import get_container, templates_beside, transaction
from myna.vaccination import qr, service
from myna.vaccination.domain import MAX_PAYLOAD_CHARS, CertificateRejectedError

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)
INDEX_PATH = "/vaccination"
VERIFY_PATH = "/vaccination/verify"
NO_STORE = {"Cache-Control": "no-store"}
Slug = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[a-z0-9-]+$")]


@router.get(INDEX_PATH, response_class=HTMLResponse)
def vaccinations(request: Request, current: CurrentResident) -> Response:
    """The vaccines a certificate can be issued for (the register is read through the hub)."""
    with transaction(request) as db:
        found = service.vaccines_of(
            session=db, hub=get_container(request).hub_for(db), resident_id=current.resident_id
        )
    return templates.page(request, "vaccination/index.html", headers=NO_STORE, vax_vaccines=found)


@router.get(VERIFY_PATH, response_class=HTMLResponse)
def verify_page(request: Request) -> Response:
    """The open verifier: paste a code's text or upload its picture."""
    return templates.page(request, "vaccination/verify.html", vax_result=None)


@router.post(VERIFY_PATH, response_class=HTMLResponse)
def verify(request: Request, upload: Upload) -> Response:
    """Check a presented certificate and show what it certifies, or why it is refused."""
    fields, image = upload
    # A longer text is refused as too large; the rest of it need not be kept.
    text = fields.get("payload", "").strip()[: MAX_PAYLOAD_CHARS + 1]
    picture = b""
    if image is not None:
        try:
            picture = image.file.read(qr.MAX_IMAGE_BYTES + 1)
        finally:
            image.file.close()
    try:
        payload = text or (qr.decode_image(picture) if picture else "")
        if not payload:
            return templates.page(
                request, "vaccination/verify.html", status_code=400, vax_result=None, vax_empty=True
            )
        with transaction(request) as db:
            result = service.verify(
                session=db, settings=get_container(request).settings, text=payload
            )
    except CertificateRejectedError as error:
        return templates.page(
            request,
            "vaccination/verify.html",
            status_code=422,
            vax_result=None,
            vax_problem=error.localized(),
        )
    return templates.page(request, "vaccination/verify.html", vax_result=result)


@router.get(INDEX_PATH + "/certificates/{slug}", response_class=HTMLResponse)
def certificate(request: Request, current: CurrentResident, slug: Slug) -> Response:
    """Issue the certificates of one vaccine and show their QR codes."""
    try:
        with transaction(request) as db:
            issued = service.issue(
                session=db,
                hub=get_container(request).hub_for(db),
                settings=get_container(request).settings,
                resident_id=current.resident_id,
                slug=slug,
            )
    except MynaError as error:
        return templates.page(
            request,
            "vaccination/certificate.html",
            status_code=error.status_code,
            headers=NO_STORE,
            vax_issued=None,
            vax_problem=error.localized(),
        )
    shc_png = qr.png(qr.shc_code(issued.shc_qr))
    vds_png = qr.png(qr.vds_code(issued.vds), scale=6) if issued.vds is not None else None
    card_file = (
        '{"verifiableCredential":["' + issued.shc_jws + '"]}'
    )  # application/smart-health-card (the spec's file download)
    return templates.page(
        request,
        "vaccination/certificate.html",
        headers=NO_STORE,
        vax_issued=issued,
        vax_problem=None,
        vax_shc_image=qr.data_uri(shc_png),
        vax_vds_image=qr.data_uri(vds_png) if vds_png is not None else None,
        vax_card_file="data:application/smart-health-card;base64,"
        + base64.b64encode(card_file.encode()).decode("ascii"),
        vax_vds_file=(
            "data:application/json;base64,"
            + base64.b64encode(issued.vds.encode("utf-8")).decode("ascii")
            if issued.vds is not None
            else None
        ),
    )
