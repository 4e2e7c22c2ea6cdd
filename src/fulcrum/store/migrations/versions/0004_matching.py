"""private matching: the platform's verified matches per account

Revision ID: 0004
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = ("matching",)
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "matching_matches",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("account", sa.String(length=32), nullable=False),
        sa.Column("image_id", sa.String(length=64), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.String(length=16), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("matched_at", sa.BigInteger(), nullable=False),
        sa.Column("shares", sa.LargeBinary(), nullable=False),
        sa.Column("review_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("released_at", sa.BigInteger(), nullable=True),
        sa.Column("review_material", sa.LargeBinary(), nullable=True),
        sa.Column("case_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matching_matches")),
        sa.UniqueConstraint("account", "image_id", name=op.f("uq_matching_matches_account")),
    )
    op.create_index(
        op.f("ix_matching_matches_account"), "matching_matches", ["account"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_matching_matches_account"), table_name="matching_matches")
    op.drop_table("matching_matches")
