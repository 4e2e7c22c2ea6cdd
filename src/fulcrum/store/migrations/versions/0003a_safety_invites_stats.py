"""safety: group invite links, published rule statistics

Revision ID: 0003a
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003a"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "safety_invites",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=48), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_by", sa.String(length=32), nullable=True),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_safety_invites")),
    )
    with op.batch_alter_table("safety_invites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_safety_invites_group_id"), ["group_id"], unique=False)
    op.create_table(
        "safety_stats_published",
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=40), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("published_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "rule_id", name=op.f("pk_safety_stats_published")),
    )


def downgrade() -> None:
    op.drop_table("safety_stats_published")
    with op.batch_alter_table("safety_invites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_safety_invites_group_id"))
    op.drop_table("safety_invites")
