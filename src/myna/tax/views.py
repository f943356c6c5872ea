"""The resident's 確定申告 pages: start a year's return, agree to sources, see and correct it.

``GET /tax`` lists the returns and starts 令和7年分; ``/tax/{year}/gather`` lists each
source with what would be read and gathers only the ticked ones; ``/tax/{year}`` shows
every field with its source, a 「修正する」 form beside each, the spouse and relatives,
医療費控除 beside セルフメディケーション (``POST /tax/{year}/self-medication`` enters the
purchases, ``POST /tax/{year}/medical-choice`` chooses), the return of the year before and
the computation; ``/tax/{year}/corrections`` lists the corrections made;
``POST /tax/{year}/sign`` freezes the return for the card's signature and
``/tax/{year}/sign/{id}`` waits for it; once filed, the return page shows the receipt and
offers the copy (PDF), the filed data (XML) and the signed document with its signature.
Every form carries the session's CSRF token.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from myna.applications import submission
from myna.applications.resident_views import RequestId, signing_link
from myna.platform.errors import N_, MynaError
from myna.platform.forms import Posted, PostedMany, SettingsDep
from myna.platform.i18n import gettext as _
from myna.platform.params import RowId
from myna.platform.sessions import CurrentResident, check_csrf
from myna.platform.web import get_container, templates_beside, transaction
from myna.tax import etax, filing, service
from myna.tax.domain import MedicalChoice, TaxInputError

templates = templates_beside(__file__)
# A 年分: bounded, so a huge number never reaches the database.
TaxYear = Annotated[int, Path(ge=2000, le=2100)]
router = APIRouter(include_in_schema=False)
TAX_PATH = "/tax"
DEMO_YEAR = 2025  # 令和7年分: the year the portal offers to start
NO_STORE = {"Cache-Control": "no-store"}
_NOT_A_NUMBER = N_("Enter the amount in yen as a whole number, without the unit.")
_NO_CHOICE = N_("Choose the medical expense deduction or the self-medication deduction.")
SELF_MEDICATION_FORM = "self-medication"  # the panel's anchor, and where its problem shows


def _index(
    request: Request, current: CurrentResident, *, problem: str | None, status: int
) -> Response:
    with transaction(request) as db:
        found = service.tax_returns(session=db, resident_id=current.resident_id)
    return templates.page(
        request,
        "tax/index.html",
        status_code=status,
        headers=NO_STORE,
        csrf_token=current.csrf_token,
        tax_returns=found,
        tax_offer_year=DEMO_YEAR,
        tax_offer_name=service.nenbun(DEMO_YEAR),
        tax_offer_started=any(r.year == DEMO_YEAR for r in found),
        problem=problem,
    )


@router.get(TAX_PATH, response_class=HTMLResponse)
def index(request: Request, current: CurrentResident) -> Response:
    """The resident's returns and the year that can be started."""
    return _index(request, current, problem=None, status=200)


@router.post(TAX_PATH + "/{year}/start")
def start(request: Request, year: TaxYear, current: CurrentResident, posted: Posted) -> Response:
    """Start the year's return (the date of birth is asked through the hub), then gather."""
    check_csrf(current, posted.get("csrf_token"))
    try:
        with transaction(request) as db:
            service.start_return(
                session=db,
                hub=get_container(request).hub_for(db),
                resident_id=current.resident_id,
                year=year,
            )
    except MynaError as error:
        return _index(request, current, problem=error.localized(), status=error.status_code)
    return RedirectResponse(f"{TAX_PATH}/{year}/gather", status_code=303)


@router.get(TAX_PATH + "/{year}/gather", response_class=HTMLResponse)
def gather_page(request: Request, year: TaxYear, current: CurrentResident) -> Response:
    """Each source, item by item, with what would be read from it."""
    container = get_container(request)
    with transaction(request) as db:
        found = service.tax_return(session=db, resident_id=current.resident_id, year=year)
        offers = service.offers(
            session=db,
            documents=container.tax_documents,
            resident_id=current.resident_id,
            year=year,
        )
    return templates.page(
        request,
        "tax/gather.html",
        headers=NO_STORE,
        csrf_token=current.csrf_token,
        tax_return=found,
        tax_offers=offers,
    )


@router.post(TAX_PATH + "/{year}/gather")
def gather(
    request: Request, year: TaxYear, current: CurrentResident, posted: PostedMany
) -> Response:
    """Gather the ticked sources, and no other."""
    tokens = posted.get("csrf_token", [])
    check_csrf(current, tokens[0] if tokens else None)
    consents = service.Consents.from_keys(posted.get("source", []))
    container = get_container(request)
    with transaction(request) as db:
        report = service.gather(
            session=db,
            hub=container.hub_for(db),
            documents=container.tax_documents,
            resident_id=current.resident_id,
            year=year,
            consents=consents,
        )
    notes = ",".join(report.notes)
    query = "done=gathered" + (f"&notes={notes}" if notes else "")
    return RedirectResponse(f"{TAX_PATH}/{year}?{query}", status_code=303)


