"""Row-level security DDL, used by every service's migrations so that each tenant-owned table
is protected the same way: ENABLE + FORCE (the owner is bound too) and one policy that compares
``tenant_id`` with the transaction's ``app.tenant_id``. Unset, the comparison is NULL: no row."""

from __future__ import annotations

CURRENT_TENANT_SQL = "NULLIF(current_setting('app.tenant_id', true), '')::integer"


def tenant_rls_ddl(qualified_table: str) -> list[str]:
    return [
        f"ALTER TABLE {qualified_table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {qualified_table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {qualified_table} "
        f"USING (tenant_id = {CURRENT_TENANT_SQL}) WITH CHECK (tenant_id = {CURRENT_TENANT_SQL})",
    ]


def schema_grants_ddl(schema: str, app_role: str) -> list[str]:
    """The app role may use the schema's tables and sequences, never own or alter them."""
    return [
        f'GRANT USAGE ON SCHEMA {schema} TO "{app_role}"',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO "{app_role}"',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO "{app_role}"',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{app_role}"',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO "{app_role}"',
    ]
