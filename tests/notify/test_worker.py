"""The notify worker as `make run` starts it (`python -m shared.cli worker notify`), on the real
database, Redis and an SMTP server of the test's own: 1,500 reminders in batches; both worker
processes SIGKILLed in the middle of their batches — each waiting for the server's answer to a
message — and another worker started: every reminder arrives exactly once (the messages the
server kept, counted by Message-ID), none lost.

The server refuses what it held (the connections are gone: those transactions never completed),
as a real server does with a DATA that did not finish. The moment the kill lands is chosen so:
each worker is waiting on the server's answer, the case sender.py settles with an advisory lock
(the row back to planned, skipped by another copy while its sender lives, sent again once it is
dead). Kills at random moments are tests/reliability/test_kill_storms.py's."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from devstack.embedded import free_port
from devstack.smtp import MaildirHandler
from services.notify import planner
from services.notify.config import NotifySettings
from services.notify.models import Reminder
from services.notify.tasks import SEND_TASK, chunks, policy
from shared.celery_app import make_celery
from shared.db import tenant_session
from shared.timeutil import VN_TZ
from tests.notify.conftest import THANH_HOA, obligations, received, unit
from tests.support.processes import ROOT, Children, tail, wait_for

pytestmark = pytest.mark.xdist_group("notify-worker")
N = 1500


class PausingHandler(MaildirHandler):
    """Keeps messages like the dev server, until the ``pause_at``-th DATA: from then on, until
    the test releases it, every DATA waits unanswered (each worker process is then blocked on a
    message the server has not kept), and is refused once released (its client is dead)."""

    def __init__(self, directory: Path, pause_at: int) -> None:
        super().__init__(directory)
        self.count = 0
        self.pause_at = pause_at
        self.paused = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        if self.count >= self.pause_at and not self.release.is_set():
            self.paused.set()
            await asyncio.to_thread(self.release.wait, 120)  # set by the test's thread
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def pausing_smtp(tmp_path: Path) -> Iterator[tuple[int, Path, PausingHandler]]:
    handler = PausingHandler(tmp_path / "mail", pause_at=N // 3)
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, tmp_path / "mail", handler
    handler.release.set()
    controller.stop()


def _sent(sessions: sessionmaker[Session]) -> int:
    with tenant_session(sessions, THANH_HOA) as s:
        return int(s.scalar(select(func.count()).select_from(Reminder).where(Reminder.state == "sent")) or 0)


def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(
    sessions: sessionmaker[Session],
    notify_settings: NotifySettings,
    pausing_smtp: tuple[int, Path, PausingHandler],
    base_env: dict[str, str],
    tmp_path: Path,
) -> None:
    port, maildir, handler = pausing_smtp
    import datetime as dt

    owed = obligations([unit(f"K{i:04d}") for i in range(N)])
    with tenant_session(sessions, THANH_HOA) as s:
        ids = planner.plan(s, owed, dt.datetime(2021, 4, 15, 8, tzinfo=VN_TZ), policy(notify_settings))
    assert len(ids) == N
    queue = f"notify-test-{secrets.token_hex(4)}"
    env = {
        **os.environ,
        **base_env,
        "SMTP_PORT": str(port),
        "TASK_QUEUE": queue,
        "TASK_VISIBILITY_TIMEOUT": "5",
        "TASK_RESTORE_INTERVAL": "1",
        "PYTHONUNBUFFERED": "1",
    }
    children = Children()
    logs = [tmp_path / "worker-0.log", tmp_path / "worker-1.log"]
    argv = [sys.executable, "-m", "shared.cli", "worker", "notify", "--concurrency", "2"]
    try:
        first = children.spawn(argv, log=logs[0], env=env, cwd=ROOT)
        celery = make_celery("notify", notify_settings.model_copy(update={"task_queue": queue}))
        for batch in chunks(ids, 50):
            celery.send_task(SEND_TASK, args=[THANH_HOA, batch])
        assert handler.paused.wait(120), tail(logs[0])
        time.sleep(0.5)  # the other worker process reaches its next DATA and waits too
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        handler.release.set()
        before = _sent(sessions)
        assert 0 < before < N
        children.spawn(argv, log=logs[1], env=env, cwd=ROOT)
        wait_for(
            "every reminder sent",
            lambda: _sent(sessions) == N,
            timeout=180,
            every=0.5,
            why=lambda: f"{_sent(sessions)} sent; {tail(logs[1], 10)}",
        )
    finally:
        children.stop_all()
    mails = received(maildir)
    ids_seen = [m["Message-ID"] for m in mails]
    assert len(ids_seen) == N and len(set(ids_seen)) == N
    assert sorted(m["To"] for m in mails) == sorted(f"k{i:04d}@ldld.example.vn" for i in range(N))
