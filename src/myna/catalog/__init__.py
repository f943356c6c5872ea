"""ぴったりサービス: the procedure catalog and its search (e-applications: ``applications``).

Other contexts import only from here.
"""

from myna.catalog.domain import (
    Category,
    InvalidSearchError,
    LifeEvent,
    Procedure,
    ProcedureNotFoundError,
    ServiceCatalogFileError,
    normalise,
)
from myna.catalog.loader import ServiceCatalog, shipped_catalog
from myna.catalog.schemas import ProcedureRead, ProcedureSummary, SearchResultRead
from myna.catalog.service import get_procedure, search

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