def _return_page(
    request: Request,
    current: CurrentResident,
    year: TaxYear,
    *,
    done: str,
    problem: str | None,
    problem_field: int | str | None,
    status: int,
    notes: str = "",
) -> Response:
    with transaction(request) as db:
        view = service.return_view(session=db, resident_id=current.resident_id, year=year)
        filed = filing.filing(session=db, resident_id=current.resident_id, year=year)
    return templates.page(
        request,
        "tax/return.html",
        status_code=status,
        headers=NO_STORE,
        csrf_token=current.csrf_token,
        tax_return=view.tax_return,
        tax_sections=service.field_sections(view.fields),
        tax_relatives=view.relatives,
        tax_medical=view.medical,
        tax_previous=view.previous,
        tax_notes=[note for note in notes.split(",") if note in service.GATHER_NOTES],
        tax_computation=view.computation,
        tax_computation_problem=view.problem.localized() if view.problem else None,
        tax_filing=filed,
        tax_xml_name=filing.xml_name(year),
        submission_key=submission.new_submission_key(),
        done=done,
        problem=problem,
        problem_field=problem_field,
    )


@router.get(TAX_PATH + "/{year}", response_class=HTMLResponse)
def return_page(
    request: Request, year: TaxYear, current: CurrentResident, done: str = "", notes: str = ""
) -> Response:
    """The return: every field with its source, and the computation."""
    return _return_page(
        request,
        current,
        year,
        done=done,
        problem=None,
        problem_field=None,
        status=200,
        notes=notes[:200],
    )


def _amount(text: str) -> int | None:
    cleaned = text.strip().replace(",", "").replace("円", "")
    sign = -1 if cleaned.startswith("-") else 1
    digits = cleaned.removeprefix("-")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        return None
    return sign * int(digits)


@router.post(TAX_PATH + "/{year}/fields/{field_id}")
def correct(
    request: Request, year: TaxYear, field_id: RowId, current: CurrentResident, posted: Posted
) -> Response:
    """Correct one field (the old and new values are recorded)."""
    check_csrf(current, posted.get("csrf_token"))
    value = _amount(posted.get("value", ""))
    if value is None:
        return _return_page(
            request,
            current,
            year,
            done="",
            problem=_(_NOT_A_NUMBER),
            problem_field=field_id,
            status=422,
        )
    try:
        with transaction(request) as db:
            service.correct_field(
                session=db,
                resident_id=current.resident_id,
                year=year,
                field_id=field_id,
                value=value,
            )
    except TaxInputError as error:
        return _return_page(
            request,
            current,
            year,
            done="",
            problem=error.localized(),
            problem_field=field_id,
            status=422,
        )
    return RedirectResponse(f"{TAX_PATH}/{year}?done=corrected#field-{field_id}", status_code=303)


def _self_medication_refused(
    request: Request, current: CurrentResident, year: int, problem: str, status: int
) -> Response:
    """The return page again, the problem beside the セルフメディケーション panel."""
    return _return_page(
        request,
        current,
        year,
        done="",
        problem=problem,
        problem_field=SELF_MEDICATION_FORM,
        status=status,
    )


@router.post(TAX_PATH + "/{year}/self-medication")
def self_medication(
    request: Request, year: TaxYear, current: CurrentResident, posted: Posted
) -> Response:
    """Enter what was spent on 特定一般用医薬品等 (a field entered by the resident)."""
    check_csrf(current, posted.get("csrf_token"))
    spent = _amount(posted.get("spent", ""))
    if spent is None:
        return _self_medication_refused(request, current, year, _(_NOT_A_NUMBER), 422)
    try:
        with transaction(request) as db:
            service.enter_self_medication(
                session=db, resident_id=current.resident_id, year=year, spent=spent
            )
    except TaxInputError as error:
        return _self_medication_refused(request, current, year, error.localized(), 422)
    return RedirectResponse(
        f"{TAX_PATH}/{year}?done=self-medication#{SELF_MEDICATION_FORM}", status_code=303
    )


@router.post(TAX_PATH + "/{year}/medical-choice")
def medical_choice(
    request: Request, year: TaxYear, current: CurrentResident, posted: Posted
) -> Response:
    """Choose 医療費控除 or セルフメディケーション税制 (one or the other)."""
    check_csrf(current, posted.get("csrf_token"))
    try:
        choice = MedicalChoice(posted.get("choice", ""))
    except ValueError:
        return _self_medication_refused(request, current, year, _(_NO_CHOICE), 422)
    try:
        with transaction(request) as db:
            service.choose_medical(
                session=db, resident_id=current.resident_id, year=year, choice=choice
            )
    except service.SelfMedicationNotEnteredError as error:
        return _self_medication_refused(
            request, current, year, error.localized(), error.status_code
        )
    return RedirectResponse(
        f"{TAX_PATH}/{year}?done=medical-choice#{SELF_MEDICATION_FORM}", status_code=303
    )


