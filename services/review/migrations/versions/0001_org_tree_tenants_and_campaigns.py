"""org tree, tenants and campaigns

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Tenant-owned tables get forced row-level security here, in the migration that creates them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.migrations import app_role
from shared.rls import schema_grants_ddl, tenant_rls_ddl

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "org_trees",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["review.org_trees.id"], name=op.f("fk_org_trees_supersedes_id_org_trees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_trees")),
        sa.UniqueConstraint("code", name=op.f("uq_org_trees_code")),
        schema="review",
    )
    op.create_table(
        "tenants",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("successor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["successor_id"], ["review.tenants.id"], name=op.f("fk_tenants_successor_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("code", name=op.f("uq_tenants_code")),
        schema="review",
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("tree_id", sa.Integer(), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_from", sa.Date(), nullable=True),
        sa.Column("applied_to", sa.Date(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["tree_id"], ["review.org_trees.id"], name=op.f("fk_campaigns_tree_id_org_trees")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("code", name=op.f("uq_campaigns_code")),
        schema="review",
    )
    op.create_table(
        "units",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tree_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("successor_tenant_id", sa.Integer(), nullable=True),
        sa.Column("successor_id", sa.BigInteger(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), server_default="false", nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "parent_id"],
            ["review.units.tenant_id", "review.units.id"],
            name=op.f("fk_units_tenant_id_parent_id_units"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["review.tenants.id"], name=op.f("fk_units_tenant_id_tenants")),
        sa.ForeignKeyConstraint(["tree_id"], ["review.org_trees.id"], name=op.f("fk_units_tree_id_org_trees")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_units")),
        sa.UniqueConstraint("tenant_id", "tree_id", "code", name=op.f("uq_units_tenant_id_tree_id_code")),
        schema="review",
    )
    op.create_index("ix_units_tenant_parent", "units", ["tenant_id", "parent_id"], unique=False, schema="review")
    for stmt in tenant_rls_ddl("review.units"):
        op.execute(stmt)
    for stmt in schema_grants_ddl("review", app_role()):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_index("ix_units_tenant_parent", table_name="units", schema="review")
    op.drop_table("units", schema="review")
    op.drop_table("campaigns", schema="review")
    op.drop_table("tenants", schema="review")
    op.drop_table("org_trees", schema="review")
