"""Reminders for one deadline to 10,000 units, through the ledger and the notify worker exactly
as `make run` starts it (`python -m shared.cli worker notify --concurrency 2`), to a local SMTP
server (aiosmtpd in its own process, keeping every message as a file, as in `make run`); timed
from the plan to the last message the server kept. The baseline, in the same run: the same
number of messages of the same size sent by a plain smtplib loop over one connection.

    python -m bench --only reminders [--quick]
"""

from __future__ import annotations

import datetime as dt
import smtplib
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from bench.env import ROOT, BenchEnv, start_worker, stop
from devstack.embedded import free_port, wait_port

TARGET_SECONDS = 60.0
THANH_HOA = 38


@dataclass
class ReminderRun:
    n: int
    seconds: float
    planning_seconds: float
    baseline_seconds: float
    received: int

    @property
    def ratio(self) -> float:
        return self.seconds / self.baseline_seconds if self.baseline_seconds else 0.0


def _obligations(n: int) -> object:
    from shared.contracts.obligations import ObligationsOut, UnitDue

    units = [
        UnitDue(
            unit_code=f"B{i:05d}",
            unit_name=f"Công đoàn cơ sở số {i}",
            email=f"cdcs{i:05d}@bench.example.vn",
            parent_code="thanh-hoa",
            parent_name="Liên đoàn Lao động tỉnh Thanh Hóa",
            parent_email="tinh@bench.example.vn",
            used=0,
            min_count=1,
            max_count=2,
            fulfilled=False,
            console_path="/console/de-cu?chuong_trinh=75k-2021&dot=dot-1",
        )
        for i in range(n)
    ]
    from services.notify.messages import SAMPLE_DEADLINE  # Thanh Hóa's round 1 of 2021

    deadline = SAMPLE_DEADLINE.model_copy(update={"deadline_id": int(time.time()), "units": units})
    return ObligationsOut(tenant_id=THANH_HOA, deadlines=[deadline])


def _baseline(port: int, n: int, sample: EmailMessage) -> float:
    t = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for i in range(n):
            msg = EmailMessage()
            for k in ("From", "Subject"):
                msg[k] = sample[k]
            msg["To"] = f"plain{i:05d}@bench.example.vn"
            msg.set_content(sample.get_body(("plain",)).get_content())  # type: ignore[union-attr]
            smtp.send_message(msg)
    return time.perf_counter() - t


def _count(maildir: Path) -> int:
    return sum(1 for _ in maildir.glob("*.eml"))


def run(env: BenchEnv, logdir: Path, *, quick: bool, say: Callable[[str], None]) -> list[ReminderRun]:
    from services.notify import planner
    from services.notify.config import NotifySettings
    from services.notify.sender import build
    from services.notify.tasks import SEND_TASK, chunks, policy
    from shared.celery_app import make_celery
    from shared.db import make_engine, make_sessionmaker, tenant_session
    from shared.timeutil import VN_TZ

    n = 2_000 if quick else 10_000
    results: list[ReminderRun] = []
    with tempfile.TemporaryDirectory(prefix="bench-mail-") as tmp:
        maildir, plain = Path(tmp) / "mail", Path(tmp) / "plain"
        port, plain_port = free_port(), free_port()
        servers = [
            subprocess.Popen(  # noqa: S603 - our own interpreter and module, with paths of our temp dir
                [sys.executable, "-m", "devstack.smtp", "--dir", str(d), "--port", str(p)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for d, p in ((maildir, port), (plain, plain_port))
        ]
        worker = None
        try:
            for p in (port, plain_port):
                wait_port("127.0.0.1", p, 20)
            queue = "bench-notify"
            settings = NotifySettings(**{k.lower(): v for k, v in env.env.items()}, smtp_port=port, task_queue=queue)
            worker_env = {**env.env, "SMTP_PORT": str(port), "TASK_QUEUE": queue, "LOG_LEVEL": "WARNING"}
            worker = start_worker("notify", worker_env, logdir / "notify-worker.log")
            engine = make_engine(settings.runtime_database_url, pool_size=1)
            sessions = make_sessionmaker(engine)
            celery = make_celery("notify", settings)
            time.sleep(3)  # the worker's processes up before the clock starts
            t = time.monotonic()
            with tenant_session(sessions, THANH_HOA) as s:
                ids = planner.plan(s, _obligations(n), dt.datetime(2021, 4, 15, 8, tzinfo=VN_TZ), policy(settings))  # type: ignore[arg-type]
                from services.notify.models import Reminder

                sample = build(s.get(Reminder, (THANH_HOA, ids[0])), settings.smtp_from)  # type: ignore[arg-type]
            planning = time.monotonic() - t
            for batch in chunks(ids, settings.send_batch_size):
                celery.send_task(SEND_TASK, args=[THANH_HOA, batch])
            while _count(maildir) < n and time.monotonic() - t < 600:
                time.sleep(0.1)
            seconds = time.monotonic() - t
            got = _count(maildir)
            engine.dispose()
            baseline = _baseline(plain_port, n, sample)
            r = ReminderRun(n, seconds, planning, baseline, got)
            results.append(r)
            say(
                f"  {n:,} reminders: {seconds:.1f} s from the plan to the last message kept "
                f"(planning {planning:.1f} s; {got:,} received), plain smtplib loop {baseline:.1f} s "
                f"(× {r.ratio:.2f})"
            )
        finally:
            for p in [*servers, *([worker] if worker else [])]:
                stop(p)
    return results


def table(results: list[ReminderRun]) -> str:
    lines = [
        "| reminders | plan → last message kept (ledger, worker ×2) | planning | plain smtplib loop | ratio | target |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        ok = "met" if r.seconds < TARGET_SECONDS else "not met"
        lines.append(
            f"| {r.n:,} ({r.received:,} received) | {r.seconds:.1f} s | {r.planning_seconds:.1f} s | "
            f"{r.baseline_seconds:.1f} s | {r.ratio:.2f} | < {TARGET_SECONDS:.0f} s: {ok} |"
        )
    return "\n".join(lines)
