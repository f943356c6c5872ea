"""The municipalities (市区町村) by 全国地方公共団体コード: reference data every context may read.

The registry loads the list (総務省's CSV) and its residents point at it; the agencies'
directory names each municipality's own agencies from it. The check digit is the
official rule: 総務省「全国地方公共団体コード」(昭和43年 自治省行政局長通知), modulus 11
with weights 6..2.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from myna.platform.errors import N_, NotFoundError
from myna.reference.domain import validate_municipality_code
from myna.reference.models import Municipality
from myna.reference.repository import municipalities_by_code, municipality_values
from myna.reference.repository import ordered as _ordered
from myna.reference.repository import prefectures as _prefectures
from myna.reference.schemas import MunicipalityRead

__all__ = [
    "MunicipalityNotFoundError",
    "get_municipality",
    "list_municipalities",
    "list_prefectures",
    "require_municipality",
]


class MunicipalityNotFoundError(NotFoundError, code="municipality_not_found"):
    """A local government code that is valid but not in the registry."""

    message = N_(
        "The municipality {code} is not in the registry. Load the official municipality "
        "list (myna registry municipalities load) or check the code."
    )


# -- reads -------------------------------------------------------------------------------


def list_municipalities(
    *, session: Session, prefecture_code: str | None = None
) -> list[MunicipalityRead]:
    """Municipalities in code order, optionally those of one prefecture (都道府県)."""
    return [_municipality_read(m) for m in _ordered(session, prefecture_code)]


def list_prefectures(*, session: Session) -> list[tuple[str, str]]:
    """The prefectures (都道府県) the registry has municipalities in: (code, name) by code."""
    return _prefectures(session)


def get_municipality(*, session: Session, code: str) -> MunicipalityRead:
    """One municipality by its local government code."""
    code = validate_municipality_code(code)
    found = municipality_values(session, code)
    if found is None:
        raise MunicipalityNotFoundError(code=code)
    return MunicipalityRead.model_validate(found)


def require_municipality(*, session: Session, code: str) -> Municipality:
    """The municipality row ``code`` (for the registry's writes), or not found."""
    code = validate_municipality_code(code)
    found = municipalities_by_code(session, [code]).get(code)
    if found is None:
        raise MunicipalityNotFoundError(code=code)
    return found


def _municipality_read(municipality: Municipality) -> MunicipalityRead:
    return MunicipalityRead.model_validate(municipality)
