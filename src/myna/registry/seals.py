"""印鑑登録 (seal registration) and 本籍 (registered domicile) of the resident registry.

A municipality registers one seal per resident at the counter: the imprint as a PNG
image, a registration number of its own (印鑑登録番号), the clerk who registered it;
the 印鑑登録証明書 prints the imprint. 本籍 and 筆頭者 are written on a 住民票の写し only
when asked for.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from myna.platform.db import utcnow
from myna.platform.errors import N_, MynaError, NotFoundError
from myna.registry.domain import ResidentStatus
from myna.registry.models import Resident, SealRegistration
from myna.registry.service import ResidentNotActiveError, ResidentNotFoundError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SEAL_BYTES = 256 * 1024
# A seal imprint is 8–25 mm across; scanned at 300–600 dpi that is about 90–600 pixels.
MIN_SEAL_PIXELS, MAX_SEAL_PIXELS = 32, 1200


class InvalidSealImageError(MynaError, code="invalid_seal_image"):
    """The seal imprint is not a PNG image of a usable size."""

    message = N_(
        "The seal imprint must be a PNG image of at most 256 KB, between 32 and 1200 "
        "pixels wide and high. Scan the imprint again and upload it."
    )


class SealAlreadyRegisteredError(MynaError, code="seal_already_registered", status_code=409):
    """The resident has a seal registered already (one per person)."""

    message = N_(
        "This resident already has a registered seal. Cancel that registration first "
        "to register another."
    )


class SealNotRegisteredError(NotFoundError, code="seal_not_registered"):
    """No seal stands registered for the resident."""

    message = N_(
        "No seal is registered for this resident. Register one at the municipal office "
        "counter first."
    )


@dataclass(frozen=True, slots=True)
class SealRead:
    """A standing seal registration as the certificate prints it."""

    resident_id: int
    municipality_code: str
    registration_number: str
    image_png: bytes
    image_sha256: str
    registered_at: datetime
    registered_by: str


def check_seal_image(data: bytes) -> bytes:
    """``data`` if it is a PNG seal imprint of a usable size, else InvalidSealImageError.

    The signature bytes are checked first; Pillow then decodes the whole image (a
    truncated or forged file fails) and reads its size.
    """
    if not data or len(data) > MAX_SEAL_BYTES or not data.startswith(PNG_SIGNATURE):
        raise InvalidSealImageError
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415 - only the counter needs it

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise InvalidSealImageError
            width, height = image.size
            if not all(MIN_SEAL_PIXELS <= side <= MAX_SEAL_PIXELS for side in (width, height)):
                raise InvalidSealImageError
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidSealImageError from exc
    return data


def _active_resident(session: Session, resident_id: int) -> Resident:
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise ResidentNotFoundError
    if resident.status != ResidentStatus.ACTIVE.value:
        raise ResidentNotActiveError
    return resident


def _standing(session: Session, resident_id: int) -> SealRegistration | None:
    return session.scalar(
        select(SealRegistration).where(
            SealRegistration.resident_id == resident_id,
            SealRegistration.cancelled_at.is_(None),
        )
    )


def register_seal(
    *, session: Session, resident_id: int, image_png: bytes, registered_by: str
) -> SealRead:
    """印鑑登録: register the resident's seal with its municipality; a number is given."""
    resident = _active_resident(session, resident_id)
    image = check_seal_image(image_png)
    if _standing(session, resident_id) is not None:
        raise SealAlreadyRegisteredError
    count = session.scalar(
        select(func.count())
        .select_from(SealRegistration)
        .where(SealRegistration.municipality_code == resident.municipality_code)
    )
    row = SealRegistration(
        resident_id=resident_id,
        municipality_code=resident.municipality_code,
        registration_number=f"{(count or 0) + 1:08d}",
        image_png=image,
        image_sha256=hashlib.sha256(image).hexdigest(),
        registered_at=utcnow(),
        registered_by=registered_by[:64],
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:  # a number taken by a concurrent registration
        raise SealAlreadyRegisteredError from exc
    return _read(row)


def cancel_seal(*, session: Session, resident_id: int) -> None:
    """印鑑登録の廃止: the registration stops; certificates issued before show it cancelled."""
    row = _standing(session, resident_id)
    if row is None:
        raise SealNotRegisteredError
    row.cancelled_at = utcnow()
    session.flush()


def seal_of(*, session: Session, resident_id: int) -> SealRead:
    """The resident's standing seal registration, or SealNotRegisteredError."""
    row = _standing(session, resident_id)
    if row is None:
        raise SealNotRegisteredError
    return _read(row)


def seal_cancelled_since(*, session: Session, resident_id: int, after: datetime) -> bool:
    """Whether the registration that stood at ``after`` has been cancelled since."""
    cancelled = session.scalar(
        select(func.count())
        .select_from(SealRegistration)
        .where(
            SealRegistration.resident_id == resident_id,
            SealRegistration.registered_at <= after,
            SealRegistration.cancelled_at.is_not(None),
            SealRegistration.cancelled_at >= after,
        )
    )
    return bool(cancelled)


def _read(row: SealRegistration) -> SealRead:
    return SealRead(
        resident_id=row.resident_id,
        municipality_code=row.municipality_code,
        registration_number=row.registration_number,
        image_png=row.image_png,
        image_sha256=row.image_sha256,
        registered_at=row.registered_at,
        registered_by=row.registered_by,
    )


@dataclass(frozen=True, slots=True)
class Domicile:
    """本籍 and 筆頭者 as recorded."""

    domicile: str
    head: str


def domicile_of(*, session: Session, resident_id: int) -> Domicile | None:
    """The resident's 本籍 and 筆頭者, or None where none is recorded."""
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise ResidentNotFoundError
    if not resident.domicile:
        return None
    return Domicile(resident.domicile, resident.domicile_head or "")


def record_domicile(*, session: Session, resident_id: int, domicile: str, head: str) -> None:
    """Record the resident's 本籍 and 筆頭者."""
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise ResidentNotFoundError
    resident.domicile, resident.domicile_head = domicile[:200], head[:64]
    session.flush()


def my_number_for_own_copy(*, session: Session, resident_id: int) -> str:
    """The MyNumber for the resident's own 住民票の写し, printed at their explicit request.

    Only the certificates context calls this, for a copy the resident asks for
    themselves through a door where they proved who they are (番号法 第7条).
    """
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise ResidentNotFoundError
    return resident.my_number
