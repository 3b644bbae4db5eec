"""The officers table and the reach query under forced row-level security (rolled back per test)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError, ProgrammingError
from sqlalchemy.orm import Session

from services.review.accounts import repository as repo
from shared.db import set_tenant
from shared.rls import tables_missing_forced_rls
from tests.review.accounts.conftest import CAO_BANG, THANH_HOA

INSERT = text(
    "INSERT INTO review.officers (tenant_id, unit_id, username, full_name, role, password_hash) "
    "VALUES (:t, :u, :name, 'Cán bộ', 'tham_dinh', 'x') RETURNING id"
)


def _unit(conn: Connection, tenant_id: int, code: str) -> int:
    set_tenant(conn, tenant_id)
    unit = repo.unit_by_code(Session(bind=conn), tenant_id, "2021", code)
    assert unit is not None
    return unit.id


def test_officers_are_under_forced_rls(conn: Connection) -> None:
    assert "review.officers" in {
        r[0] for r in conn.execute(text("SELECT schemaname||'.'||tablename FROM pg_tables WHERE schemaname='review'"))
    }
    assert tables_missing_forced_rls(conn) == []
    th_unit = _unit(conn, THANH_HOA, "thanh-hoa")
    conn.execute(INSERT, {"t": THANH_HOA, "u": th_unit, "name": "rls-a"})
    assert conn.execute(text("SELECT count(*) FROM review.officers WHERE username='rls-a'")).scalar() == 1
    set_tenant(conn, CAO_BANG)
    assert conn.execute(text("SELECT count(*) FROM review.officers WHERE username='rls-a'")).scalar() == 0
    set_tenant(conn, None)
    assert conn.execute(text("SELECT count(*) FROM review.officers")).scalar() == 0
    set_tenant(conn, CAO_BANG)
    with pytest.raises(ProgrammingError, match="row-level security"):
        conn.execute(INSERT, {"t": THANH_HOA, "u": th_unit, "name": "rls-b"})


def test_an_officer_cannot_sit_in_another_tenants_unit(conn: Connection) -> None:
    cb_unit = _unit(conn, CAO_BANG, "cao-bang")
    set_tenant(conn, THANH_HOA)
    with pytest.raises(IntegrityError, match="fk_officers_tenant_id_unit_id_units"):
        conn.execute(INSERT, {"t": THANH_HOA, "u": cb_unit, "name": "lac-tinh"})


def test_usernames_are_unique_per_tenant_only(conn: Connection) -> None:
    th_unit, cb_unit = _unit(conn, THANH_HOA, "thanh-hoa"), _unit(conn, CAO_BANG, "cao-bang")
    set_tenant(conn, THANH_HOA)
    conn.execute(INSERT, {"t": THANH_HOA, "u": th_unit, "name": "trung-ten"})
    set_tenant(conn, CAO_BANG)
    conn.execute(INSERT, {"t": CAO_BANG, "u": cb_unit, "name": "trung-ten"})  # another tenant: fine
    with pytest.raises(IntegrityError, match="uq_officers_tenant_id_username"):
        conn.execute(INSERT, {"t": CAO_BANG, "u": cb_unit, "name": "trung-ten"})


def test_subtree(conn: Connection) -> None:
    province, district = _unit(conn, THANH_HOA, "thanh-hoa"), _unit(conn, THANH_HOA, "H380")
    s = Session(bind=conn)
    below_province = set(repo.subtree_unit_ids(s, THANH_HOA, province))
    assert province in below_province and district in below_province and len(below_province) > 30
    assert repo.subtree_unit_ids(s, THANH_HOA, district) == [district]
    # Under another tenant's setting the walk finds nothing, even given the right ids.
    set_tenant(conn, CAO_BANG)
    assert repo.subtree_unit_ids(s, THANH_HOA, province) == []
