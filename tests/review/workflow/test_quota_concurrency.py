"""The quota's maximum holds when many officers nominate at the same moment, each on their own
connection: the database, not the application, refuses the one too many."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.workflow import nominations
from shared.config import CommonSettings
from shared.db import make_sessionmaker, tenant_session
from shared.errors import Conflict
from tests.review.workflow.factories import THANH_HOA, World, vn

pytestmark = pytest.mark.xdist_group("quota-concurrency")

N = 8


@pytest.fixture
def committed(app_engine: Engine, workflow_seeded: CommonSettings) -> Iterator[tuple[World, list[str], Officer]]:
    """A fresh upper-grassroots unit with N ready initiatives, committed (other connections must
    see them). Everything it made is ordinary tenant data under its own unit."""
    factory = make_sessionmaker(app_engine)
    with tenant_session(factory, THANH_HOA) as s:
        w = World(s, workflow_seeded).as_tenant(THANH_HOA)
        unit = w.add_unit(w.unit("thanh-hoa"), kind="grassroots_direct", name="CĐCS trực thuộc (thử đồng thời)")
        chair = w.officer(unit, Role.chu_tich)
        appraiser = w.officer(unit, Role.tham_dinh)
        codes = []
        for _ in range(N):
            sub = w.submission(unit)
            w.appraise([appraiser], sub.tracking_code, "dot-1", at=vn(2021, 4, 2))
            w.confirm(chair, sub.tracking_code, at=vn(2021, 4, 3))
            codes.append(sub.tracking_code)
    yield w, codes, chair  # the rows stay: they belong to a unit no other test uses


def test_concurrent_nominations_never_exceed_the_maximum(
    app_engine: Engine, committed: tuple[World, list[str], Officer]
) -> None:
    _, codes, chair = committed
    factory = make_sessionmaker(app_engine)
    barrier = threading.Barrier(N)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(code: str) -> None:
        barrier.wait()
        try:
            with tenant_session(factory, THANH_HOA) as s:
                nominations.nominate(s, chair, code, "dot-1", at=vn(2021, 4, 10))
            result = "ok"
        except Conflict:
            result = "full"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(c,)) for c in codes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["full"] * (N - 2) + ["ok"] * 2

    with tenant_session(factory, THANH_HOA) as s:
        assert _used(s, chair.unit_id) == 2
        nominated = s.execute(
            text("SELECT count(*) FROM review.wf_nominations WHERE tenant_id = :t AND from_unit_id = :u"),
            {"t": THANH_HOA, "u": chair.unit_id},
        ).scalar()
        assert nominated == 2


def _used(s: Session, unit_id: int) -> int:
    return int(
        s.execute(
            text("SELECT used FROM review.wf_quota_usage WHERE tenant_id = :t AND unit_id = :u"),
            {"t": THANH_HOA, "u": unit_id},
        ).scalar_one()
    )


def test_the_check_constraint_holds_even_for_sql_that_skips_the_service(world: World) -> None:
    from sqlalchemy.exc import IntegrityError

    w = world.as_tenant(THANH_HOA)
    unit = w.add_unit(w.unit("thanh-hoa"), kind="grassroots_direct")
    rnd = w.s.execute(text("SELECT id FROM review.wf_rounds WHERE tenant_id = 38 AND code = 'dot-1' LIMIT 1")).scalar()
    w.s.execute(
        text(
            "INSERT INTO review.wf_quota_usage (tenant_id, round_id, unit_id, used, max_count) "
            "VALUES (38, :r, :u, 2, 2)"
        ),
        {"r": rnd, "u": unit.id},
    )
    with pytest.raises(IntegrityError, match="within_quota"), w.s.begin_nested():
        w.s.execute(
            text("UPDATE review.wf_quota_usage SET used = used + 1 WHERE tenant_id = 38 AND unit_id = :u"),
            {"u": unit.id},
        )
