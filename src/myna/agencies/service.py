"""Use cases of the agencies: the directory, the replica store and its synthetic seeding.

Every function takes the session it works in and nothing global, so the same code
serves the embedded platform (all agencies in one database) and an agency node of the
distributed one (its own database).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from myna.agencies import repository
from myna.agencies.catalog import Catalog, load_catalog
from myna.agencies.domain import (
    KOKUHO_PREFIX,
    MUNICIPALITY_PREFIX,
    Agency,
    AgencyKind,
    ItemNotProvidedError,
    UnknownAgencyError,
    koki_agency_code,
    kokuho_agency_code,
    municipality_agency_code,
    validate_payload,
)
from myna.agencies.schemas import ItemRecord, RecordWrite, SeedReport
from myna.agencies.synthetic import (
    REFERENCE_DATE,
    ResidentFacts,
    generate_records,
)
from myna.platform.attributes import from_attributes
from myna.platform.db import utcnow
from myna.reference import (
    InvalidMunicipalityCodeError,
    MunicipalityNotFoundError,
    MunicipalityRead,
    get_municipality,
    list_municipalities,
)

# -- the directory of agencies -----------------------------------------------------------


def _municipal_agencies(municipality: MunicipalityRead) -> list[Agency]:
    return [
        Agency(
            code=municipality_agency_code(municipality.code),
            name_ja=municipality.full_name,
            name_en=f"{municipality.full_name} (municipality {municipality.code})",
            kind=AgencyKind.MUNICIPALITY,
        ),
        Agency(
            code=kokuho_agency_code(municipality.code),
            name_ja=f"{municipality.full_name} 国民健康保険",
            name_en=f"National Health Insurance of {municipality.full_name}",
            kind=AgencyKind.INSURER,
        ),
    ]


def _koki_agency(municipality: MunicipalityRead) -> Agency:
    return Agency(
        code=koki_agency_code(municipality.prefecture_code),
        name_ja=f"{municipality.prefecture_name}後期高齢者医療広域連合",
        name_en=f"Late-stage elderly medical care union of {municipality.prefecture_name}",
        kind=AgencyKind.INSURER,
    )


def agency_directory(*, session: Session) -> list[Agency]:
    """Every agency: the national ones, then each municipality's and each prefecture's."""
    agencies = list(load_catalog().agencies.values())
    prefectures: dict[str, Agency] = {}
    for municipality in list_municipalities(session=session):
        agencies.extend(_municipal_agencies(municipality))
        prefectures.setdefault(municipality.prefecture_code, _koki_agency(municipality))
    agencies.extend(prefectures[code] for code in sorted(prefectures))
    return agencies


def resolve_agency(*, session: Session, code: str) -> Agency:
    """The agency ``code`` with its names, or :class:`UnknownAgencyError`."""
    static = load_catalog().agencies.get(code)
    if static is not None:
        return static
    if load_catalog().kind_of(code) is None:
        raise UnknownAgencyError(agency=code)
    # A municipality's own agencies: one registry read, not the whole directory (this runs
    # on every inbox page to name the senders).
    for prefix in (MUNICIPALITY_PREFIX, KOKUHO_PREFIX):
        if code.startswith(prefix):
            try:
                municipality = get_municipality(session=session, code=code.removeprefix(prefix))
            except (MunicipalityNotFoundError, InvalidMunicipalityCodeError) as exc:
                raise UnknownAgencyError(agency=code) from exc
            return next(a for a in _municipal_agencies(municipality) if a.code == code)
    for agency in agency_directory(session=session):
        if agency.code == code:
            return agency
    raise UnknownAgencyError(agency=code)


# -- the replica store (中間サーバーの副本) --------------------------------------------------


def known_agency(catalog: Catalog, agency_code: str) -> Agency:
    agency = catalog.resolve(agency_code)
    if agency is None:
        raise UnknownAgencyError(agency=agency_code)
    return agency


def upsert_records(*, session: Session, agency_code: str, records: Sequence[RecordWrite]) -> int:
    """Store or replace records of ``agency_code``; every payload is checked first."""
    catalog = load_catalog()
    agency = known_agency(catalog, agency_code)
    now = utcnow()
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for record in records:
        schema = catalog.item(record.item_code)
        if not schema.provider.matches(agency):
            raise ItemNotProvidedError(agency=agency_code, item=record.item_code)
        rows[(record.link_code, record.item_code, record.key)] = {
            "agency_code": agency_code,
            "link_code": record.link_code,
            "item_code": record.item_code,
            "record_key": record.key,
            "payload": validate_payload(schema, record.payload),
            "source": record.source,
            "valid_from": record.valid_from,
            "updated_at": now,
        }
    repository.upsert_rows(session, list(rows.values()))
    return len(rows)


def answer_query(
    *, session: Session, agency_code: str, link_code: str, items: Sequence[str]
) -> list[ItemRecord]:
    """The records ``agency_code`` holds under ``link_code`` for ``items`` (情報提供).

    Every item must be one the agency provides (:class:`ItemNotProvidedError`). A link
    code the store has no record under gives an empty answer: the store cannot tell an
    unknown code from a person it holds nothing about; the hub, which issues the codes,
    is the one to refuse unknown ones.
    """
    catalog = load_catalog()
    agency = known_agency(catalog, agency_code)
    for item in items:
        if not catalog.item(item).provider.matches(agency):
            raise ItemNotProvidedError(agency=agency_code, item=item)
    return [
        from_attributes(ItemRecord, row, key=row.record_key, provider=agency_code)
        for row in repository.answer_records(session, agency_code, link_code, items)
    ]


def own_record_by_key(
    *, session: Session, agency_code: str, item_code: str, record_key: str
) -> tuple[str, ItemRecord] | None:
    """The link code and record ``agency_code`` keeps of ``item_code`` under a key, if one.

    For an agency's own use of its own store (e.g. the eligibility service finding an
    insured person by 被保険者番号); two people under one key answer nothing.
    """
    rows = repository.records_by_key(session, agency_code, item_code, record_key)
    if len(rows) != 1:
        return None
    row = rows[0]
    return row.link_code, from_attributes(ItemRecord, row, key=row.record_key, provider=agency_code)


def remove_records(
    *, session: Session, agency_code: str, link_code: str, items: Sequence[str]
) -> int:
    """Delete the records of ``items`` under ``link_code`` (e.g. after a move out)."""
    return repository.delete_for(session, agency_code, link_code, list(items))


def count_records(*, session: Session, agency_code: str | None = None) -> int:
    """How many records the store holds, for one agency or for all."""
    return repository.count(session, agency_code)


# -- synthetic data ----------------------------------------------------------------------


def seed_agency_data(
    *,
    session: Session,
    residents: Iterable[ResidentFacts],
    link_code_for: Callable[[int, str], str],
    seed: int,
    on_progress: Callable[[int], None] | None = None,
    batch_size: int = 20_000,
    as_of: date = REFERENCE_DATE,
) -> SeedReport:
    """Generate and store the agencies' records of ``residents``, in batches.

    ``link_code_for(resident_id, agency_code)`` gives the link code the hub issued; the
    resident id is used for that call only and never stored. Seeding the same people
    again replaces their records. The caller commits.
    """
    started = time.perf_counter()
    catalog = load_catalog()
    schemas = catalog.items
    now = utcnow()
    rows: list[dict[str, Any]] = []
    people = pending = total = 0
    agencies: set[str] = set()
    links = 0
    for resident in residents:
        people += 1
        pending += 1
        codes: dict[str, str] = {}
        for agency_code, draft in generate_records(resident=resident, seed=seed, as_of=as_of):
            link = codes.get(agency_code)
            if link is None:
                link = codes[agency_code] = link_code_for(resident.resident_id, agency_code)
                agencies.add(agency_code)
                links += 1
            rows.append(
                {
                    "agency_code": agency_code,
                    "link_code": link,
                    "item_code": draft.item_code,
                    "record_key": draft.key,
                    "payload": validate_payload(schemas[draft.item_code], draft.payload),
                    "source": draft.source,
                    "valid_from": draft.valid_from,
                    "updated_at": now,
                }
            )
        if len(rows) >= batch_size:
            repository.upsert_rows(session, rows)
            total += len(rows)
            rows = []
            if on_progress is not None:
                on_progress(pending)
            pending = 0
    if rows:
        repository.upsert_rows(session, rows)
        total += len(rows)
    if on_progress is not None and pending:
        on_progress(pending)
    return SeedReport(
        residents=people,
        records=total,
        link_codes=links,
        agencies=len(agencies),
        seconds=time.perf_counter() - started,
    )
