"""Back-office page for 印鑑登録 (seal registration) at the counter.

``GET /office/seals`` shows two forms: register a seal (the card's ID, which the resident
presents, and the scanned imprint as a PNG) and cancel a registration (印鑑登録の廃止).
Only staff of the resident's own municipality may do either; a refusal (another
municipality's resident, an unknown card, an image against the rules, a seal already
registered) is shown on the page and nothing is written. Every form carries the
session's CSRF token.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations at
# definition time.

from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from myna.certificates import service
from myna.office import service as office
from myna.platform.errors import N_, MynaError
from myna.platform.forms import Posted, Upload
from myna.platform.sessions import CurrentStaff, check_csrf
from myna.platform.web import templates_beside, transaction

templates = templates_beside(__file__)
router = APIRouter(include_in_schema=False)
SEALS_PATH = "/office/seals"
NO_STORE = {"Cache-Control": "no-store"}
MAX_CARD_ID = 64
# The registry refuses images above 256 KB; the form reads at most this much.
MAX_IMAGE_BYTES = 256 * 1024 + 1


class NoSealImageError(MynaError, code="seal_image_missing"):
    message = N_("Choose the scanned seal imprint (a PNG file) to register.")


class CardIdMissingError(MynaError, code="seal_card_id_missing"):
    message = N_("Enter the card ID printed on the resident's card.")


@dataclass(frozen=True, slots=True)
class Done:
    """What the last form did, for the page's confirmation."""

    registered: bool
    holder_name: str
    registration_number: str = ""


def _municipality(request: Request, staff_id: int) -> tuple[str, str]:
    with transaction(request) as db:
        staff = office.get_staff(session=db, staff_id=staff_id)
        return staff.municipality_code, office.municipality_name(
            session=db, code=staff.municipality_code
        )


def _page(
    request: Request,
    current: CurrentStaff,
    name: str,
    *,
    done: Done | None = None,
    error: MynaError | None = None,
    card_id: str = "",
) -> Response:
    return templates.page(
        request,
        "certificates/office_seals.html",
        status_code=200 if error is None else error.status_code,
        headers=NO_STORE,
        csrf_token=current.csrf_token,
        certificates_office_municipality=name,
        certificates_office_done=done,
        certificates_office_card_id=card_id,
        error=None if error is None else error.localized(),
        return_path=SEALS_PATH,
    )


def _read(file: UploadFile | None) -> bytes:
    if file is None:
        return b""
    with file.file:
        return file.file.read(MAX_IMAGE_BYTES) if file.filename else b""


def _card_id(value: str | None) -> str:
    card_id = (value or "").strip()
    if not card_id or len(card_id) > MAX_CARD_ID:
        raise CardIdMissingError
    return card_id


@router.get(SEALS_PATH, response_class=HTMLResponse)
def seals_page(request: Request, current: CurrentStaff) -> Response:
    """The two forms: register a seal, cancel a registration."""
    _code, name = _municipality(request, current.staff_id)
    return _page(request, current, name)


@router.post(SEALS_PATH, response_class=HTMLResponse)
def register_seal(request: Request, current: CurrentStaff, upload: Upload) -> Response:
    """Register the imprint for the card's holder (a resident of this municipality)."""
    fields, file = upload
    image = _read(file)  # read (and closed) first, whatever happens next
    check_csrf(current, fields.get("csrf_token"))
    code, name = _municipality(request, current.staff_id)
    typed = (fields.get("card_id") or "").strip()[:MAX_CARD_ID]
    try:
        card_id = _card_id(fields.get("card_id"))
        if not image:
            raise NoSealImageError
        with transaction(request) as db:
            staff = office.get_staff(session=db, staff_id=current.staff_id)
            resident, seal = service.register_seal_at_counter(
                session=db,
                municipality_code=code,
                card_id=card_id,
                image_png=image,
                clerk=staff.login_id,
            )
    except MynaError as error:
        return _page(request, current, name, error=error, card_id=typed)
    done = Done(True, resident.full_name, seal.registration_number)
    return _page(request, current, name, done=done)


@router.post(f"{SEALS_PATH}/cancel", response_class=HTMLResponse)
def cancel_seal(request: Request, current: CurrentStaff, posted: Posted) -> Response:
    """印鑑登録の廃止 for the card's holder (a resident of this municipality)."""
    check_csrf(current, posted.get("csrf_token"))
    code, name = _municipality(request, current.staff_id)
    typed = (posted.get("card_id") or "").strip()[:MAX_CARD_ID]
    try:
        card_id = _card_id(posted.get("card_id"))
        with transaction(request) as db:
            resident = service.cancel_seal_at_counter(
                session=db, municipality_code=code, card_id=card_id
            )
    except MynaError as error:
        return _page(request, current, name, error=error, card_id=typed)
    return _page(request, current, name, done=Done(False, resident.full_name))
