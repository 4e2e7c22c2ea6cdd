"""franking tag keys and events, group epochs, reports, reviewers and review cases

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = ("franking",)
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "franking_tag_keys",
        sa.Column("kid", sa.String(length=7), nullable=False),
        sa.Column("wrapped_secret", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("destroyed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_franking_tag_keys")),
    )
    op.create_table(
        "franking_key_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kid", sa.String(length=7), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_franking_key_events")),
    )
    op.create_index(
        op.f("ix_franking_key_events_kid"), "franking_key_events", ["kid"], unique=False
    )
    op.create_table(
        "franking_group_epochs",
        sa.Column("group_id", sa.String(length=48), nullable=False),
        sa.Column("membership_epoch", sa.Integer(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint(
            "group_id", "membership_epoch", name=op.f("pk_franking_group_epochs")
        ),
    )
    op.create_table(
        "reports",
        sa.Column("report_id", sa.String(length=64), nullable=False),
        sa.Column("reporter_account", sa.String(length=32), nullable=False),
        sa.Column("reporter_device", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("involves_child", sa.Boolean(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("attestation", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reporter_account"],
            ["accounts.name"],
            name=op.f("fk_reports_reporter_account_accounts"),
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_reports")),
    )
    op.create_index(
        op.f("ix_reports_reporter_account"), "reports", ["reporter_account"], unique=False
    )
    op.create_table(
        "report_items",
        sa.Column("report_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("msg_id", sa.String(length=22), nullable=False),
        sa.Column("sender", sa.String(length=32), nullable=False),
        sa.Column("server_ts", sa.BigInteger(), nullable=False),
        sa.Column("chosen", sa.Boolean(), nullable=False),
        sa.Column("verdict", sa.String(length=32), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.report_id"], name=op.f("fk_report_items_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("report_id", "position", name=op.f("pk_report_items")),
    )
    op.create_index(op.f("ix_report_items_msg_id"), "report_items", ["msg_id"], unique=False)
    op.create_table(
        "reviewers",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_reviewers")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_reviewers_token_hash")),
    )
    op.create_table(
        "review_cases",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("involves_child", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("subject_account", sa.String(length=32), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("clearinghouse_xml", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_review_cases")),
    )
    for col in ("priority", "state", "subject_account"):
        op.create_index(op.f(f"ix_review_cases_{col}"), "review_cases", [col], unique=False)
    op.create_table(
        "review_actions",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reviewer_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("viewed_content", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_cases.case_id"],
            name=op.f("fk_review_actions_case_id_review_cases"),
        ),
        sa.PrimaryKeyConstraint("case_id", "position", name=op.f("pk_review_actions")),
    )


def downgrade() -> None:
    for table in (
        "review_actions",
        "review_cases",
        "reviewers",
        "report_items",
        "reports",
        "franking_group_epochs",
        "franking_key_events",
        "franking_tag_keys",
    ):
        op.drop_table(table)
