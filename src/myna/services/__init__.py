"""ぴったりサービス: the procedure catalog and its search (e-applications come later).

Other contexts import only from here.
"""

from myna.services.catalog import ServiceCatalog, shipped_catalog
from myna.services.domain import (
    Category,
    InvalidSearchError,
    LifeEvent,
    Procedure,
    ProcedureNotFoundError,
    ServiceCatalogFileError,
    normalise,
)
from myna.services.schemas import ProcedureRead, ProcedureSummary, SearchResultRead
from myna.services.service import get_procedure, search

__all__ = [
    "Category",
    "InvalidSearchError",
    "LifeEvent",
    "Procedure",
    "ProcedureNotFoundError",
    "ProcedureRead",
    "ProcedureSummary",
    "SearchResultRead",
    "ServiceCatalog",
    "ServiceCatalogFileError",
    "get_procedure",
    "normalise",
    "search",
    "shipped_catalog",
]
