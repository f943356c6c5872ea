"""Reference data every context may read: municipalities and the register's code lists.

全国地方公共団体コード (the municipality list and its check digit), 性別 (ISO/IEC 5218)
and 続柄 (relation to the head of household). The registry owns the residents that
point at them; the agencies name municipal agencies from them; neither imports the other.
"""

from myna.reference.domain import (
    MUNICIPALITY_CODE_LENGTH,
    InvalidMunicipalityCodeError,
    Relation,
    Sex,
    municipality_check_digit,
    normalise_digits,
    validate_municipality_code,
)
from myna.reference.municipalities import (
    MunicipalityNotFoundError,
    get_municipality,
    list_municipalities,
    require_municipality,
)
from myna.reference.repository import municipalities_by_code
from myna.reference.schemas import MunicipalityRead

__all__ = [
    "MUNICIPALITY_CODE_LENGTH",
    "InvalidMunicipalityCodeError",
    "MunicipalityNotFoundError",
    "MunicipalityRead",
    "Relation",
    "Sex",
    "get_municipality",
    "list_municipalities",
    "municipalities_by_code",
    "municipality_check_digit",
    "normalise_digits",
    "require_municipality",
    "validate_municipality_code",
]
