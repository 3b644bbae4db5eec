"""Creating the database and its three roles (run once per environment, as an administrator).

* owner (``sangkien_owner``): owns the schemas and tables; runs migrations.
* app (``sangkien_app``): what services connect as — LOGIN only: not owner, not superuser,
  not BYPASSRLS, so every query of a tenant-owned table passes through row-level security.
* ingest (``sangkien_ingest``): the review ingester only. BYPASSRLS, because PostgreSQL refuses
  ``COPY FROM`` into a table under row-level security and COPY is what lets one consumer keep up
  with the deadline; in exchange it is granted nothing but reading the org tree and inserting
  submissions (review migration 0003), and the composite foreign key (tenant_id, unit_id)
  keeps each row inside its tenant.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from pydantic import SecretStr

from shared.config import CommonSettings


def _server_url(url: str, dbname: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme.replace("+psycopg", ""), p.netloc, "/" + dbname, p.query, p.fragment))


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "sangkien"


def _ensure_role(
    cur: psycopg.Cursor[tuple[object, ...]], name: str, secret: SecretStr | None, *, bypass_rls: bool = False
) -> None:
    password = secret.get_secret_value() if secret else None
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,))
    attrs = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE " + ("BYPASSRLS" if bypass_rls else "NOBYPASSRLS"))
    if cur.fetchone() is None:
        try:
            cur.execute(sql.SQL("CREATE ROLE {} ").format(sql.Identifier(name)) + attrs)
        except psycopg.errors.DuplicateObject:  # another process created it meanwhile
            pass
        except psycopg.errors.UniqueViolation:
            pass
    # Re-assert the attributes every time: a role widened by hand is narrowed again.
    cur.execute(sql.SQL("ALTER ROLE {} ").format(sql.Identifier(name)) + attrs)
    if password:
        cur.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)))


def bootstrap(settings: CommonSettings, *, database: str | None = None) -> str:
    """Idempotent. Returns the database name."""
    db = database or database_name(settings.database_url)
    with (
        psycopg.connect(_server_url(settings.database_url, "postgres"), autocommit=True) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("SELECT pg_advisory_lock(hashtext('sangkien:bootstrap'))")
        try:
            _ensure_role(cur, settings.database_owner_user, settings.database_owner_password)
            _ensure_role(cur, settings.database_app_user, settings.database_app_password)
            _ensure_role(cur, settings.database_ingest_user, settings.database_ingest_password, bypass_rls=True)
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (db,))
            if cur.fetchone() is None:
                cur.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                        sql.Identifier(db), sql.Identifier(settings.database_owner_user)
                    )
                )
        finally:
            cur.execute("SELECT pg_advisory_unlock(hashtext('sangkien:bootstrap'))")
    with (
        psycopg.connect(_server_url(settings.database_url, db), autocommit=True) as conn,
        conn.cursor() as cur,
    ):
        cur.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(db), sql.Identifier(settings.database_owner_user)
            )
        )
        for role in (settings.database_app_user, settings.database_ingest_user):
            cur.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(db), sql.Identifier(role)))
        cur.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    return db


def drop_database(settings: CommonSettings, database: str) -> None:
    with psycopg.connect(_server_url(settings.database_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
