"""notify's outbox API on real parts: a tenant's reminders with their states and counts, one
with its text, resending a failed one (queued again, after commit); another tenant's token sees
none of them and gets 404 for each; no token or another audience, 401."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from services.notify import mailer, planner, sender
from services.notify.app import create_app
from services.notify.config import NotifySettings
from services.notify.tasks import policy
from shared.contracts.reminders import NOTIFY_AUDIENCE, SEND_TASK
from shared.db import tenant_session
from shared.servicetoken import issue
from shared.timeutil import VN_TZ
from tests.notify.conftest import THANH_HOA, obligations, unit

CAO_BANG = 4


@pytest.fixture
def queue() -> str:
    return f"notify-test-{secrets.token_hex(4)}"


@pytest.fixture
def api(notify_settings: NotifySettings, queue: str) -> Iterator[TestClient]:
    with TestClient(create_app(notify_settings.model_copy(update={"task_queue": queue}))) as c:
        yield c


def _auth(s: NotifySettings, tenant: int = THANH_HOA, aud: str = NOTIFY_AUDIENCE) -> dict[str, str]:
    token = issue(s.service_token_key(), tenant_id=tenant, officer_id=3, unit_code="1", role="quan_tri", aud=aud)
    return {"authorization": f"Bearer {token}"}


def test_the_outbox_and_resending(
    api: TestClient,
    notify_settings: NotifySettings,
    sessions: sessionmaker[Session],
    smtp: tuple[int, Path],
    queue: str,
    redis_url: str,
) -> None:
    s = notify_settings
    owed = obligations([unit("OK1"), unit("NO1", email="cu@tu-choi.example.vn"), unit("NA1", email=None)])
    with tenant_session(sessions, THANH_HOA) as session:
        ids = planner.plan(session, owed, dt.datetime(2021, 4, 15, 8, tzinfo=VN_TZ), policy(s))
    sender.send_batch(sessions, THANH_HOA, ids, lambda: mailer.connect(s), s.smtp_from)
    box = api.get("/api/v1/reminders", headers=_auth(s))
    assert box.status_code == 200, box.text
    body = box.json()
    assert body["counts"] == {"planned": 0, "sent": 1, "failed": 1, "skipped": 1}
    states = {i["unit_code"]: (i["state"], i["state_label"]) for i in body["items"]}
    assert states == {
        "OK1": ("sent", "Đã gửi"),
        "NO1": ("failed", "Gửi không được"),
        "NA1": ("skipped", "Không gửi (chưa có địa chỉ)"),
    }
    assert all(i["body_text"] is None for i in body["items"])
    failed = next(i for i in body["items"] if i["unit_code"] == "NO1")
    assert failed["error"] == "Máy chủ thư từ chối địa chỉ nhận (mã 550)" and failed["due_at"].endswith("+07:00")
    only = api.get("/api/v1/reminders", params={"state": "failed"}, headers=_auth(s)).json()["items"]
    assert [i["unit_code"] for i in only] == ["NO1"]
    assert api.get("/api/v1/reminders", params={"state": "x"}, headers=_auth(s)).status_code == 422
    one = api.get(f"/api/v1/reminders/{failed['id']}", headers=_auth(s)).json()
    assert "Kính gửi Liên đoàn Lao động huyện NO1" in one["body_text"]

    r = api.post(f"/api/v1/reminders/{failed['id']}/resend", headers=_auth(s))
    assert r.status_code == 200 and r.json()["state"] == "planned" and r.json()["error"] is None
    sent_tasks = redis.Redis.from_url(redis_url).lrange(queue, 0, -1)
    assert len(sent_tasks) == 1 and SEND_TASK.encode() in sent_tasks[0]
    sent_id = next(i["id"] for i in body["items"] if i["unit_code"] == "OK1")
    r = api.post(f"/api/v1/reminders/{sent_id}/resend", headers=_auth(s))
    assert r.status_code == 409 and r.json()["message"] == "Thư nhắc này đã được gửi"
    skipped_id = next(i["id"] for i in body["items"] if i["unit_code"] == "NA1")
    assert api.post(f"/api/v1/reminders/{skipped_id}/resend", headers=_auth(s)).status_code == 409

    # Cao Bằng's token: nothing of Thanh Hóa's, 404 for each; no token, another audience: 401.
    stranger = _auth(s, CAO_BANG)
    assert api.get("/api/v1/reminders", headers=stranger).json()["items"] == []
    for rid in (failed["id"], sent_id):
        assert api.get(f"/api/v1/reminders/{rid}", headers=stranger).status_code == 404
        assert api.post(f"/api/v1/reminders/{rid}/resend", headers=stranger).status_code == 404
    assert api.get("/api/v1/reminders").status_code == 401
    assert api.get("/api/v1/reminders", headers=_auth(s, aud="reporting")).status_code == 401
