"""reporting: dossier render jobs

Revision ID: 0001
Revises:
Create Date: 2026-12-04

One row per dossier asked for: the snapshot review sent (masked already), its content hash
(unique per tenant: the same data is one job and one pair of objects), the state and the
objects' keys once they are in storage. Forced row-level security, as every tenant-owned table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.migrations import app_role
from shared.rls import schema_grants_ddl, tenant_rls_ddl

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dossier_jobs",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("campaign_code", sa.String(64), nullable=False),
        sa.Column("round_code", sa.String(32), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("unit_name", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="queued"),
        sa.Column("attempts", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("pdf_key", sa.Text(), nullable=True),
        sa.Column("docx_key", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'rendering', 'done', 'failed')", name="state"),
        # Done means both objects are in storage (the task checks them before it says so).
        sa.CheckConstraint("state <> 'done' OR (pdf_key IS NOT NULL AND docx_key IS NOT NULL)", name="done_has_keys"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_dossier_jobs"),
        sa.UniqueConstraint("tenant_id", "content_hash", name="uq_dossier_jobs_content"),
        schema="reporting",
    )
    # The console lists a round's jobs, newest first.
    op.create_index(
        "ix_dossier_jobs_round",
        "dossier_jobs",
        ["tenant_id", "campaign_code", "round_code", sa.text("created_at DESC")],
        schema="reporting",
    )
    for stmt in tenant_rls_ddl("reporting.dossier_jobs"):
        op.execute(stmt)
    for stmt in schema_grants_ddl("reporting", app_role()):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("dossier_jobs", schema="reporting")
