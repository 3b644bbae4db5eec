"""Progress against the targets, on a small tree built for the test."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.console.progress import progress
from shared.db import make_sessionmaker, tenant_session
from shared.errors import NotFound
from tests.review.console.conftest import (
    THANH_HOA,
    MadeUnit,
    MakeOfficer,
    MakeSubmission,
    MakeUnit,
    officer_at,
    signed_in,
)


def principal(unit: MadeUnit, code: str = "thanh-hoa") -> Officer:
    return Officer(unit.tenant_id, 1, unit.id, Role.chu_tich, "Cán bộ", "cb", code, unit.name)


def test_numbers_on_a_small_tree(
    app_engine: Engine,
    client_factory: Callable[..., TestClient],
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
    make_submission: MakeSubmission,
) -> None:
    top = make_unit(kind="district", name="LĐLĐ thử nghiệm")
    a = make_unit(parent_code=top.code, name="CĐCS A")
    b = make_unit(parent_code=top.code, name="CĐCS B")
    make_unit(parent_code=top.code, name="CĐCS C")  # took no part
    for _ in range(3):
        make_submission(a, sign=False)
    make_submission(b, sign=False)
    make_submission(top, sign=False)  # straight to the district union
    make_submission(a, sign=False, campaign="75k-2021")  # another campaign: not counted

    factory = make_sessionmaker(app_engine)
    with tenant_session(factory, THANH_HOA) as s:
        p = progress(s, principal(top), unit_id=None, campaign_code="75k-demo")
    assert (p.initiatives, p.grassroots, p.taking_part) == (5, 3, 2)
    assert p.avg == pytest.approx(5 / 3)
    assert p.pct == pytest.approx(200 / 3)
    assert (p.avg_target, p.pct_target) == (2.0, 100.0)
    assert not p.leaf_fallback and p.tenant_target is None  # a district: no province total
    rows = {r.name: r for r in p.rows}
    assert [r.name for r in p.rows] == ["LĐLĐ thử nghiệm", "CĐCS A", "CĐCS B", "CĐCS C"]
    assert (rows["CĐCS A"].initiatives, rows["CĐCS A"].taking_part, rows["CĐCS A"].avg) == (3, 1, 3.0)
    assert rows["CĐCS A"].meets_avg and not rows["CĐCS B"].meets_avg
    assert rows["CĐCS A"].bar_pct == 100.0
    assert rows["CĐCS C"].initiatives == 0 and rows["CĐCS C"].pct == 0.0

    with tenant_session(factory, THANH_HOA) as s:
        drill = progress(s, principal(top), unit_id=a.id, campaign_code="75k-demo")
        assert drill.initiatives == 3 and drill.grassroots == 1
        with pytest.raises(NotFound):
            progress(s, principal(a), unit_id=top.id, campaign_code="75k-demo")

    c, _ = signed_in(client_factory, officer_at(make_officer, top, Role.chu_tich))
    html = c.get("/console/tien-do", params={"chuong_trinh": "75k-demo"}).text
    assert "Tiến độ: LĐLĐ thử nghiệm" in html
    assert "1,7" in html and "2/3 CĐCS tham gia" in html and "67%" in html


def test_the_province_sees_its_total_against_7500(
    client_factory: Callable[..., TestClient], make_officer: MakeOfficer
) -> None:
    c, _ = signed_in(client_factory, make_officer(THANH_HOA, "thanh-hoa", Role.chu_tich))
    html = c.get("/console/tien-do", params={"chuong_trinh": "75k-demo"}).text
    assert "Chỉ tiêu toàn tỉnh:</strong> 7.500 sáng kiến trước ngày 10/10/2021" in html
