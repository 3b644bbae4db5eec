"""officers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

The officers who review initiatives (issue #4), under forced row-level security like every
tenant-owned table, with every key led by tenant_id.

Logging in has to find an officer before a tenant is set, and the app role sees no officer
without ``app.tenant_id``. Rather than open a door through row-level security (a SECURITY
DEFINER look-up across tenants, a global unique key on the login name), the login name itself
names the tenant: ``<username>@<tenant code>`` (``tham-dinh.tinh@thanh-hoa``). The tenant
code resolves through the global ``review.tenants`` table, and the officer is then read in a
transaction scoped to that tenant like any other request. ``username`` is unique per tenant
only, which keeps the table distributable by tenant_id (DESIGN.md §4) and means one tenant's
choice of name can neither collide with nor reveal another's.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.migrations import app_role
from shared.rls import schema_grants_ddl, tenant_rls_ddl

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "officers",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("unit_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("full_name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("is_demo", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('tham_dinh', 'chu_tich', 'quan_tri')", name=op.f("ck_officers_role")),
        sa.CheckConstraint("username = lower(username)", name=op.f("ck_officers_username_lower")),
        sa.ForeignKeyConstraint(["tenant_id"], ["review.tenants.id"], name=op.f("fk_officers_tenant_id_tenants")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "unit_id"],
            ["review.units.tenant_id", "review.units.id"],
            name=op.f("fk_officers_tenant_id_unit_id_units"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_officers")),
        sa.UniqueConstraint("tenant_id", "username", name=op.f("uq_officers_tenant_id_username")),
        schema="review",
    )
    op.create_index("ix_officers_tenant_unit", "officers", ["tenant_id", "unit_id"], unique=False, schema="review")
    for stmt in tenant_rls_ddl("review.officers"):
        op.execute(stmt)
    for stmt in schema_grants_ddl("review", app_role()):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_index("ix_officers_tenant_unit", table_name="officers", schema="review")
    op.drop_table("officers", schema="review")
