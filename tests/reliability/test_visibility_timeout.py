"""Work that outlasts the broker's visibility timeout, or the ingester's idle limit, is handed
out a second time while the first run still works on it; the second must not do it again at the
same time, and the work ends done once.

1. Reporting, TASK_VISIBILITY_TIMEOUT five seconds (the least the settings allow), a dossier
   that takes longer to render, two workers: Redis gives the task to the second worker
   mid-render; it finds the job's row held (``FOR UPDATE SKIP LOCKED``), begins nothing and
   looks again later; the job is begun once, turned done once, both objects in storage.
2. Notify, TASK_VISIBILITY_TIMEOUT five seconds, a server that takes its time over every message
   and holds one for seconds (so the sender waits for that answer with the row put back to
   planned under its advisory lock, sender.py): the batch's second copy runs beside the first,
   skips what the first sent or holds, sends the rest; every reminder arrives once.
   And what the sender does meanwhile, on its own: the row committed as sent before the server
   answers the "." and then settled by the answer (451 back to planned, 554 failed, slow too).
3. The ingester: a batch whose COPY waits (the table locked by the test), reclaimed by a second
   ingester (XAUTOCLAIM, a short idle limit) while it is still being written, so both write the
   same entries at once: every submission is one row, nothing pending, no dead letter.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from devstack.embedded import free_port
from devstack.smtp import MaildirHandler
from services.notify import mailer, planner, sender
from services.notify.config import NotifySettings
from services.notify.models import Reminder
from services.notify.tasks import policy as notify_policy
from services.reporting.app import create_app as create_reporting_app
from services.reporting.models import DossierJob
from services.review.ingester import ensure_group
from shared.celery_app import make_celery
from shared.config import CommonSettings
from shared.contracts.dossier import REPORTING_AUDIENCE
from shared.contracts.reminders import SEND_TASK
from shared.contracts.submissions import INGESTER_GROUP
from shared.db import make_sessionmaker, tenant_session
from shared.servicetoken import issue
from shared.storage import make_client
from shared.timeutil import VN_TZ
from tests.notify.conftest import obligations, received, unit
from tests.reporting.conftest import dossier, reporting_env, settings_of
from tests.support.faults import (
    Rows,
    accepted_codes,
    assert_exactly_once,
    ingester_env,
    pending,
    post,
    publish_directory,
    stream_name,
    worker_env,
)
from tests.support.processes import ROOT, Children, IngesterProcesses, PrivateRedis, tail, wait_for
from tests.support.stack import Server

__all__ = ["reporting_env"]  # a fixture, used by name

pytestmark = pytest.mark.xdist_group("storms")

THANH_HOA = 38


def _worker(children: Children, service: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "shared.cli", "worker", service, "--concurrency", "1"]
    return children.spawn(argv, log=log, env=env, cwd=ROOT)


def _ready(proc: subprocess.Popen[bytes], log: Path) -> bool:
    if proc.poll() is not None:
        raise AssertionError(f"{log.name} exited with {proc.returncode}:\n{tail(log)}")
    return " ready." in log.read_text(errors="replace")


# --- 1. a render longer than reporting's visibility timeout -------------------------------------------


# 11.4 s of PDF on the quiet 2-core machine (bench/render.py: 1,000 rows, every summary at the
# portal's 1,000 characters), twice the visibility timeout: the copy comes mid-render.
ROWS = 1000
SUMMARY = ("Thay động cơ và bộ biến tần; lắp cảm biến dừng khi băng tải chạy không tải. " * 14)[:1000]


def _job(sessions: sessionmaker[Session], job_id: uuid.UUID) -> DossierJob:
    with tenant_session(sessions, THANH_HOA) as s:
        found = s.get(DossierJob, (THANH_HOA, job_id))
        assert found is not None
        return found


def test_a_render_past_the_visibility_timeout_is_not_run_twice_at_once(
    reporting_env: dict[str, str], app_engine: Engine, children: Children, tmp_path: Path
) -> None:
    queue = f"reporting-vt-{secrets.token_hex(4)}"
    settings = settings_of(reporting_env, task_queue=queue)
    sessions = make_sessionmaker(app_engine)
    env = worker_env(reporting_env, queue)
    logs = [tmp_path / "reporting-a.log", tmp_path / "reporting-b.log"]
    procs = [_worker(children, "reporting", env, log) for log in logs]
    wait_for("both workers ready", lambda: all(_ready(p, log) for p, log in zip(procs, logs, strict=True)), timeout=90)
    token = issue(
        settings.service_token_key(),
        tenant_id=THANH_HOA,
        officer_id=7,
        unit_code="H380",
        role="chu_tich",
        aud=REPORTING_AUDIENCE,
        ttl=120,
    )
    d = dossier(rows=ROWS)
    d = d.model_copy(update={"rows": [r.model_copy(update={"summary": SUMMARY}) for r in d.rows]})
    with TestClient(create_reporting_app(settings)) as api:
        r = api.post(
            "/api/v1/dossiers",
            json={"dossiers": [d.model_dump(mode="json")]},
            headers={"authorization": f"Bearer {token}"},
        )
    assert r.status_code == 202, r.text
    job_id = uuid.UUID(r.json()["jobs"][0]["id"])

    def why() -> str:
        j = _job(sessions, job_id)
        return f"state {j.state}, attempts {j.attempts}\n" + "\n".join(f"--- {p.name}\n{tail(p)}" for p in logs)

    wait_for("the job done", lambda: _job(sessions, job_id).state == "done", timeout=240, every=0.5, why=why)
    text_of = [log.read_text(errors="replace") for log in logs]
    # The task was delivered again while the first delivery rendered (its row held): the copy
    # said so and went away to look later. The job went to one worker, and the copy to the other.
    assert any("dossier_busy" in t and str(job_id) in t for t in text_of), why()
    deliveries = sum(len(re.findall(r"render_dossier\[[0-9a-f-]+\] received", t)) for t in text_of)
    assert deliveries >= 2, why()
    job = _job(sessions, job_id)
    # Begun once (the copies never marked it rendering again) and turned done once.
    assert (job.attempts, job.renders) == (1, 1), (job.attempts, job.renders)
    client = make_client(settings)
    assert job.pdf_key and job.docx_key
    assert client.stat_object(settings.bucket, job.pdf_key).size == job.pdf_bytes
    assert client.stat_object(settings.bucket, job.docx_key).size == job.docx_bytes


# --- 2. a batch of reminders longer than notify's visibility timeout -----------------------------------


BATCH = 20
HELD = 3  # the DATA the server holds for seconds


class SlowHandler(MaildirHandler):
    """The server at work: every message answered after a moment, the HELD-th one after seconds.
    It keeps them all, as a server that has the whole message does."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        await asyncio.sleep(10.0 if self.count == HELD else 0.15)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port = free_port()
    controller = Controller(SlowHandler(tmp_path / "mail"), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, tmp_path / "mail"
    controller.stop()


@pytest.fixture
def ledger(app_engine: Engine, migrated: CommonSettings) -> Iterator[sessionmaker[Session]]:
    sessions = make_sessionmaker(app_engine)
    yield sessions
    with app_engine.begin() as c:
        c.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(THANH_HOA)})
        c.execute(text("DELETE FROM notify.reminders WHERE tenant_id = :t"), {"t": THANH_HOA})


