"""promoted cases: agents' best answers as exemplary excerpts

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "promoted_cases",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("assessment_id", sa.String(length=64), nullable=False),
        sa.Column("criterion_id", sa.String(length=64), nullable=False),
        sa.Column("promoted_by", sa.String(length=200), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("assessment_id", "criterion_id", name="uq_promoted_evidence"),
    )
    with op.batch_alter_table("promoted_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_promoted_cases_assessment_id"), ["assessment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("promoted_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promoted_cases_assessment_id"))
    op.drop_table("promoted_cases")
