"""JPKI (公的個人認証): certificate authorities, issued certificates, revocations.

Revision ID: 0002_jpki
Revises: 0001_registry
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import myna.platform.db

revision: str = "0002_jpki"
down_revision: str | None = "0001_registry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "jpki_authorities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("certificate", sa.LargeBinary(), nullable=False),
        sa.Column("private_key", sa.LargeBinary(), nullable=False),
        sa.Column("next_crl_number", sa.Integer(), nullable=False),
        sa.Column("crl_revision", sa.Integer(), nullable=False),
        sa.Column("created_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jpki_authorities")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_jpki_authorities_fingerprint")),
        sa.UniqueConstraint("kind", name=op.f("uq_jpki_authorities_kind")),
    )
    op.create_table(
        "jpki_certificates",
        sa.Column("serial", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.String(length=64), nullable=False),
        sa.Column("subject_cn", sa.String(length=64), nullable=False),
        sa.Column("not_before", myna.platform.db.UTCDateTime(), nullable=False),
        sa.Column("not_after", myna.platform.db.UTCDateTime(), nullable=False),
        sa.Column("certificate", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", myna.platform.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", myna.platform.db.UTCDateTime(), nullable=True),
        sa.Column("revocation_reason", sa.String(length=32), nullable=True),
        sa.Column("invalidity_date", myna.platform.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["authority_id"],
            ["jpki_authorities.id"],
            name=op.f("fk_jpki_certificates_authority_id_jpki_authorities"),
        ),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_jpki_certificates")),
    )
    with op.batch_alter_table("jpki_certificates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_jpki_certificates_authority_id_status", ["authority_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_jpki_certificates_card_id"), ["card_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_jpki_certificates_holder_id"), ["holder_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("jpki_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jpki_certificates_holder_id"))
        batch_op.drop_index(batch_op.f("ix_jpki_certificates_card_id"))
        batch_op.drop_index("ix_jpki_certificates_authority_id_status")
    op.drop_table("jpki_certificates")
    op.drop_table("jpki_authorities")
