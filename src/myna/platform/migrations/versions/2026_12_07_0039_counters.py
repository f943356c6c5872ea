"""The card at municipal counters (市民カード化): libraries, shelters, use history.

Revision ID: 0039_counters
Revises: 0037_message_pq_keys
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from myna.platform.db import UTCDateTime

revision: str = "0039_counters"
down_revision: str | None = "0037_message_pq_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counters_facilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_code", sa.String(6), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counters_facilities")),
    )
    op.create_index(
        op.f("ix_counters_facilities_municipality_code"),
        "counters_facilities",
        ["municipality_code"],
    )
    op.create_table(
        "counters_books",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["counters_facilities.id"],
            name=op.f("fk_counters_books_library_id_counters_facilities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counters_books")),
        sa.UniqueConstraint("library_id", "code", name=op.f("uq_counters_books_library_id")),
    )
    op.create_table(
        "counters_patrons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("library_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(32), nullable=False),
        sa.Column("registered_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["library_id"],
            ["counters_facilities.id"],
            name=op.f("fk_counters_patrons_library_id_counters_facilities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counters_patrons")),
        sa.UniqueConstraint("library_id", "holder", name=op.f("uq_counters_patrons_library_id")),
    )
    op.create_table(
        "counters_loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("patron_id", sa.Integer(), nullable=False),
        sa.Column("lent_at", UTCDateTime(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("returned_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["counters_books.id"],
            name=op.f("fk_counters_loans_book_id_counters_books"),
        ),
        sa.ForeignKeyConstraint(
            ["patron_id"],
            ["counters_patrons.id"],
            name=op.f("fk_counters_loans_patron_id_counters_patrons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counters_loans")),
    )
    op.create_index(op.f("ix_counters_loans_book_id"), "counters_loans", ["book_id"])
    op.create_index(op.f("ix_counters_loans_patron_id"), "counters_loans", ["patron_id"])
    op.create_table(
        "counters_checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shelter_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(32), nullable=False),
        sa.Column("party", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_kana", sa.String(100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.Integer(), nullable=False),
        sa.Column("home_municipality", sa.String(100), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("checked_in_by", sa.String(100), nullable=False),
        sa.Column("confirmed_by", sa.String(100), nullable=True),
        sa.Column("checked_in_at", UTCDateTime(), nullable=False),
        sa.Column("checked_out_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["shelter_id"],
            ["counters_facilities.id"],
            name=op.f("fk_counters_checkins_shelter_id_counters_facilities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counters_checkins")),
    )
    op.create_index(op.f("ix_counters_checkins_shelter_id"), "counters_checkins", ["shelter_id"])
    op.create_index(op.f("ix_counters_checkins_holder"), "counters_checkins", ["holder"])
    op.create_table(
        "counters_card_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(32), nullable=False),
        sa.Column("municipality_code", sa.String(6), nullable=False),
        sa.Column("facility_name", sa.String(100), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counters_card_uses")),
    )
    op.create_index(op.f("ix_counters_card_uses_holder"), "counters_card_uses", ["holder"])
    op.create_index(op.f("ix_counters_card_uses_at"), "counters_card_uses", ["at"])


def downgrade() -> None:
    op.drop_table("counters_card_uses")
    op.drop_table("counters_checkins")
    op.drop_table("counters_loans")
    op.drop_table("counters_patrons")
    op.drop_table("counters_books")
    op.drop_table("counters_facilities")
