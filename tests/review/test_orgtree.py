from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from shared.db import set_tenant, tenant_scope
from shared.orgtree import OrgTreeError, read_tree

REFORM = dt.date(2025, 7, 1)


def test_2021_files() -> None:
    t = read_tree("2021")
    kinds = [x.kind for x in t.tenants]
    assert (kinds.count("province"), kinds.count("central_sector"), kinds.count("national")) == (63, 20, 1)
    assert sum(u.kind == "district" for u in t.units) == 696
    cao_bang = {u.name for u in t.units_of("cao-bang")}
    assert "Liên đoàn Lao động huyện Hà Quảng" in cao_bang
    thanh_hoa = {u.name for u in t.units_of("thanh-hoa")}
    assert "Liên đoàn Lao động tỉnh Thanh Hóa" in thanh_hoa
    assert "Công đoàn Giáo dục tỉnh Thanh Hóa" in thanh_hoa


def test_2025_files() -> None:
    t = read_tree("2025")
    assert sum(x.kind == "province" for x in t.tenants) == 34
    assert not any(u.kind == "district" for u in t.units)
    assert t.supersedes == "2021" and t.valid_from == REFORM


def _write(d: Path, tenants: str, units: str) -> Path:
    d.mkdir()
    (d / "tree.json").write_text('{"code": "x", "name": "x", "valid_from": "2021-01-01"}')
    (d / "tenants.csv").write_text("id,code,name,kind,succeeds\n" + tenants)
    (d / "units.csv").write_text("tenant,code,parent,kind,name,succeeds\n" + units)
    return d


@pytest.mark.parametrize(
    ("tenants", "units", "message"),
    [
        ("1,a,A,province,\n", "a,a,,province,A,\nb,x,a,district,X,\n", "không có trong tenants.csv"),
        ("1,a,A,province,\n", "a,a,,province,A,\na,x,zz,district,X,\n", "cấp trên 'zz'"),
        ("1,a,A,province,\n", "a,a,,province,A,\na,a,,province,A,\n", "bị trùng"),
        ("1,a,A,planet,\n", "a,a,,province,A,\n", "loại 'planet'"),
        ("1,a,A,province,\n2,b,B,province,\n", "a,a,,province,A,\n", "đơn vị gốc"),
    ],
)
def test_bad_files_are_refused_by_row(tmp_path: Path, tenants: str, units: str, message: str) -> None:
    with pytest.raises(OrgTreeError, match=message):
        read_tree(_write(tmp_path / "t", tenants, units))


def _units(conn: Connection, tenant_id: int, tree: str) -> dict[str, tuple[object, ...]]:
    set_tenant(conn, tenant_id)
    rows = conn.execute(
        text(
            "SELECT u.code, u.name, u.kind, u.valid_to, u.successor_tenant_id, u.successor_id "
            "FROM review.units u JOIN review.org_trees t ON t.id = u.tree_id WHERE t.code = :tree"
        ),
        {"tree": tree},
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def test_loaded_2021_tree(conn: Connection) -> None:
    assert conn.execute(text("SELECT count(*) FROM review.tenants")).scalar() == 84
    cb = _units(conn, 4, "2021")
    assert cb["H045"][0] == "Liên đoàn Lao động huyện Hà Quảng"
    assert cb["cao-bang"][1] == "province"


def test_2025_ends_2021_without_losing_it(conn: Connection) -> None:
    ha_giang = conn.execute(text("SELECT valid_to, successor_id FROM review.tenants WHERE code='ha-giang'")).one()
    assert tuple(ha_giang) == (REFORM, 8)  # Hà Giang's union continues in Tuyên Quang's
    assert conn.execute(text("SELECT valid_to FROM review.tenants WHERE code='thanh-hoa'")).scalar() is None

    old = _units(conn, 2, "2021")  # Hà Giang, 2021: still there, ended, linked
    assert old["ha-giang"][2:4] == (REFORM, 8)
    set_tenant(conn, 8)
    tq_root = conn.execute(
        text(
            "SELECT u.id FROM review.units u JOIN review.org_trees t ON t.id=u.tree_id "
            "WHERE t.code='2025' AND u.code='tuyen-quang'"
        )
    ).scalar()
    assert old["ha-giang"][4] == tq_root
    districts = [v for k, v in old.items() if k.startswith("H")]
    assert districts and all(v[2] == REFORM and v[3] is None for v in districts)  # district bodies ended

    th_2021 = _units(conn, 38, "2021")
    assert th_2021["N-GD"][2] == REFORM and th_2021["N-GD"][3] == 38
    assert _units(conn, 38, "2025")["N-GD"][2] is None


def test_reloading_is_idempotent(conn: Connection, app_engine: object, loaded_trees: object) -> None:
    """`make run` loads the trees on every start: nothing changes the second time."""

    from services.review.service import load_tree
    from shared.db import make_sessionmaker

    def snapshot() -> list[tuple[object, ...]]:
        with app_engine.connect() as c:  # type: ignore[attr-defined]
            out: list[tuple[object, ...]] = list(c.execute(text("SELECT * FROM review.tenants ORDER BY id")))
            for tid in (2, 4, 8, 38):
                set_tenant(c, tid)
                out += list(c.execute(text("SELECT * FROM review.units ORDER BY id")))
            c.rollback()
            return out

    before = snapshot()
    factory = make_sessionmaker(app_engine)  # type: ignore[arg-type]

    scope = tenant_scope(factory)

    load_tree(scope, read_tree("2021"))
    load_tree(scope, read_tree("2025"))
    assert snapshot() == before