def test_a_batch_past_the_visibility_timeout_sends_each_reminder_once(
    ledger: sessionmaker[Session],
    base_env: dict[str, str],
    slow_smtp: tuple[int, Path],
    children: Children,
    tmp_path: Path,
) -> None:
    port, maildir = slow_smtp
    queue = f"notify-vt-{secrets.token_hex(4)}"
    lowered: dict[str, Any] = {k.lower(): v for k, v in base_env.items()}
    settings = NotifySettings(**lowered, smtp_port=port, task_queue=queue)
    owed = obligations([unit(f"V{i:03d}") for i in range(BATCH)])
    with tenant_session(ledger, THANH_HOA) as s:
        ids = planner.plan(s, owed, dt.datetime(2021, 4, 15, 8, tzinfo=VN_TZ), notify_policy(settings))
    assert len(ids) == BATCH
    env = worker_env(base_env, queue, SMTP_PORT=str(port))
    logs = [tmp_path / "notify-a.log", tmp_path / "notify-b.log"]
    procs = [_worker(children, "notify", env, log) for log in logs]
    wait_for("both workers ready", lambda: all(_ready(p, log) for p, log in zip(procs, logs, strict=True)), timeout=90)
    task = make_celery("notify", settings).send_task(SEND_TASK, args=[THANH_HOA, ids])

    def runs() -> list[tuple[int, int]]:
        """(sent, held) of every run of the task that finished, from the workers' logs."""
        out = []
        for log in logs:
            for line in log.read_text(errors="replace").splitlines():
                if "reminders_sent" in line and task.id in line:
                    found = dict(re.findall(r"\b(sent|held)=(\d+)", line))
                    out.append((int(found["sent"]), int(found["held"])))
        return out

    def why() -> str:
        return f"runs {runs()}, mails {len(received(maildir))}\n" + "\n".join(f"--- {p.name}\n{tail(p)}" for p in logs)

    wait_for("every reminder sent", lambda: sum(s for s, _ in runs()) >= BATCH, timeout=120, why=why)
    wait_for("the first run finished too", lambda: len(runs()) >= 2, timeout=60, why=why)
    mails = received(maildir)
    to = sorted(m["To"] for m in mails)
    assert to == sorted(f"v{i:03d}@ldld.example.vn" for i in range(BATCH)), why()
    # Two runs of one task at the same time, each sending part of the batch, and the message
    # held by the server (its row planned again while the first run waited) not sent by the copy.
    assert len([r for r in runs() if r[0] > 0]) >= 2, why()
    assert any("smtp_answer_slow" in log.read_text(errors="replace") for log in logs), why()


