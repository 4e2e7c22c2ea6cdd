"""warrants: operators, warrants, targets, steps, retained messages, requests, extensions

Revision ID: 0006
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0001"
branch_labels = ("warrants",)
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WID = sa.String(length=256)


def upgrade() -> None:
    op.create_table(
        "access_operators",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_access_operators")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_access_operators_token_hash")),
    )
    op.create_table(
        "access_warrants",
        sa.Column("warrant_id", WID, nullable=False),
        sa.Column("sealed_opening", sa.LargeBinary(), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("activated_at", sa.BigInteger(), nullable=True),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("window_end", sa.BigInteger(), nullable=False),
        sa.Column("unsealed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("warrant_id", name=op.f("pk_access_warrants")),
    )
    op.create_table(
        "access_targets",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("warrant_id", WID, nullable=False),
        sa.Column("account", sa.String(length=32), nullable=False),
        sa.Column("active_from", sa.BigInteger(), nullable=False),
        sa.Column("active_until", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_targets")),
    )
    op.create_index(op.f("ix_access_targets_warrant_id"), "access_targets", ["warrant_id"])
    op.create_index(op.f("ix_access_targets_account"), "access_targets", ["account"])
    op.create_table(
        "access_steps",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("warrant_id", WID, nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_steps")),
    )
    op.create_index(op.f("ix_access_steps_warrant_id"), "access_steps", ["warrant_id"])
    op.create_table(
        "access_retained",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("msg_id", sa.String(length=22), nullable=False),
        sa.Column("sender_account", sa.String(length=32), nullable=False),
        sa.Column("sender_device", sa.String(length=64), nullable=False),
        sa.Column("conv", sa.String(length=90), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=48), nullable=True),
        sa.Column("membership_epoch", sa.Integer(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("escrow", sa.LargeBinary(), nullable=True),
        sa.Column("escrow_meta", sa.JSON(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("env", sa.JSON(), nullable=False),
        sa.Column("server_ts", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_retained")),
        sa.UniqueConstraint(
            "sender_account", "msg_id", name=op.f("uq_access_retained_sender_account")
        ),
    )
    op.create_index(op.f("ix_access_retained_server_ts"), "access_retained", ["server_ts"])
    op.create_table(
        "access_retained_attachments",
        sa.Column("attachment_id", sa.String(length=32), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("retained_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("attachment_id", name=op.f("pk_access_retained_attachments")),
    )
    op.create_table(
        "access_requests",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("warrant_id", WID, nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("retained_ids", sa.JSON(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("partials", sa.JSON(), nullable=False),
        sa.Column("completed_at", sa.BigInteger(), nullable=True),
        sa.Column("decrypted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_access_requests")),
    )
    op.create_index(op.f("ix_access_requests_warrant_id"), "access_requests", ["warrant_id"])
    op.create_table(
        "access_extensions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("warrant_id", WID, nullable=False),
        sa.Column("extension", sa.LargeBinary(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_extensions")),
    )
    op.create_index(op.f("ix_access_extensions_warrant_id"), "access_extensions", ["warrant_id"])


def downgrade() -> None:
    for table, index in (
        ("access_extensions", "warrant_id"),
        ("access_requests", "warrant_id"),
        ("access_retained", "server_ts"),
        ("access_steps", "warrant_id"),
        ("access_targets", "account"),
        ("access_targets", "warrant_id"),
    ):
        op.drop_index(op.f(f"ix_{table}_{index}"), table_name=table)
    for table in (
        "access_extensions",
        "access_requests",
        "access_retained_attachments",
        "access_retained",
        "access_steps",
        "access_targets",
        "access_warrants",
        "access_operators",
    ):
        op.drop_table(table)
