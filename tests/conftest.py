"""Real parts for the whole suite (no fakes): PostgreSQL and Redis as `make run` finds them (the
machine's, else embedded), SeaweedFS and aiosmtpd started here. One database per xdist worker,
built by the Alembic migrations; a transaction rolled back per test."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from devstack.embedded import (
    Managed,
    ensure_postgres,
    ensure_redis,
    free_port,
    free_port_with_grpc,
    start_seaweedfs,
)
from shared.config import CommonSettings
from shared.db import make_engine, make_sessionmaker, tenant_scope
from shared.dbadmin import bootstrap, drop_database
from shared.migrations import upgrade_all

ROOT = Path(__file__).resolve().parent.parent

# Servers of the intake/review stack and the ingester, shared by tests/intake and tests/review;
# the private servers and processes the fault tests kill (tests/intake, tests/reliability).
pytest_plugins = ["tests.support.stack", "tests.support.browser", "tests.support.faults"]


@pytest.fixture(scope="session")
def managed() -> Iterator[Managed]:
    m = Managed()
    yield m
    m.stop()


@pytest.fixture(scope="session")
def worker_id_str() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


@pytest.fixture(scope="session")
def pg_admin_url(managed: Managed, tmp_path_factory: pytest.TempPathFactory, worker_id_str: str) -> str:
    db = f"sangkien_test_{worker_id_str}"
    url = os.environ.get("DATABASE_URL", f"postgresql://postgres@127.0.0.1:5432/{db}")
    url = ensure_postgres(url, tmp_path_factory.mktemp("pg"), managed, db)
    # Whatever database the URL named, this worker uses its own.
    from urllib.parse import urlsplit, urlunsplit

    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, f"/{db}", p.query, p.fragment))


@pytest.fixture(scope="session")
def redis_url(managed: Managed, tmp_path_factory: pytest.TempPathFactory, worker_id_str: str) -> str:
    base = ensure_redis(
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        tmp_path_factory.mktemp("redis"),
        managed,
        free_port(),
    )
    index = 1 + int(worker_id_str.removeprefix("gw") or 0)  # db 0 is left to `make run`
    url = base.rsplit("/", 1)[0] + f"/{index}"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture(scope="session")
def pii_env() -> dict[str, str]:
    return {
        "PII_ENCRYPTION_KEYS": "t1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "PII_HASH_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


@pytest.fixture(scope="session")
def base_env(pg_admin_url: str, redis_url: str, pii_env: dict[str, str]) -> dict[str, str]:
    """Environment for processes and settings: what a service would be given."""
    return {"ENVIRONMENT": "test", "DATABASE_URL": pg_admin_url, "REDIS_URL": redis_url, **pii_env}


@pytest.fixture(scope="session")
def settings(base_env: dict[str, str]) -> CommonSettings:
    return CommonSettings(**{k.lower(): v for k, v in base_env.items()})


@pytest.fixture(scope="session")
def migrated(settings: CommonSettings) -> CommonSettings:
    from shared.dbadmin import database_name

    drop_database(settings, database_name(settings.database_url))
    bootstrap(settings)
    upgrade_all(settings)
    return settings


@pytest.fixture(scope="session")
def app_engine(migrated: CommonSettings) -> Iterator[Engine]:
    engine = make_engine(migrated.runtime_database_url, pool_size=4)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def loaded_trees(migrated: CommonSettings, app_engine: Engine) -> CommonSettings:
    """Tenants and both org trees, loaded once per worker through the real loader."""

    from services.review.service import ensure_campaigns, load_tree
    from shared.db import tenant_session
    from shared.orgtree import read_tree
    from shared.timeutil import now

    factory = make_sessionmaker(app_engine)

    scope = tenant_scope(factory)

    load_tree(scope, read_tree("2021"))
    load_tree(scope, read_tree("2025"))  # type: ignore[arg-type]
    with tenant_session(factory, None) as s:
        ensure_campaigns(s, tree_code="2021", now=now(), demo=True)
    return migrated


@pytest.fixture
def conn(app_engine: Engine, loaded_trees: CommonSettings) -> Iterator[Connection]:
    """A connection as the app role inside a transaction that is rolled back after the test."""
    with app_engine.connect() as c:
        tx = c.begin()
        try:
            yield c
        finally:
            tx.rollback()


# --- S3 and SMTP (started on first use, one per worker) --------------------------------------------


@pytest.fixture(scope="session")
def s3_env(managed: Managed, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    port = free_port_with_grpc()
    secret = secrets.token_urlsafe(16)
    start_seaweedfs(
        tmp_path_factory.mktemp("seaweedfs"),
        managed,
        s3_port=port,
        access_key="sangkien-test",
        secret_key=secret,
    )
    return {
        "S3_ENDPOINT": f"127.0.0.1:{port}",
        "S3_ACCESS_KEY": "sangkien-test",
        "S3_SECRET_KEY": secret,
        "S3_BUCKET": f"sangkien-test-{secrets.token_hex(4)}",
    }


@pytest.fixture(scope="session")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    from devstack.smtp import start

    maildir = tmp_path_factory.mktemp("mail")
    port = free_port()
    controller = start(maildir, port)
    yield port, maildir
    controller.stop()