class AnsweringHandler(MaildirHandler):
    """Answers the end of DATA by the address: "tam-thoi" 451 the first time; "cham" the same
    after half a second (past the sender's PROMPT_REPLY_SECONDS); "tu-choi" 554 always; the
    rest 250. Keeps only what it answers 250."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.refused: set[str] = set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        [to] = envelope.rcpt_tos
        if to.startswith("cham"):
            await asyncio.sleep(0.5)
        if "tu-choi" in to:
            return "554 5.7.1 Message rejected"
        if ("tam-thoi" in to or to.startswith("cham")) and to not in self.refused:
            self.refused.add(to)
            return "451 4.7.1 Try again later"
        return await super().handle_DATA(server, session, envelope)


def test_the_answer_to_the_final_dot_settles_the_row(
    ledger: sessionmaker[Session], base_env: dict[str, str], tmp_path: Path
) -> None:
    """The row is committed as sent before the server answers the "." (sender.py); the answer
    then settles it: a 451 puts it back to planned (sent on the task's retry, once), a 554 makes
    it failed with the reason, and a slow answer (the row waiting under the advisory lock) does
    the same — none of them is left saying sent without the server having kept it."""
    maildir = tmp_path / "mail"
    port = free_port()
    controller = Controller(AnsweringHandler(maildir), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        lowered: dict[str, Any] = {k.lower(): v for k, v in base_env.items()}
        settings = NotifySettings(**lowered, smtp_port=port)
        codes = ["A1", "TAM-THOI", "A2", "TU-CHOI", "CHAM", "A3"]
        owed = obligations([unit(c, email=f"{c.lower()}@ldld.example.vn") for c in codes])
        with tenant_session(ledger, THANH_HOA) as s:
            ids = planner.plan(s, owed, dt.datetime(2021, 4, 15, 8, tzinfo=VN_TZ), notify_policy(settings))
        tries = 0
        while True:  # what the task does: the batch again after each temporary failure
            tries += 1
            try:
                sender.send_batch(ledger, THANH_HOA, ids, lambda: mailer.connect(settings), settings.smtp_from)
                break
            except sender.TemporaryFailure:
                assert tries < 5
    finally:
        controller.stop()
    assert tries == 3  # the 451 at once, then the slow 451
    with tenant_session(ledger, THANH_HOA) as s:
        rows = {r.unit_code: r for r in s.scalars(select(Reminder).where(Reminder.id.in_(ids)))}
    assert {c: rows[c].state for c in codes} == {c: "failed" if c == "TU-CHOI" else "sent" for c in codes}
    assert rows["TU-CHOI"].error == "Máy chủ thư từ chối thư (mã 554)" and rows["TU-CHOI"].sent_at is None
    assert rows["TAM-THOI"].attempts == 2 and rows["CHAM"].attempts == 2 and rows["A1"].attempts == 1
    kept = sorted(m["To"] for m in received(maildir))
    assert kept == sorted(f"{c.lower()}@ldld.example.vn" for c in codes if c != "TU-CHOI")


# --- 3. an ingester's batch reclaimed while its COPY still waits ---------------------------------------


SUBMISSIONS = 300


def _copies_waiting(admin_url: str) -> int:
    with psycopg.connect(admin_url.replace("+psycopg", ""), autocommit=True) as c:
        row = c.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE 'COPY review.submissions%'"
        ).fetchone()
        return int(row[0]) if row else 0


def test_a_batch_reclaimed_while_it_is_written_is_written_once(
    base_env: dict[str, str],
    loaded_trees: CommonSettings,
    app_engine: Engine,
    pg_admin_url: str,
    private_redis: PrivateRedis,
    start_intake: Callable[..., Server],
    children: Children,
    tmp_path: Path,
) -> None:
    client: redis.Redis = private_redis.client()
    publish_directory(app_engine, client)
    stream = stream_name("submissions-vt")
    ensure_group(client, stream, INGESTER_GROUP)
    intake = start_intake(submissions_stream=stream, redis_url=private_redis.url())
    rows = Rows(pg_admin_url, dt.datetime.now(dt.UTC))
    answers = post(intake.url, SUBMISSIONS)
    accepted = accepted_codes(answers)
    assert len(accepted) == SUBMISSIONS
    ingesters = IngesterProcesses(
        children, ingester_env(base_env, stream, INGESTER_BATCH="1000", REDIS_URL=private_redis.url()), tmp_path
    )

    def why() -> str:
        return (
            f"rows {rows.count()}, pending a {pending(client, stream, 'vt-a')} b {pending(client, stream, 'vt-b')},"
            f" COPYs waiting {_copies_waiting(pg_admin_url)}\n{ingesters.logs()}"
        )

    # The table locked against writers: the first ingester's COPY of the whole backlog waits.
    with psycopg.connect(pg_admin_url.replace("+psycopg", "")) as lock:
        lock.execute("LOCK TABLE review.submissions IN SHARE MODE")
        # The first never reclaims (it would take the batch back from the second).
        ingesters.start(INGESTER_CONSUMER="vt-a", INGESTER_MIN_IDLE_MS="600000")
        wait_for(
            "the first ingester's COPY waiting with the batch",
            lambda: pending(client, stream, "vt-a") == SUBMISSIONS and _copies_waiting(pg_admin_url) == 1,
            timeout=60,
            why=why,
        )
        # The second finds the batch idle past its limit: a dead consumer's, it thinks.
        second = ingesters.start(INGESTER_CONSUMER="vt-b", INGESTER_MIN_IDLE_MS="500")
        wait_for(
            "the second ingester to reclaim the batch and write it too",
            lambda: pending(client, stream, "vt-b") == SUBMISSIONS and _copies_waiting(pg_admin_url) == 2,
            timeout=60,
            why=why,
        )
        lock.rollback()  # both COPYs go at once
    wait_for("every submission in the database", lambda: rows.count() >= SUBMISSIONS, timeout=60, why=why)
    wait_for("the stream to be empty", lambda: pending(client, stream) == 0, timeout=30, why=why)
    assert "reclaimed pending entries" in ingesters.full_log(second)
    assert_exactly_once(rows.codes(), accepted, client, stream)
    rows.close()
