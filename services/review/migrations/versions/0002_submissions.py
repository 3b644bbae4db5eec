"""submissions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

The ingester's table, under forced row-level security from the start.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.migrations import app_role
from shared.rls import schema_grants_ddl, tenant_rls_ddl

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tracking_code", sa.String(length=20), nullable=False),
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("id_number_enc", sa.LargeBinary(), nullable=False),
        sa.Column("id_number_hash", sa.LargeBinary(), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=False),
        sa.Column("phone_hash", sa.LargeBinary(), nullable=False),
        sa.Column("idea_group", sa.String(length=16), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("birth_year", sa.SmallInteger(), nullable=True),
        sa.Column("position", sa.Text(), nullable=True),
        sa.Column("workplace", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("applied_from", sa.Text(), nullable=True),
        sa.Column("benefit", sa.Text(), nullable=True),
        sa.Column("awards", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("stream_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["review.campaigns.id"], name=op.f("fk_submissions_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["review.tenants.id"], name=op.f("fk_submissions_tenant_id_tenants")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "unit_id"],
            ["review.units.tenant_id", "review.units.id"],
            name=op.f("fk_submissions_tenant_id_unit_id_units"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_submissions")),
        sa.UniqueConstraint("tenant_id", "tracking_code", name=op.f("uq_submissions_tenant_id_tracking_code")),
        schema="review",
    )
    op.create_index(
        "ix_submissions_tenant_unit", "submissions", ["tenant_id", "unit_id", "status"], unique=False, schema="review"
    )
    op.create_index(
        "ix_submissions_tenant_phone", "submissions", ["tenant_id", "phone_hash"], unique=False, schema="review"
    )
    for stmt in tenant_rls_ddl("review.submissions"):
        op.execute(stmt)
    for stmt in schema_grants_ddl("review", app_role()):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("submissions", schema="review")
