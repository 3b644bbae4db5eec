"""notify: the reminders ledger

Revision ID: 0001
Revises:
Create Date: 2026-12-04

Unique (tenant, deadline, unit, offset): whatever plans twice writes one row. Forced row-level
security like every tenant-owned table; the planner and the sender set the tenant per
transaction.
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
        "reminders",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("deadline_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("offset_code", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("to_email", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="planned"),
        sa.Column("attempts", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('planned', 'sent', 'failed', 'skipped')", name="ck_reminders_state"),
        sa.CheckConstraint("state <> 'sent' OR sent_at IS NOT NULL", name="ck_reminders_sent_at"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="pk_reminders"),
        sa.UniqueConstraint("tenant_id", "deadline_id", "unit_code", "offset_code", name="uq_reminders_once"),
        schema="notify",
    )
    # The sweep looks for what is still to send; the outbox lists a tenant's newest first.
    op.create_index("ix_reminders_state", "reminders", ["tenant_id", "state", "send_at"], schema="notify")
    for stmt in tenant_rls_ddl("notify.reminders"):
        op.execute(stmt)
    for stmt in schema_grants_ddl("notify", app_role()):
        op.execute(stmt)


def downgrade() -> None:
    op.drop_table("reminders", schema="notify")
