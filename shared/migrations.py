"""Alembic for every service: one environment per service, each with its own schema and its
own version table in that schema, so services migrate independently.

A service's ``migrations/env.py`` calls :func:`run_env`; the CLI calls :func:`upgrade` with the
owner's URL. Tests build their schema through the same path.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, pool, text

from shared.config import CommonSettings, sqlalchemy_url

# Every service with tables, in the order they migrate. Named by path, never imported, so the
# CLI in shared/ does not depend on any service (import-linter contract).
SERVICE_MIGRATIONS: dict[str, str] = {
    "review": "services.review:migrations",
    "reporting": "services.reporting:migrations",
    "notify": "services.notify:migrations",
}


# The roles a migration grants to (read in migrations through app_role() and ingest_role()).
Roles = dict[str, str]


def roles_of(settings: CommonSettings) -> Roles:
    return {"app_role": settings.database_app_user, "ingest_role": settings.database_ingest_user}


def alembic_config(script_location: str, url: str, *, roles: Roles) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    cfg.attributes.update(roles)
    return cfg


def upgrade(script_location: str, url: str, *, roles: Roles, revision: str = "head") -> None:
    command.upgrade(alembic_config(script_location, url, roles=roles), revision)


def upgrade_all(settings: CommonSettings) -> None:
    """Every service's migrations, as the owner, granting to the roles the settings name."""
    for location in SERVICE_MIGRATIONS.values():
        upgrade(location, settings.owner_database_url, roles=roles_of(settings))


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


def _role(name: str, field: str) -> str:
    from alembic import context

    default = CommonSettings.model_fields[field].default  # the settings' own default name
    return str(context.config.attributes.get(name, default))


def app_role() -> str:
    return _role("app_role", "database_app_user")


def ingest_role() -> str:
    return _role("ingest_role", "database_ingest_user")
