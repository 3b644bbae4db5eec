"""The planner against review's real API (a review server on loopback, the directory it
published in Redis, the seeded demo campaign of Thanh Hóa and Cao Bằng): three days before a
deadline every owing upper-grassroots unit with an address gets one reminder; a second plan,
as a second beat would run it, hands nothing out; a unit that nominates stops receiving them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from services.notify import mailer, sender
from services.notify.config import NotifySettings
from services.notify.models import Reminder
from services.notify.review_client import ReviewClient
from services.notify.schedule import send_at
from services.notify.tasks import Resources, plan_all
from shared.config import CommonSettings
from shared.db import tenant_session
from shared.timeutil import now
from tests.notify.conftest import THANH_HOA, received
from tests.review.workflow.conftest import workflow_seeded  # noqa: F401  # a fixture, requested by name
from tests.support.stack import Server

pytestmark = pytest.mark.xdist_group("workflow-api")


@pytest.fixture
def addressed(app_engine: Engine, workflow_seeded: CommonSettings) -> Iterator[list[str]]:  # noqa: F811
    """Three of Thanh Hóa's district unions given an address (the org tree has none)."""
    with app_engine.begin() as c:
        c.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(THANH_HOA)})
        codes = list(
            c.scalars(
                text(
                    "SELECT u.code FROM review.units u JOIN review.org_trees t ON t.id = u.tree_id "
                    "WHERE u.tenant_id = :t AND t.code = '2021' AND u.kind = 'district' ORDER BY u.code LIMIT 3"
                ),
                {"t": THANH_HOA},
            )
        )
        c.execute(
            text(
                "UPDATE review.units SET email = lower(code) || '@ldld.example.vn' "
                "WHERE tenant_id = :t AND code = ANY(:c)"
            ),
            {"t": THANH_HOA, "c": codes},
        )
    yield codes
    with app_engine.begin() as c:
        c.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(THANH_HOA)})
        c.execute(
            text("UPDATE review.units SET email = NULL WHERE tenant_id = :t AND code = ANY(:c)"),
            {"t": THANH_HOA, "c": codes},
        )


def test_plan_from_review_then_again(
    review_server: Server,
    redis_url: str,
    notify_settings: NotifySettings,
    sessions: sessionmaker[Session],
    addressed: list[str],
    smtp: tuple[int, Path],
) -> None:
    import redis

    s = notify_settings
    client = ReviewClient(review_server.url, s.service_token_key())
    owed = client.obligations(THANH_HOA, now(), now() + dt.timedelta(days=59))
    [d] = [d for d in owed.deadlines if d.campaign_code == "75k-demo" and d.level_code == "tinh"][:1]
    mine = {u.unit_code: u for u in d.units if u.unit_code in addressed}
    assert set(mine) == set(addressed) and not any(u.fulfilled for u in mine.values())
    at = send_at(d.due_at, "3d", s.reminder_morning) + dt.timedelta(minutes=1)
    res = Resources(sessions, redis.Redis.from_url(redis_url), client)
    handed: list[tuple[int, list[int]]] = []
    first = plan_all(res, s, at, lambda t, ids: handed.append((t, ids)))
    assert set(first) == {THANH_HOA} and len(first[THANH_HOA]) == len(addressed)
    with tenant_session(sessions, THANH_HOA) as session:
        rows = session.scalars(select(Reminder).where(Reminder.deadline_id == d.deadline_id)).all()
        by_state = {r.unit_code: r.state for r in rows}
    assert {c: by_state[c] for c in addressed} == dict.fromkeys(addressed, "planned")
    assert sum(1 for st in by_state.values() if st == "skipped") == len(d.units) - len(addressed)  # no address
    # A second beat at the same moment: the ledger has them all; nothing is handed out again.
    assert plan_all(res, s, at + dt.timedelta(seconds=30), lambda t, ids: handed.append((t, ids))) == {}
    # Ten minutes on and still not sent (the tasks were lost): handed out again, the same rows.
    again = plan_all(res, s, at + dt.timedelta(minutes=10), lambda t, ids: handed.append((t, ids)))
    assert again == first
    out = sender.send_batch(sessions, THANH_HOA, first[THANH_HOA], lambda: mailer.connect(s), s.smtp_from)
    assert len(out.sent) == len(addressed)
    assert sorted(m["To"] for m in received(smtp[1])) == sorted(f"{c.lower()}@ldld.example.vn" for c in addressed)


def test_a_second_beat_plans_nothing(
    review_server: Server,
    redis_url: str,
    notify_settings: NotifySettings,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two `notify.plan` runs in the same minute (a second beat started by mistake): the second
    finds the planner's lock in Redis and does not call review at all."""
    import redis

    from services.notify import tasks

    calls: list[int] = []
    client = ReviewClient(review_server.url, notify_settings.service_token_key())
    real = client.obligations

    def counted(tenant_id: int, *window: dt.datetime) -> object:
        calls.append(tenant_id)
        return real(tenant_id, *window)

    monkeypatch.setattr(client, "obligations", counted)
    r = redis.Redis.from_url(redis_url)
    r.delete(tasks.PLAN_LOCK)
    monkeypatch.setattr(tasks, "resources", lambda: Resources(sessions, r, client))
    monkeypatch.setattr(tasks, "settings", notify_settings)
    try:
        tasks.plan_reminders.run()
        first = len(calls)
        assert first > 0 and r.ttl(tasks.PLAN_LOCK) > 0
        assert tasks.plan_reminders.run() == 0 and len(calls) == first
    finally:
        r.delete(tasks.PLAN_LOCK)
