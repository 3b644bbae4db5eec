"""reporting: how many renders turned a job done, and the objects' sizes

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05

``renders`` counts the renders that set a job ``done`` (under the job's row lock: one, unless
its objects went missing and it was rendered again), so "every job rendered once" can be
checked after a redelivery or a killed worker, not only believed. ``pdf_bytes`` and
``docx_bytes`` are the sizes storage reported when the objects were read back.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "dossier_jobs",
        sa.Column("renders", sa.SmallInteger(), nullable=False, server_default="0"),
        schema="reporting",
    )
    op.add_column("dossier_jobs", sa.Column("pdf_bytes", sa.BigInteger(), nullable=True), schema="reporting")
    op.add_column("dossier_jobs", sa.Column("docx_bytes", sa.BigInteger(), nullable=True), schema="reporting")


def downgrade() -> None:
    for column in ("docx_bytes", "pdf_bytes", "renders"):
        op.drop_column("dossier_jobs", column, schema="reporting")
