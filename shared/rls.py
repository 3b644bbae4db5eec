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


APPEND_ONLY_COMMENT = "append-only"


def schema_grants_ddl(schema: str, app_role: str) -> list[str]:
    """The app role may use the schema's tables and sequences, never own or alter them.

    Tables whose comment begins with ``append-only`` (the audit log) are then taken back to
    SELECT and INSERT: every migration runs these grants over the whole schema, so without this
    the next one would quietly give UPDATE and DELETE on them back."""
    return [
        f'GRANT USAGE ON SCHEMA {schema} TO "{app_role}"',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO "{app_role}"',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO "{app_role}"',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{app_role}"',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO "{app_role}"',
        append_only_revoke_ddl(schema, app_role),
    ]


def append_only_revoke_ddl(schema: str, app_role: str) -> str:
    # Migration DDL from the migration's own constants (schema and role names), like the grants
    # above; no user input reaches it.
    return f"""
DO $$
DECLARE t regclass;
BEGIN
    FOR t IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = '{schema}' AND c.relkind IN ('r', 'p')
               AND obj_description(c.oid, 'pg_class') LIKE '{APPEND_ONLY_COMMENT}%'
    LOOP
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM %I', t, '{app_role}');
    END LOOP;
END $$"""  # noqa: S608


AUDIT_SQL = """
SELECT n.nspname || '.' || c.relname AS table_name, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY 1
"""


def tables_missing_forced_rls(conn: object) -> list[str]:
    """Every table with a ``tenant_id`` column must have RLS enabled, forced, and a policy.
    Returns the offenders with what they lack (empty when all is well)."""
    from sqlalchemy import text

    problems = []
    for name, enabled, forced, policies in conn.execute(text(AUDIT_SQL)):  # type: ignore[attr-defined]  # a Connection
        lacks = [w for w, ok in (("ENABLE", enabled), ("FORCE", forced), ("policy", policies > 0)) if not ok]
        if lacks:
            problems.append(f"{name}: thiếu {', '.join(lacks)}")
    return problems
