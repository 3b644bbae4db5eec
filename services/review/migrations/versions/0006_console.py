"""officers' console: search, source of a submission, paper imports, text signatures

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24

* ``review.fold(text)``: lower case without diacritics (Vietnamese đ/Đ → d), through the
  ``unaccent`` extension with its dictionary named explicitly, so that it can be IMMUTABLE and
  back a generated column. ``unaccent`` and ``pg_trgm`` are trusted extensions (PostgreSQL 13+):
  the database owner that runs migrations may create them, no superuser needed.
* ``submissions.search_text``: ``fold(full name, title, tracking code)``, stored and generated,
  so "nguyen van a" finds "Nguyễn Văn A" without folding every row per query. There is no
  trigram index on it on purpose: every console query is already narrowed by the (tenant, unit)
  index to one subtree, and a GIN index would tax the ingester's COPY at the deadline peak.
* ``submissions.source``: ``portal`` (what the ingester COPYs: the default), ``paper``
  (imported from the console's XLSX template) or ``demo`` (the seeder for ``make run``).
* ``submissions.import_key``: a keyed hash of an imported row, unique per tenant, so that the
  same file uploaded twice inserts nothing twice.
* ``submissions(tenant_id, campaign_id, id_number_hash)``: the same person's other initiatives.
* ``text_signatures``: MinHash of each description (word shingles, folded) and its LSH bands,
  a GIN index on the bands to find descriptions that are nearly the same across the tenant.
"""

from collections.abc import Sequence

from alembic import op

from shared.migrations import app_role
from shared.rls import schema_grants_ddl, tenant_rls_ddl

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    # unaccent(text) is STABLE only because it looks its dictionary up by search_path; named
    # explicitly (schema and dictionary), the result depends on the argument alone.
    op.execute(
        """
        CREATE FUNCTION review.fold(value text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN lower(public.unaccent('public.unaccent'::regdictionary, value))
        """
    )
    op.execute(
        """
        ALTER TABLE review.submissions
            ADD COLUMN source varchar(16) NOT NULL DEFAULT 'portal',
            ADD COLUMN import_key varchar(64),
            ADD COLUMN search_text text GENERATED ALWAYS AS
                (review.fold(full_name || ' ' || title || ' ' || tracking_code)) STORED,
            ADD CONSTRAINT ck_submissions_source CHECK (source IN ('portal', 'paper', 'demo'))
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX uq_submissions_tenant_id_import_key ON review.submissions (tenant_id, import_key) "
        "WHERE import_key IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX ix_submissions_tenant_id_hash ON review.submissions (tenant_id, campaign_id, id_number_hash)"
    )
    op.execute(
        """
        CREATE TABLE review.text_signatures (
            tenant_id integer NOT NULL REFERENCES review.tenants(id),
            submission_id bigint NOT NULL,
            minhash bigint[] NOT NULL,
            bands bigint[] NOT NULL,
            CONSTRAINT pk_text_signatures PRIMARY KEY (tenant_id, submission_id),
            CONSTRAINT fk_text_signatures_tenant_id_submission_id_submissions
                FOREIGN KEY (tenant_id, submission_id) REFERENCES review.submissions(tenant_id, id)
                ON DELETE CASCADE
        )
        """
    )
    op.execute("CREATE INDEX ix_text_signatures_bands ON review.text_signatures USING gin (bands)")
    for stmt in tenant_rls_ddl("review.text_signatures"):
        op.execute(stmt)
    for stmt in schema_grants_ddl("review", app_role()):
        op.execute(stmt)


def downgrade() -> None:
    op.execute("DROP TABLE review.text_signatures")
    op.execute("DROP INDEX review.ix_submissions_tenant_id_hash")
    op.execute("DROP INDEX review.uq_submissions_tenant_id_import_key")
    op.execute("ALTER TABLE review.submissions DROP COLUMN search_text, DROP COLUMN import_key, DROP COLUMN source")
    op.execute("DROP FUNCTION review.fold(text)")
    # The extensions stay: another schema may have come to rely on them.
