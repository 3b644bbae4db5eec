"""Object storage and the mail server away for a minute, at once, with a reporting worker and a
notify worker running as `make run` starts them (`python -m shared.cli worker …`).

A forwarder stands in front of SeaweedFS and one in front of the SMTP server (aiosmtpd keeping
what it accepts as .eml files); both are cut before the work is asked for: dossier jobs through
reporting's API, reminders planned into notify's ledger and handed to the worker in batches.
For the whole minute: no job done or failed, no object written, no reminder sent or failed, no
message received — while both workers keep trying (their logs say so). Then both come back and
everything finishes by itself, with nothing restarted: each job done with both objects present,
each reminder in the mailbox exactly once."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from devstack.embedded import free_port
from devstack.smtp import MaildirHandler
from services.notify import planner
from services.notify.config import NotifySettings
from services.notify.models import Reminder
from services.notify.tasks import chunks, policy
from services.reporting.app import create_app as create_reporting_app
from services.reporting.config import ReportingSettings
from services.reporting.models import DossierJob
from shared.celery_app import make_celery
from shared.config import CommonSettings
from shared.contracts.dossier import REPORTING_AUDIENCE
from shared.contracts.reminders import SEND_TASK
from shared.db import make_sessionmaker, tenant_session
from shared.servicetoken import issue
from shared.storage import ensure_bucket, make_client
from shared.timeutil import VN_TZ
from tests.notify.conftest import obligations, received, unit
from tests.reporting.conftest import dossier
from tests.support.netproxy import Proxy
from tests.support.processes import ROOT, Children, tail, wait_for

pytestmark = pytest.mark.xdist_group("outages")

THANH_HOA = 38
OUTAGE_SECONDS = 60
JOBS = 4
REMINDERS = 30


@pytest.fixture
def mail(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    maildir = tmp_path / "mail"
    port = free_port()
    controller = Controller(MaildirHandler(maildir), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, maildir
    controller.stop()


def _jobs(sessions: sessionmaker[Session], ids: list[str]) -> list[DossierJob]:
    with tenant_session(sessions, THANH_HOA) as s:
        found = s.scalars(
            select(DossierJob).where(DossierJob.tenant_id == THANH_HOA, DossierJob.id.in_([uuid.UUID(i) for i in ids]))
        ).all()
        assert len(found) == len(ids)
        return list(found)


def _reminders(sessions: sessionmaker[Session], ids: list[int]) -> dict[str, int]:
    with tenant_session(sessions, THANH_HOA) as s:
        rows = s.execute(
            select(Reminder.state, func.count())
            .where(Reminder.tenant_id == THANH_HOA, Reminder.id.in_(ids))
            .group_by(Reminder.state)
        ).all()
        return {str(state): int(n) for state, n in rows}


def test_storage_and_mail_down_for_a_minute_jobs_wait_and_finish(
    base_env: dict[str, str],
    s3_env: dict[str, str],
    migrated: CommonSettings,
    app_engine: Engine,
    mail: tuple[int, Path],
    children: Children,
    tmp_path: Path,
) -> None:
    smtp_port, maildir = mail
    env = {**base_env, **s3_env, "SERVICE_TOKEN_SECRET": secrets.token_urlsafe(24)}
    reporting_queue = f"reporting-outage-{secrets.token_hex(4)}"
    notify_queue = f"notify-outage-{secrets.token_hex(4)}"
    lowered: dict[str, Any] = {k.lower(): v for k, v in env.items()}
    reporting_settings = ReportingSettings(**lowered, task_queue=reporting_queue)
    storage = make_client(reporting_settings)  # straight to SeaweedFS: the test's own view
    ensure_bucket(storage, reporting_settings.bucket)
    notify_settings = NotifySettings(**lowered, smtp_port=smtp_port, task_queue=notify_queue)
    sessions = make_sessionmaker(app_engine)

    # Both cut before anything is asked: nothing listens on the forwarders' ports yet.
    s3_proxy = Proxy(int(s3_env["S3_ENDPOINT"].rsplit(":", 1)[1]))
    smtp_proxy = Proxy(smtp_port)
    logs = {"reporting": tmp_path / "reporting-worker.log", "notify": tmp_path / "notify-worker.log"}
    common = {**os.environ, **env, "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO", "LOG_JSON": "false"}
    workers = {
        "reporting": children.spawn(
            # A process per job: each attempt waits ~6 s in the storage client's own retries, and
            # every job must be seen retrying in each half of the outage.
            [sys.executable, "-m", "shared.cli", "worker", "reporting", "--concurrency", str(JOBS)],
            log=logs["reporting"],
            env={
                **common,
                "S3_ENDPOINT": s3_proxy.endpoint,
                "TASK_QUEUE": reporting_queue,
                # The default budget (20 retries) outlasts a minute; a short cap on the backoff
                # keeps the test's wait after the outage short.
                "RENDER_BACKOFF_MAX_SECONDS": "5",
            },
            cwd=ROOT,
        ),
        "notify": children.spawn(
            [sys.executable, "-m", "shared.cli", "worker", "notify", "--concurrency", "2"],
            log=logs["notify"],
            env={
                **common,
                "SMTP_PORT": str(smtp_proxy.port),
                "TASK_QUEUE": notify_queue,
                "SEND_BACKOFF_MAX_SECONDS": "5",
            },
            cwd=ROOT,
        ),
    }

    def why() -> str:
        return "\n".join(f"--- {name}\n{tail(path, 15)}" for name, path in logs.items())

    reminder_ids: list[int] = []
    try:
        # Dossier jobs through reporting's API (which sends the render tasks after its commit).
        token = issue(
            reporting_settings.service_token_key(),
            tenant_id=THANH_HOA,
            officer_id=7,
            unit_code="thanh-hoa",
            role="chu_tich",
            aud=REPORTING_AUDIENCE,
            ttl=120,
        )
        dossiers = [dossier(rows=2) for _ in range(JOBS)]
        with TestClient(create_reporting_app(reporting_settings)) as api:
            r = api.post(
                "/api/v1/dossiers",
                json={"dossiers": [d.model_dump(mode="json") for d in dossiers]},
                headers={"authorization": f"Bearer {token}"},
            )
        assert r.status_code == 202, r.text
        job_ids = [j["id"] for j in r.json()["jobs"]]
        hashes = {d.content_hash() for d in dossiers}

        # Reminders planned into the ledger (committed), then handed to the worker in batches.
        tag = secrets.token_hex(2).upper()
        owed = obligations([unit(f"O{tag}{i:03d}") for i in range(REMINDERS)])
        with tenant_session(sessions, THANH_HOA) as s:
            reminder_ids = planner.plan(s, owed, dt.datetime(2021, 4, 15, 8, tzinfo=VN_TZ), policy(notify_settings))
        assert len(reminder_ids) == REMINDERS
        celery = make_celery("notify", notify_settings)
        for batch in chunks(reminder_ids, 10):
            celery.send_task(SEND_TASK, args=[THANH_HOA, batch])
        cut_at = time.monotonic()

        def ours_in_storage() -> list[str]:
            return [
                o.object_name
                for o in storage.list_objects(reporting_settings.bucket, prefix=f"{THANH_HOA}/", recursive=True)
                if any(h in (o.object_name or "") for h in hashes)
            ]

        def send_retries() -> int:
            return logs["notify"].read_text(errors="replace").count("reminders_retry")

        # The minute of the outage, looked at every second; halfway, what was tried so far.
        tries_seen = False
        halfway: tuple[dict[uuid.UUID, int], int] | None = None
        while time.monotonic() - cut_at < OUTAGE_SECONDS:
            jobs = _jobs(sessions, job_ids)
            assert all(j.state in ("queued", "rendering") for j in jobs), [(j.state, j.error) for j in jobs]
            assert all(j.pdf_key is None and j.docx_key is None and j.finished_at is None for j in jobs)
            assert not ours_in_storage()
            assert _reminders(sessions, reminder_ids) == {"planned": REMINDERS}
            assert not list(maildir.glob("*.eml"))
            for name, p in workers.items():
                assert p.poll() is None, f"the {name} worker died:\n{why()}"
            tries_seen = tries_seen or (min(j.attempts for j in jobs) >= 1 and send_retries() > 0)
            if halfway is None and time.monotonic() - cut_at >= OUTAGE_SECONDS / 2:
                halfway = ({j.id: j.attempts for j in jobs}, send_retries())
            time.sleep(1)
        assert tries_seen and halfway is not None, "the workers never tried during the outage:\n" + why()
        # Still trying in the second half: no task gave up (or was dropped) in the meantime.
        attempts = {j.id: j.attempts for j in _jobs(sessions, job_ids)}
        assert all(attempts[k] > n for k, n in halfway[0].items()), (halfway[0], attempts, why())
        assert send_retries() > halfway[1], why()
        tried = {"renders": sum(attempts.values()), "send retries": send_retries()}

        s3_proxy.up()
        smtp_proxy.up()
        back_at = time.monotonic()
        wait_for(
            "every dossier job done",
            lambda: all(j.state == "done" for j in _jobs(sessions, job_ids)),
            timeout=90,
            every=0.5,
            why=why,
        )
        wait_for(
            "every reminder sent",
            lambda: _reminders(sessions, reminder_ids) == {"sent": REMINDERS},
            timeout=90,
            every=0.5,
            why=lambda: f"{_reminders(sessions, reminder_ids)}\n{why()}",
        )
        print(f"tries during the outage {tried}; finished {time.monotonic() - back_at:.1f}s after it ended")

        # Done means both objects are there, as recorded; each reminder arrived once.
        for j in _jobs(sessions, job_ids):
            assert j.pdf_key and j.docx_key, j.id
            for key in (j.pdf_key, j.docx_key):
                assert (storage.stat_object(reporting_settings.bucket, key).size or 0) > 0, key
        assert len(ours_in_storage()) == 2 * JOBS
        mails = received(maildir)
        assert len(mails) == REMINDERS and len({m["Message-ID"] for m in mails}) == REMINDERS
        assert sorted(str(m["To"]) for m in mails) == sorted(
            f"o{tag.lower()}{i:03d}@ldld.example.vn" for i in range(REMINDERS)
        )
        for name, p in workers.items():
            assert p.poll() is None, f"the {name} worker died:\n{why()}"
    finally:
        s3_proxy.down()
        smtp_proxy.down()
        children.stop_all()
        client = redis.Redis.from_url(base_env["REDIS_URL"])
        client.delete(reporting_queue, notify_queue)
        if reminder_ids:
            with app_engine.begin() as c:
                c.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(THANH_HOA)})
                c.execute(
                    text("DELETE FROM notify.reminders WHERE tenant_id = :t AND id = ANY(:ids)"),
                    {"t": THANH_HOA, "ids": reminder_ids},
                )
