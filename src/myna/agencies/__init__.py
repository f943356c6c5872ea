"""Agencies' intermediate servers (中間サーバー): the catalog, the replica stores, the data.

Other contexts import only from here:

* the catalog — agencies, categories, item schemas, procedures (事務) and the
  authorization table, loaded from ``data/*.toml`` and validated (:func:`load_catalog`);
* the replica store of each agency, keyed by link codes (:func:`upsert_records`,
  :func:`answer_query`);
* consistent synthetic records for a synthetic population (:func:`generate_records`,
  :func:`seed_agency_data`).
"""

from myna.agencies.catalog import Catalog, load_catalog, parse_catalog
from myna.agencies.domain import (
    EVERY_ITEM,
    PORTAL_AGENCY,
    Agency,
    AgencyKind,
    AuthorizationRule,
    AuthorizationTable,
    CatalogFileError,
    Category,
    Decision,
    FieldSpec,
    FieldType,
    InvalidPayloadError,
    ItemNotProvidedError,
    ItemSchema,
    NotAuthorizedError,
    Procedure,
    ProviderSpec,
    Requester,
    UnknownAgencyError,
    UnknownItemError,
    koki_agency_code,
    kokuho_agency_code,
    municipality_agency_code,
    served_area,
    validate_payload,
)
from myna.agencies.schemas import ItemRecord, RecordWrite, SeedReport
from myna.agencies.service import (
    agency_directory,
    answer_query,
    count_records,
    remove_records,
    resolve_agency,
    seed_agency_data,
    upsert_records,
)
from myna.agencies.synthetic import (
    REFERENCE_DATE,
    GeneratedRecord,
    HouseholdMember,
    RecordDraft,
    ResidentFacts,
    generate_records,
)

__all__ = [
    "EVERY_ITEM",
    "PORTAL_AGENCY",
    "REFERENCE_DATE",
    "Agency",
    "AgencyKind",
    "AuthorizationRule",
    "AuthorizationTable",
    "Catalog",
    "CatalogFileError",
    "Category",
    "Decision",
    "FieldSpec",
    "FieldType",
    "GeneratedRecord",
    "HouseholdMember",
    "InvalidPayloadError",
    "ItemNotProvidedError",
    "ItemRecord",
    "ItemSchema",
    "NotAuthorizedError",
    "Procedure",
    "ProviderSpec",
    "RecordDraft",
    "RecordWrite",
    "Requester",
    "ResidentFacts",
    "SeedReport",
    "UnknownAgencyError",
    "UnknownItemError",
    "agency_directory",
    "answer_query",
    "count_records",
    "generate_records",
    "koki_agency_code",
    "kokuho_agency_code",
    "load_catalog",
    "municipality_agency_code",
    "parse_catalog",
    "remove_records",
    "resolve_agency",
    "seed_agency_data",
    "served_area",
    "upsert_records",
    "validate_payload",
]
