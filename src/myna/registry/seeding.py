"""Write a synthetic population fast: ids assigned here, rows inserted in bulk.

The ORM would spend most of its time on identity bookkeeping for a million rows, so
rows go in through the DBAPI: ``executemany`` on SQLite, ``COPY ... FROM STDIN`` on
PostgreSQL. Ids are handed out here (above the current maximum) so households,
residents and their address records can be linked without a round trip; PostgreSQL's
sequences are advanced afterwards so ordinary ORM inserts continue above them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from myna import reference
from myna.reference import MunicipalityNotFoundError
from myna.registry import repository
from myna.registry.domain import ResidentStatus, make_my_number
from myna.registry.population import (
    REFERENCE_DATE,
    GeneratedHousehold,
    MunicipalityWeight,
    generate_population,
)
from myna.registry.schemas import SeedSummary
from myna.registry.service import ensure_municipalities
from myna.registry.shipped import shipped_weights

_BODY_SPACE = 10**11
# Any multiplier prime to 10 makes id -> body a bijection of 0..10^11-1, so distinct
# ids give distinct numbers; this one (the golden ratio's digits, made odd) scatters
# neighbouring ids across the whole range.
_MULTIPLIER = 61_803_398_877

_HOUSEHOLD_COLUMNS = ("id", "municipality_code", "address")
_RESIDENT_COLUMNS = (
    "id",
    "my_number",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "sex",
    "municipality_code",
    "address",
    "household_id",
    "relation",
    "status",
    "registered_on",
)
_HISTORY_COLUMNS = (
    "id",
    "resident_id",
    "municipality_code",
    "address",
    "valid_from",
    "valid_to",
    "reason",
)


def synthetic_my_number(resident_id: int, offset: int) -> str:
    """The MyNumber a seeded resident gets: a bijection of its id, plus check digit."""
    body = (_MULTIPLIER * resident_id + offset) % _BODY_SPACE
    return make_my_number(f"{body:011d}")


class _Writer:
    """Turns generated households into rows and inserts them batch by batch."""

    def __init__(self, session: Session, seed: int) -> None:
        self.session = session
        self.connection: Connection = session.connection()
        self.dialect = self.connection.dialect.name
        self.offset = random.Random(f"my-number:{seed}").randrange(_BODY_SPACE)  # noqa: S311
        self.household_id, self.resident_id, self.history_id = repository.max_ids(session)
        self.municipalities: set[str] = set()

    def write(self, batch: Sequence[GeneratedHousehold]) -> int:
        households: list[tuple[Any, ...]] = []
        residents: list[list[Any]] = []
        for household in batch:
            self.household_id += 1
            self.municipalities.add(household.municipality_code)
            households.append((self.household_id, household.municipality_code, household.address))
            for person in household.members:
                self.resident_id += 1
                residents.append(
                    [
                        self.resident_id,
                        synthetic_my_number(self.resident_id, self.offset),
                        person.family_name,
                        person.given_name,
                        person.family_name_kana,
                        person.given_name_kana,
                        person.birth_date,
                        int(person.sex),
                        household.municipality_code,
                        household.address,
                        self.household_id,
                        person.relation.value,
                        ResidentStatus.ACTIVE.value,
                        person.registered_on,
                        person.reason.value,
                    ]
                )
        self._avoid_taken_numbers(residents)
        history = []
        for row in residents:
            self.history_id += 1
            history.append((self.history_id, row[0], row[8], row[9], row[13], None, row.pop()))
        self._insert("households", _HOUSEHOLD_COLUMNS, households)
        self._insert("residents", _RESIDENT_COLUMNS, residents)
        self._insert("address_history", _HISTORY_COLUMNS, history)
        return len(residents)

    def _avoid_taken_numbers(self, residents: list[list[Any]]) -> None:
        # Numbers of other seeds or of hand-registered people may coincide: such a
        # resident takes the next id (and so another number) instead.
        while taken := repository.existing_my_numbers(self.session, [r[1] for r in residents]):
            for row in residents:
                if row[1] in taken:
                    self.resident_id += 1
                    row[0] = self.resident_id
                    row[1] = synthetic_my_number(self.resident_id, self.offset)

    def _insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        names = ", ".join(columns)
        if self.dialect == "postgresql":
            driver = self.connection.connection.driver_connection
            with (
                driver.cursor() as cursor,  # type: ignore[union-attr]
                cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        if self.dialect == "sqlite":
            # sqlite3's implicit date adapter is deprecated; store SQLAlchemy's ISO form.
            prepared = [
                tuple(v.isoformat() if isinstance(v, date) else v for v in row) for row in rows
            ]
            marks = ", ".join("?" for _ in columns)
            self.connection.exec_driver_sql(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 - fixed names
                prepared,
            )
            return
        binds = ", ".join(f":{c}" for c in columns)
        self.connection.execute(
            text(f"INSERT INTO {table} ({names}) VALUES ({binds})"),  # noqa: S608
            [dict(zip(columns, row, strict=True)) for row in rows],
        )

    def finish(self) -> None:
        if self.dialect != "postgresql":
            return
        for table in ("households", "residents", "address_history"):
            # Table names are the constants above, never input.
            statement = (
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
            self.connection.execute(text(statement))


def seed_population(
    *,
    session: Session,
    residents: int,
    seed: int,
    batch_size: int = 20_000,
    on_progress: Callable[[int], None] | None = None,
    as_of: date = REFERENCE_DATE,
) -> SeedSummary:
    """Add ``residents`` synthetic people; the same seed on the same database gives the same.

    Seeding again adds new people with new MyNumbers. The caller commits.
    """
    started = time.perf_counter()
    ensure_municipalities(session=session)
    session.flush()
    present = reference.municipalities_by_code(session, [w.code for w in shipped_weights()])
    weights: list[MunicipalityWeight] = [w for w in shipped_weights() if w.code in present]
    if not weights:
        raise MunicipalityNotFoundError(code=shipped_weights()[0].code)
    writer = _Writer(session, seed)
    batch: list[GeneratedHousehold] = []
    pending = households = 0
    written = 0
    for household in generate_population(
        residents=residents, seed=seed, municipalities=weights, as_of=as_of
    ):
        batch.append(household)
        pending += len(household.members)
        if pending >= batch_size:
            count = writer.write(batch)
            written += count
            households += len(batch)
            if on_progress is not None:
                on_progress(count)
            batch, pending = [], 0
    if batch:
        count = writer.write(batch)
        written += count
        households += len(batch)
        if on_progress is not None:
            on_progress(count)
    writer.finish()
    return SeedSummary(
        residents=written,
        households=households,
        municipalities=len(writer.municipalities),
        seconds=time.perf_counter() - started,
    )