@router.get(TAX_PATH + "/{year}/corrections", response_class=HTMLResponse)
def corrections_page(request: Request, year: TaxYear, current: CurrentResident) -> Response:
    """Every correction of the return: the field, the old and new values, who and when."""
    with transaction(request) as db:
        found = service.tax_return(session=db, resident_id=current.resident_id, year=year)
        listed = service.corrections(session=db, resident_id=current.resident_id, year=year)
    return templates.page(
        request,
        "tax/corrections.html",
        headers=NO_STORE,
        tax_return=found,
        tax_corrections=listed,
    )


# --- signing and filing ------------------------------------------------------------------


@router.post(TAX_PATH + "/{year}/sign")
def sign(request: Request, year: TaxYear, current: CurrentResident, posted: Posted) -> Response:
    """Freeze the return for the card's signature; the same submission key, one request.

    A return that cannot be computed or a signing certificate that is revoked or expired
    is told on the return page, before any request exists.
    """
    check_csrf(current, posted.get("csrf_token"))
    try:
        with transaction(request) as db:
            view = filing.prepare_filing(
                session=db,
                hub=get_container(request).hub_for(db),
                resident_id=current.resident_id,
                year=year,
                submission_key=posted.get("submission_key", ""),
            )
    except MynaError as error:  # a TaxInputError too: the page says what to correct
        return _return_page(
            request,
            current,
            year,
            done="",
            problem=error.localized(),
            problem_field=None,
            status=error.status_code,
        )
    if view.done_path is not None:
        return RedirectResponse(view.done_path, status_code=303)
    return RedirectResponse(f"{TAX_PATH}/{year}/sign/{view.id}", status_code=303)


@router.get(TAX_PATH + "/{year}/sign/{request_id}", response_class=HTMLResponse)
def signing_page(
    request: Request,
    settings: SettingsDep,
    year: TaxYear,
    current: CurrentResident,
    request_id: RequestId,
) -> Response:
    """What the card will sign, the QR code and link to the card reader; waits for it."""
    with transaction(request) as db:
        view = submission.request_for_resident(
            session=db, request_id=request_id, resident_id=current.resident_id
        )
        state = submission.status(
            session=db, request_id=request_id, resident_id=current.resident_id
        )
    if view.purpose != filing.PURPOSE or view.document["data"]["year"] != year:
        raise submission.SigningRequestNotFoundError
    if view.done_path is not None:
        return RedirectResponse(view.done_path, status_code=303)
    return templates.page(
        request,
        "tax/signing.html",
        headers=NO_STORE,
        tax_year=year,
        tax_signing=view,
        tax_signing_state=state,
        tax_signing_answers=view.document["answers"],
        tax_signing_applicant=view.document["applicant"]["name"],
        tax_signing_attachments=view.document["attachments"],
        tax_signing_link=signing_link(settings.reader_url, settings.portal_url, view.id),
    )


def _download(filename: str) -> dict[str, str]:
    return {
        **NO_STORE,
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
    }


@router.get(TAX_PATH + "/{year}/return.pdf")
def copy_pdf(request: Request, year: TaxYear, current: CurrentResident) -> Response:
    """The filed return's copy (控え), with the receipt, as PDF."""
    settings = get_container(request).settings
    with transaction(request) as db:
        content = filing.copy_pdf(
            session=db, resident_id=current.resident_id, year=year, font_path=settings.pdf_font
        )
    return Response(
        content, media_type="application/pdf", headers=_download(f"income-tax-return-{year}.pdf")
    )


@router.get(TAX_PATH + "/{year}/return.xml")
def filed_xml(request: Request, year: TaxYear, current: CurrentResident) -> Response:
    """The return's data (e-Tax-shaped XML) exactly as filed."""
    with transaction(request) as db:
        content = filing.filed_xml(session=db, resident_id=current.resident_id, year=year)
    return Response(content, media_type=etax.MEDIA_TYPE, headers=_download(filing.xml_name(year)))


@router.get(TAX_PATH + "/{year}/signed.{extension}")
def signed_file(
    request: Request,
    year: TaxYear,
    current: CurrentResident,
    extension: Annotated[str, Path(pattern="^(json|p7s)$")],
) -> Response:
    """The signed document (``.json``) or the card's detached CMS signature (``.p7s``)."""
    with transaction(request) as db:
        content, signature = filing.signed_parts(
            session=db, resident_id=current.resident_id, year=year
        )
    name = f"income-tax-return-{year}.{extension}"
    if extension == "json":
        return Response(content, media_type="application/json", headers=_download(name))
    return Response(signature, media_type="application/pkcs7-signature", headers=_download(name))
