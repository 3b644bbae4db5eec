"""notify: per-tenant reminder templates

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

One row per (tenant, template) an administrator edited; no row means the shipped default.
Forced row-level security like the ledger: an administrator's edit never reaches another
tenant's mail.
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
        "templates",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("name IN ('nhac_han', 'qua_han')", name="ck_templates_name"),
        sa.PrimaryKeyConstraint("tenant_id", "name", name="pk_templates"),
        schema="notify",
    )
    for stmt in tenant_rls_ddl("notify.templates"):
        op.execute(stmt)
    # Re-run: the grants name the tables that exist now, the new one included.
    for stmt in schema_grants_ddl("notify", app_role()):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("templates", schema="notify")
