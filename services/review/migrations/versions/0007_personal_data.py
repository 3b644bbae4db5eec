"""personal data: retention per campaign, and whose data each audit entry touched

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

* ``campaign_retention``: per tenant and campaign, the date until which the personal data of its
  submissions is kept (set by the tenant's administrator; no row, or ``retain_until`` NULL, is
  the default: the end of the campaign's work plus 36 months, services/review/retention) and
  when the retention job last finished deleting it.
* ``submissions``: the ID number's and the phone's ciphertexts and keyed hashes may be NULL,
  but only on a row whose personal data the retention job deleted
  (``personal_data_deleted_at``): a CHECK keeps every other row whole.
* ``audit_subjects``: for an audit entry that showed people's data (an initiative's page, an
  unmasking, an export, a dossier downloaded), one row per submission it showed. "Who saw this
  person's data" is then the person's submissions (by keyed hash, through the submissions'
  indexes) joined to their entries by key, not a scan of the chain. Append-only like the log
  itself (the same trigger, the app role keeps SELECT and INSERT), and no personal data: ids only.
"""

from collections.abc import Sequence

from alembic import op

from shared.migrations import app_role
from shared.rls import APPEND_ONLY_COMMENT, schema_grants_ddl, tenant_rls_ddl

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEALED = ("id_number_enc", "id_number_hash", "phone_enc", "phone_hash")


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE review.campaign_retention (
            tenant_id integer NOT NULL REFERENCES review.tenants(id),
            campaign_id integer NOT NULL REFERENCES review.campaigns(id),
            retain_until date,
            set_by bigint,
            set_at timestamptz,
            purged_at timestamptz,
            CONSTRAINT pk_campaign_retention PRIMARY KEY (tenant_id, campaign_id)
        )
        """
    )
    for stmt in tenant_rls_ddl("review.campaign_retention"):
        op.execute(stmt)
    op.execute(
        "ALTER TABLE review.submissions "
        + ", ".join(f"ALTER COLUMN {c} DROP NOT NULL" for c in SEALED)
        + ", ADD COLUMN personal_data_deleted_at timestamptz"
        + ", ADD CONSTRAINT ck_submissions_sealed_unless_deleted CHECK (personal_data_deleted_at IS NOT NULL OR ("
        + " AND ".join(f"{c} IS NOT NULL" for c in SEALED)
        + "))"
    )
    op.execute(
        """
        CREATE TABLE review.audit_subjects (
            tenant_id integer NOT NULL REFERENCES review.tenants(id),
            submission_id bigint NOT NULL,
            seq bigint NOT NULL,
            CONSTRAINT pk_audit_subjects PRIMARY KEY (tenant_id, submission_id, seq),
            CONSTRAINT fk_audit_subjects_tenant_id_seq_audit_log
                FOREIGN KEY (tenant_id, seq) REFERENCES review.audit_log(tenant_id, seq)
        )
        """
    )
    # No foreign key to submissions: a submission never goes away in production, and the
    # index must not stop anyone from removing test or demo rows.
    for stmt in tenant_rls_ddl("review.audit_subjects"):
        op.execute(stmt)
    op.execute(
        """
        CREATE TRIGGER audit_subjects_no_change BEFORE UPDATE OR DELETE ON review.audit_subjects
            FOR EACH ROW EXECUTE FUNCTION review.audit_log_append_only();
        CREATE TRIGGER audit_subjects_no_truncate BEFORE TRUNCATE ON review.audit_subjects
            FOR EACH STATEMENT EXECUTE FUNCTION review.audit_log_append_only();
        """
    )
    op.execute(
        f"COMMENT ON TABLE review.audit_subjects IS '{APPEND_ONLY_COMMENT}: the submissions each audit "
        "entry showed (who saw whose data), no UPDATE, DELETE or TRUNCATE (grants and trigger)'"
    )
    for stmt in schema_grants_ddl("review", app_role()):
        op.execute(stmt)


def downgrade() -> None:
    op.execute("DROP TABLE review.audit_subjects")
    op.execute(
        "ALTER TABLE review.submissions DROP CONSTRAINT ck_submissions_sealed_unless_deleted, "
        "DROP COLUMN personal_data_deleted_at, " + ", ".join(f"ALTER COLUMN {c} SET NOT NULL" for c in SEALED)
    )
    op.execute("DROP TABLE review.campaign_retention")
