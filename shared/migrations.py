"""Alembic for every service: one environment per service, each with its own schema and its
own version table in that schema, so services migrate independently.

A service's ``migrations/env.py`` calls :func:`run_env`; the CLI calls :func:`upgrade` with the
owner's URL. Tests build their schema through the same path.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, pool, text

from shared.config import sqlalchemy_url

# Every service with tables, in the order they migrate. Named by path, never imported, so the
# CLI in shared/ does not depend on any service (import-linter contract).
DEFAULT_INGEST_ROLE = "sangkien_ingest"

SERVICE_MIGRATIONS: dict[str, str] = {
    "review": "services.review:migrations",
}


def alembic_config(script_location: str, url: str, *, app_role: str, ingest_role: str = DEFAULT_INGEST_ROLE) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    cfg.attributes["app_role"] = app_role
    cfg.attributes["ingest_role"] = ingest_role
    return cfg


def upgrade(
    script_location: str, url: str, *, app_role: str, ingest_role: str = DEFAULT_INGEST_ROLE, revision: str = "head"
) -> None:
    command.upgrade(alembic_config(script_location, url, app_role=app_role, ingest_role=ingest_role), revision)


def upgrade_all(url: str, *, app_role: str, ingest_role: str = DEFAULT_INGEST_ROLE) -> None:
    for location in SERVICE_MIGRATIONS.values():
        upgrade(location, url, app_role=app_role, ingest_role=ingest_role)


def run_env(metadata: MetaData, schema: str) -> None:
    """Body of a service's env.py (online mode only: migrations always run against a server)."""
    from alembic import context

    cfg = context.config
    engine = create_engine(cfg.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {schema}"))
        conn.commit()
        context.configure(
            connection=conn,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            compare_type=True,
        )
        with context.begin_transaction():
            # Two processes migrating at once (two pods starting) serialise on this lock.
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": f"migrate:{schema}"})
            context.run_migrations()
    engine.dispose()


def app_role() -> str:
    from alembic import context

    return str(context.config.attributes.get("app_role", "sangkien_app"))


def ingest_role() -> str:
    from alembic import context

    return str(context.config.attributes.get("ingest_role", DEFAULT_INGEST_ROLE))
