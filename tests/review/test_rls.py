"""Tenant isolation in the data layer: row-level security, forced, under a role that cannot
escape it."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ProgrammingError

from shared.config import CommonSettings
from shared.db import make_engine, make_sessionmaker, set_tenant, tenant_session
from shared.rls import tables_missing_forced_rls

THANH_HOA, CAO_BANG = 38, 4


def test_every_tenant_table_has_forced_rls(conn: Connection) -> None:
    names = [
        r[0]
        for r in conn.execute(
            text("SELECT table_schema||'.'||table_name FROM information_schema.columns WHERE column_name='tenant_id'")
        )
    ]
    assert "review.units" in names  # the audit looks at real tables, not an empty list
    assert tables_missing_forced_rls(conn) == []


def test_the_audit_catches_a_table_without_forced_rls(conn: Connection, migrated: CommonSettings) -> None:
    # The audit must fail for a table that forgot FORCE or its policy: build one as the owner.
    owner = make_engine(migrated.owner_database_url, pool_size=1)
    try:
        with owner.begin() as c:
            c.execute(text("CREATE TABLE review.careless (tenant_id int, x int)"))
            assert tables_missing_forced_rls(c) == ["review.careless: thiếu ENABLE, FORCE, policy"]
            c.execute(text("ALTER TABLE review.careless ENABLE ROW LEVEL SECURITY"))
            assert tables_missing_forced_rls(c) == ["review.careless: thiếu FORCE, policy"]
            c.rollback()
    finally:
        owner.dispose()


def test_app_role_cannot_bypass(conn: Connection, migrated: CommonSettings) -> None:
    row = conn.execute(
        text("SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = current_user")
    ).one()
    assert tuple(row) == (False, False, False)
    assert conn.execute(text("SELECT current_user")).scalar() == migrated.database_app_user
    owners = set(conn.execute(text("SELECT tableowner FROM pg_tables WHERE schemaname='review'")).scalars())
    assert migrated.database_app_user not in owners
    with pytest.raises(ProgrammingError):
        conn.execute(text("ALTER TABLE review.units DISABLE ROW LEVEL SECURITY"))


def test_no_tenant_set_sees_nothing(conn: Connection) -> None:
    assert conn.execute(text("SELECT count(*) FROM review.units")).scalar() == 0
    set_tenant(conn, CAO_BANG)
    assert conn.execute(text("SELECT count(*) FROM review.units")).scalar() > 10
    set_tenant(conn, None)
    assert conn.execute(text("SELECT count(*) FROM review.units")).scalar() == 0


def test_writing_into_another_tenant_is_refused(conn: Connection) -> None:
    set_tenant(conn, CAO_BANG)
    with pytest.raises(ProgrammingError, match="row-level security"):
        conn.execute(
            text(
                "INSERT INTO review.units (tenant_id, tree_id, code, name, kind, valid_from) "
                "SELECT :t, id, 'X1', 'x', 'grassroots', now() FROM review.org_trees WHERE code='2021'"
            ),
            {"t": THANH_HOA},
        )


def test_owner_is_bound_too(migrated: CommonSettings, loaded_trees: CommonSettings) -> None:
    """FORCE: even the owner of the table sees nothing without a tenant."""
    owner = make_engine(migrated.owner_database_url, pool_size=1)
    try:
        with owner.connect() as c:
            assert c.execute(text("SELECT count(*) FROM review.units")).scalar() == 0
    finally:
        owner.dispose()


def test_set_local_does_not_leak_across_a_pool(migrated: CommonSettings, loaded_trees: CommonSettings) -> None:
    """Two tenants alternating over a pool of two connections, many times: never a wrong row."""
    engine: Engine = make_engine(migrated.runtime_database_url, pool_size=2, pool_timeout=5)
    engine.pool._max_overflow = 0  # exactly two connections, reused over and over
    factory = make_sessionmaker(engine)
    seen_pids: set[int] = set()
    try:
        for tenant in itertools.islice(itertools.cycle([THANH_HOA, CAO_BANG, None]), 300):
            with tenant_session(factory, tenant) as s:
                seen_pids.add(s.execute(text("SELECT pg_backend_pid()")).scalar_one())
                tenants = set(s.execute(text("SELECT DISTINCT tenant_id FROM review.units")).scalars())
                assert tenants == (set() if tenant is None else {tenant})
            # Outside a transaction the setting is gone: a raw connection from the pool sees nothing.
            with engine.connect() as c:
                assert c.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar() in (None, "")
                assert c.execute(text("SELECT count(*) FROM review.units")).scalar() == 0
    finally:
        engine.dispose()
    assert 1 <= len(seen_pids) <= 2
