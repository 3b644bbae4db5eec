"""The console's outbox (“Thư nhắc hạn”) over notify's real API (a notify server on loopback,
its ledger in the worker's database): the province's administrator sees the reminders of the
units in reach, one's text, and resends a failed one; a chủ tịch is refused; Cao Bằng's
administrator sees none of them and gets 404 for each; notify away is a clear 503 page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from devstack.embedded import free_port
from services.notify import planner
from services.notify.app import create_app as create_notify_app
from services.notify.config import NotifySettings
from services.notify.tasks import policy
from shared.db import make_sessionmaker, tenant_session
from shared.timeutil import VN_TZ
from tests.notify.conftest import obligations, unit
from tests.review.accounts.conftest import signed_in
from tests.review.console.selection_scene import Scene
from tests.support.stack import Server

Client = Callable[..., TestClient]
THANH_HOA = 38


@pytest.fixture
def notify_server(base_env: dict[str, str]) -> Iterator[Server]:
    settings = NotifySettings(**{k.lower(): v for k, v in base_env.items()}, task_queue="notify-test-outbox")
    server = Server(create_notify_app(settings), free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def reminders(scene: Scene, base_env: dict[str, str]) -> Iterator[list[int]]:
    """Two reminders to the scene's district: one sent, one refused by the server."""
    sessions: sessionmaker[Session] = scene.factory
    s = NotifySettings(**{k.lower(): v for k, v in base_env.items()})
    owed = obligations([unit(scene.district.code, unit_name=scene.district.name)])
    with tenant_session(sessions, THANH_HOA) as session:
        ids = planner.plan(session, owed, dt.datetime(2021, 4, 15, 8, tzinfo=VN_TZ), policy(s))
        session.execute(
            text("UPDATE notify.reminders SET state = 'failed', error = 'Máy chủ thư từ chối (mã 550)' WHERE id = :i"),
            {"i": ids[0]},
        )
    yield ids
    with tenant_session(make_sessionmaker(sessions.kw["bind"]), THANH_HOA) as session:
        session.execute(text("DELETE FROM notify.reminders WHERE id = ANY(:i)"), {"i": ids})


def test_the_administrator_reads_and_resends(
    client_factory: Client, scene: Scene, notify_server: Server, reminders: list[int]
) -> None:
    [rid] = reminders
    admin, csrf = signed_in(client_factory, scene.admin, notify_url=notify_server.url)
    page = admin.get("/console/thu-nhac")
    assert page.status_code == 200, page.text
    assert scene.district.name in page.text and "Gửi không được" in page.text
    assert 'href="/console/thu-nhac"' in admin.get("/console/").text  # in the nav
    detail = admin.get(f"/console/thu-nhac/{rid}")
    assert detail.status_code == 200 and f"Kính gửi {scene.district.name}" in detail.text
    assert "Máy chủ thư từ chối (mã 550)" in detail.text
    r = admin.post(f"/console/thu-nhac/{rid}/gui-lai", data={"csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/console/thu-nhac?tb=gui-lai"
    after = admin.get(r.headers["location"]).text
    assert "Đã xếp thư nhắc vào hàng gửi lại." in after and "Đang chờ gửi" in after
    assert admin.post(f"/console/thu-nhac/{rid}/gui-lai", data={}).status_code == 403  # no CSRF token
    r = admin.post(f"/console/thu-nhac/{rid}/gui-lai", data={"csrf_token": csrf})
    assert r.status_code == 409 and "Thư nhắc này đang chờ gửi" in r.text  # queued already: not twice

    chair, _ = signed_in(client_factory, scene.chair, notify_url=notify_server.url)
    assert chair.get("/console/thu-nhac").status_code == 403


def test_another_tenant_and_notify_away(
    client_factory: Client, scene: Scene, notify_server: Server, reminders: list[int]
) -> None:
    [rid] = reminders
    stranger, s_csrf = signed_in(client_factory, scene.stranger, notify_url=notify_server.url)
    listing = stranger.get("/console/thu-nhac")
    assert listing.status_code == 200 and scene.district.name not in listing.text
    assert stranger.get(f"/console/thu-nhac/{rid}").status_code == 404
    assert stranger.post(f"/console/thu-nhac/{rid}/gui-lai", data={"csrf_token": s_csrf}).status_code == 404
    assert stranger.get("/console/thu-nhac/abc").status_code == 404
    away, _ = signed_in(client_factory, scene.admin, notify_url=f"http://127.0.0.1:{free_port()}")
    r = away.get("/console/thu-nhac")
    assert r.status_code == 503 and "Dịch vụ nhắc hạn tạm thời không phản hồi" in r.text
