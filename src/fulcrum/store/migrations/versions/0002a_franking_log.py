"""franking: published daily report stats, clearinghouse filings

Revision ID: 0002a
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002a"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "franking_report_stats",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("published_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_franking_report_stats")),
    )
    op.create_table(
        "clearinghouse_filings",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("clearinghouse", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("report_xml", sa.Text(), nullable=True),
        sa.Column("report_digest", sa.LargeBinary(), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempted_at", sa.BigInteger(), nullable=False),
        sa.Column("filed_at", sa.BigInteger(), nullable=True),
        sa.Column("retain_until", sa.BigInteger(), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["review_cases.case_id"],
            name=op.f("fk_clearinghouse_filings_case_id_review_cases"),
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_clearinghouse_filings")),
    )


def downgrade() -> None:
    op.drop_table("clearinghouse_filings")
    op.drop_table("franking_report_stats")
