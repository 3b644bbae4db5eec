"""the ingester's role

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

The review ingester connects as its own role (created BYPASSRLS by `sangkien db bootstrap`):
PostgreSQL refuses COPY FROM into a table under row-level security, and COPY is how one
consumer keeps pace with the deadline. What it may do is narrowed here to what it needs: read
the tenants, units and campaigns to resolve a message, insert (and read back, for
redeliveries) submissions. Nothing else in any schema.
"""

from collections.abc import Sequence

from alembic import op

from shared.migrations import ingest_role

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    role = ingest_role()
    op.execute(f'GRANT USAGE ON SCHEMA review TO "{role}"')
    op.execute(f'GRANT SELECT ON review.tenants, review.units, review.campaigns TO "{role}"')
    op.execute(f'GRANT SELECT, INSERT ON review.submissions TO "{role}"')


def downgrade() -> None:
    role = ingest_role()
    op.execute(f'REVOKE ALL ON review.tenants, review.units, review.campaigns, review.submissions FROM "{role}"')
    op.execute(f'REVOKE USAGE ON SCHEMA review FROM "{role}"')
