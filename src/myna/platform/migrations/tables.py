"""Table builders for the migrations: columns by type, constraints and indexes by convention.

The names are those of ``myna.platform.db.NAMING_CONVENTION`` (``pk_<table>``,
``fk_<table>_<column>_<referred table>``, ``uq_<table>_<first column>``,
``ix_<table>_<column>``), marked with ``op.f`` so Alembic uses them as written.

Migrations that ran on real databases call these: what a builder makes must never
change, or an old migration would build a different schema. Add a new builder instead.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from myna.platform.db import UTCDateTime

# 64-bit on PostgreSQL; on SQLite only ``INTEGER`` is the rowid that autoincrements.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MOMENT = UTCDateTime()


def strings(*, nullable: bool = False, **lengths: int) -> list[sa.Column[Any]]:
    """``VARCHAR`` columns, ``name=length``, in the order given."""
    return [
        sa.Column(name, sa.String(length=length), nullable=nullable)
        for name, length in lengths.items()
    ]


def columns(
    type_: sa.types.TypeEngine[Any], *names: str, nullable: bool = False
) -> list[sa.Column[Any]]:
    """Columns of one type, in the order named."""
    return [sa.Column(name, type_, nullable=nullable) for name in names]


def attachment(*, name_length: int) -> list[sa.Column[Any]]:
    """An attached file: its name, media type, size, SHA-256 (hex) and bytes."""
    return [
        sa.Column("name", sa.String(length=name_length), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    ]


def primary_key(table: str, *names: str) -> sa.PrimaryKeyConstraint:
    """``pk_<table>`` over the named columns, ``id`` when none is named."""
    return sa.PrimaryKeyConstraint(*(names or ("id",)), name=op.f(f"pk_{table}"))


def foreign_key(
    table: str, column: str, target: str, *, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    """``column`` refers to ``target``, written ``<table>.<column>``."""
    referred = target.split(".", 1)[0]
    name = op.f(f"fk_{table}_{column}_{referred}")
    return sa.ForeignKeyConstraint([column], [target], name=name, ondelete=ondelete)


def unique(table: str, *names: str) -> sa.UniqueConstraint:
    """The named columns are unique together; the constraint is named by the first."""
    return sa.UniqueConstraint(*names, name=op.f(f"uq_{table}_{names[0]}"))


def create_indexes(table: str, *names: str) -> None:
    """An index on each named column."""
    for name in names:
        op.create_index(op.f(f"ix_{table}_{name}"), table, [name], unique=False)


def drop_indexes(table: str, *names: str) -> None:
    """Drop the indexes :func:`create_indexes` made, in the order named."""
    for name in names:
        op.drop_index(op.f(f"ix_{table}_{name}"), table_name=table)


# Tables that a later migration drops and, going down, must make again exactly as before.


def create_portal_sessions() -> None:
    """Residents' sessions as 0003_portal made them (0020_sessions merged them)."""
    op.create_table(
        "portal_sessions",
        *strings(token_digest=64, csrf_token=64),
        sa.Column("resident_id", sa.Integer(), nullable=True),
        sa.Column("certificate_serial", sa.String(length=64), nullable=True),
        sa.Column("certificate_not_after", MOMENT, nullable=True),
        *columns(MOMENT, "created_at", "last_seen_at"),
        sa.Column("authenticated_at", MOMENT, nullable=True),
        primary_key("portal_sessions", "token_digest"),
    )
    create_indexes("portal_sessions", "resident_id")


def create_office_sessions() -> None:
    """Back-office sessions as 0012_back_office made them (0020_sessions merged them)."""
    op.create_table(
        "office_sessions",
        *strings(token_digest=64, csrf_token=64),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("mfa_passed", sa.Boolean(), nullable=False),
        *columns(MOMENT, "created_at", "last_seen_at"),
        primary_key("office_sessions", "token_digest"),
    )
    create_indexes("office_sessions", "staff_id")
