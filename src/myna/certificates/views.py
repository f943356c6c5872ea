"""The certificates' pages: the public verification page and the resident's request page.

``/certificates/verify`` needs no login: anyone holding a certificate (a bank, a landlord)
uploads the PDF and reads who issued it, what it is, when, and whether it still stands;
the QR code on each PDF leads here with ``?number=``, which alone tells what can be said
without the file. Verifying changes nothing, so its form carries no CSRF token.

``/certificates`` is the logged-in resident's own request page: the form and its options
(members of their own household only, the MyNumber only for themself), the fee, and the
signed PDF as the answer.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

import re
from datetime import datetime

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from myna.certificates import service
from myna.certificates.domain import FEES, CertificateKind, Door, parse_request
from myna.platform.clock import JST
from myna.platform.errors import N_, MynaError
from myna.platform.forms import PostedMany, Upload
from myna.platform.i18n import gettext as _
from myna.platform.sessions import CurrentResident, check_csrf
from myna.platform.wareki import format_wareki
from myna.platform.web import get_container, templates_beside, transaction

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)
VERIFY_PATH = service.VERIFY_PATH
REQUEST_PATH = "/certificates"
NO_STORE = {"Cache-Control": "no-store"}
# A signed certificate is one page, well under this; the body limit (1 MiB) is above it.
MAX_VERIFY_BYTES = 768 * 1024
NUMBER = re.compile(r"^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$")


class BadNumberError(MynaError, code="certificate_bad_number"):
    message = N_(
        "A certificate number is four groups of four letters and digits, like "
        "ABCD-EFGH-JKLM-NPQR. Check the number printed on the certificate."
    )


class TooLargeError(MynaError, code="certificate_pdf_too_large", status_code=413):
    message = N_(
        "The file is larger than 768 KB: a certificate issued through Myna is much "
        "smaller. Upload the PDF exactly as you received it."
    )


class NoFileError(MynaError, code="certificate_pdf_missing"):
    message = N_("Choose the certificate's PDF file to check.")


def kind_label(kind: CertificateKind) -> str:
    """A form's name in the reader's language."""
    labels = {
        CertificateKind.RESIDENT_RECORD: _("Copy of the residence record (住民票の写し)"),
        CertificateKind.SEAL: _("Seal registration certificate (印鑑登録証明書)"),
        CertificateKind.TAX: _("Tax and income certificate (課税（所得）証明書)"),
    }
    return labels[kind]


def _signed_at(moment: datetime) -> str:
    local = moment.astimezone(JST)
    return f"{format_wareki(local.date())} {local:%H:%M}"


def _verify_page(
    request: Request,
    *,
    number: str = "",
    status: service.IssuanceStatus | None = None,
    verified: service.VerifiedCertificate | None = None,
    error: MynaError | None = None,
) -> Response:
    shown = status or (verified.status if verified else None)
    return templates.page(
        request,
        "certificates/verify.html",
        status_code=200 if error is None else error.status_code,
        headers=NO_STORE,
        certificates_number=number,
        certificates_status=shown,
        certificates_kind_label=kind_label(shown.kind) if shown else "",
        certificates_verified=verified,
        certificates_signed_at=_signed_at(verified.signature.signed_at) if verified else "",
        certificates_max_kb=MAX_VERIFY_BYTES // 1024,
        error=None if error is None else error.localized(),
        return_path=VERIFY_PATH,
    )


@router.get(VERIFY_PATH, response_class=HTMLResponse)
def verify_page(request: Request, number: str = "") -> Response:
    """The verification page; with ``?number=`` what is known of that certificate."""
    number = number.strip().upper()[:40]
    if not number:
        return _verify_page(request)
    if not NUMBER.fullmatch(number):
        return _verify_page(request, error=BadNumberError())
    try:
        with transaction(request) as db:
            status = service.issuance_status(session=db, number=number)
    except MynaError as error:
        return _verify_page(request, number=number, error=error)
    return _verify_page(request, number=number, status=status)


@router.post(VERIFY_PATH, response_class=HTMLResponse)
def verify_upload(request: Request, upload: Upload) -> Response:
    """Check an uploaded certificate: the signature offline, then its issuance's status."""
    _fields, file = upload
    if file is None:
        return _verify_page(request, error=NoFileError())
    with file.file:
        document = file.file.read(MAX_VERIFY_BYTES + 1) if file.filename else b""
    if len(document) > MAX_VERIFY_BYTES:
        return _verify_page(request, error=TooLargeError())
    if not document:
        return _verify_page(request, error=NoFileError())
    try:
        with transaction(request) as db:
            verified = service.verify(session=db, document=document)
    except MynaError as error:
        return _verify_page(request, error=error)
    return _verify_page(request, verified=verified)


# The resident's own request page.


def _request_page(
    request: Request,
    current: CurrentResident,
    *,
    error: MynaError | None = None,
    chosen: dict[str, list[str]] | None = None,
) -> Response:
    with transaction(request) as db:
        household = service.household_of(session=db, resident_id=current.resident_id)
    fees = FEES[Door.PORTAL]
    return templates.page(
        request,
        "certificates/request.html",
        status_code=200 if error is None else error.status_code,
        headers=NO_STORE,
        csrf_token=current.csrf_token,
        certificates_household=household,
        certificates_self_id=current.resident_id,
        certificates_kinds=[(kind.value, kind_label(kind), fees[kind]) for kind in CertificateKind],
        certificates_chosen=chosen or {},
        error=None if error is None else error.localized(),
        return_path=REQUEST_PATH,
    )


@router.get(REQUEST_PATH, response_class=HTMLResponse)
def request_page(request: Request, current: CurrentResident) -> Response:
    """The form: which certificate, which options, the fee."""
    return _request_page(request, current)


@router.post(REQUEST_PATH)
def request_certificate(request: Request, current: CurrentResident, posted: PostedMany) -> Response:
    """Issue the chosen certificate of the resident: the signed PDF, as a download."""
    check_csrf(current, (posted.get("csrf_token") or [""])[0])

    def one(name: str) -> str:
        return (posted.get(name) or [""])[0]

    container = get_container(request)
    try:
        kind, options = parse_request(
            kind=one("kind"),
            scope=one("scope"),
            members=posted.get("members") or [],
            relation=one("relation") == "yes",
            domicile=one("domicile") == "yes",
            my_number=one("my_number") == "yes",
        )
        with transaction(request) as db:
            issued = service.issue(
                session=db,
                settings=container.settings,
                hub=container.hub_for(db),
                resident_id=current.resident_id,
                kind=kind,
                door=Door.PORTAL,
                options=options,
            )
    except MynaError as error:
        return _request_page(request, current, error=error, chosen=posted)
    return Response(
        issued.pdf,
        media_type="application/pdf",
        headers={
            **NO_STORE,
            "Content-Disposition": f'attachment; filename="certificate-{issued.number}.pdf"',
            "X-Myna-Certificate-Number": issued.number,
        },
    )
