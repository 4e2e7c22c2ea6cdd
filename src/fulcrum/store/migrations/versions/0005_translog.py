"""transparency log: entries, subtree hashes, checkpoints, cosignatures, witness state

Revision ID: 0005
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = ("translog",)
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "translog_entries",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entry", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_translog_entries")),
    )
    op.create_table(
        "translog_subtrees",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_translog_subtrees")),
    )
    op.create_table(
        "translog_checkpoints",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_translog_checkpoints")),
    )
    op.create_index(
        op.f("ix_translog_checkpoints_size"), "translog_checkpoints", ["size"], unique=False
    )
    op.create_table(
        "translog_cosignatures",
        sa.Column("checkpoint_id", BigId, nullable=False),
        sa.Column("witness", sa.String(length=128), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["translog_checkpoints.id"],
            name=op.f("fk_translog_cosignatures_checkpoint_id_translog_checkpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("checkpoint_id", "witness", name=op.f("pk_translog_cosignatures")),
    )
    op.create_table(
        "translog_witness_state",
        sa.Column("witness", sa.String(length=128), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("witness", name=op.f("pk_translog_witness_state")),
    )


def downgrade() -> None:
    op.drop_table("translog_witness_state")
    op.drop_table("translog_cosignatures")
    op.drop_index(op.f("ix_translog_checkpoints_size"), table_name="translog_checkpoints")
    op.drop_table("translog_checkpoints")
    op.drop_table("translog_subtrees")
    op.drop_table("translog_entries")
