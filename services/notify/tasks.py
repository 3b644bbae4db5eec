"""Notify's Celery app: the beat plans reminders every minute, workers send them in batches.
Tasks take ids and reload; the ledger makes every one of them safe to run twice."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import redis
import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from services.notify import mailer, planner, sender
from services.notify import repository as repo
from services.notify.config import NotifySettings
from services.notify.review_client import ReviewClient, tenant_ids
from shared.celery_app import make_celery
from shared.contracts.reminders import SEND_TASK
from shared.db import make_engine, make_sessionmaker, tenant_session
from shared.timeutil import now

log = structlog.get_logger("notify.tasks")
settings = NotifySettings()
celery = make_celery("notify", settings)
PLAN_TASK = "notify.plan"
PLAN_LOCK = "notify:plan:lock"
STALE = dt.timedelta(minutes=5)
celery.conf.beat_schedule = {
    "plan-reminders": {"task": PLAN_TASK, "schedule": float(settings.plan_every_seconds)},
}


@dataclass(frozen=True)
class Resources:
    sessions: sessionmaker[Session]
    redis: redis.Redis
    review: ReviewClient


@functools.cache
def resources() -> Resources:
    """Made on first use in the worker process (no I/O at import time)."""
    engine = make_engine(settings.runtime_database_url, pool_size=2)
    return Resources(
        make_sessionmaker(engine),
        redis.Redis.from_url(settings.redis_url, socket_timeout=10),
        ReviewClient(settings.review_url, settings.service_token_key()),
    )


def policy(s: NotifySettings) -> planner.Policy:
    return planner.Policy(
        offsets=s.offsets,
        morning=s.reminder_morning,
        escalation_window=dt.timedelta(days=s.escalation_days),
        console_url=s.console_url,
    )


def chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def plan_all(res: Resources, s: NotifySettings, at: dt.datetime, send: Any) -> dict[int, list[int]]:
    """Plan every tenant at ``at``; hand each tenant's new and stale reminders to ``send``.
    Returns what was handed over, per tenant."""
    lookahead = max(int(o.removesuffix("d")) for o in s.offsets) + 1
    window = (at - dt.timedelta(days=s.escalation_days), at + dt.timedelta(days=lookahead))
    handed: dict[int, list[int]] = {}
    for tenant in tenant_ids(res.redis):
        try:
            owed = res.review.obligations(tenant, *window)
        except httpx.HTTPError as exc:
            log.warning("plan_tenant_unreachable", tenant=tenant, error=type(exc).__name__)
            continue
        with tenant_session(res.sessions, tenant) as session:
            new = planner.plan(session, owed, at, policy(s))
            stale = repo.stale_planned(session, tenant, at - STALE)
        ids = sorted(set(new) | set(stale))  # committed above: a worker finds every one
        for batch in chunks(ids, s.send_batch_size):
            send(tenant, batch)
        if ids:
            handed[tenant] = ids
    return handed


@celery.task(name=PLAN_TASK)
def plan_reminders() -> int:
    res = resources()
    # One planner at a time: a second beat started by mistake finds the lock and does nothing
    # (the ledger would refuse its rows anyway; this spares review the second round of calls).
    if not res.redis.set(PLAN_LOCK, "1", nx=True, ex=max(5, settings.plan_every_seconds - 5)):
        return 0
    handed = plan_all(res, settings, now(), lambda t, ids: celery.send_task(SEND_TASK, args=[t, ids]))
    total = sum(len(v) for v in handed.values())
    if total:
        log.info("reminders_planned", reminders=total, tenants=len(handed))
    return total


@celery.task(name=SEND_TASK, bind=True)
def send_batch(self: Any, tenant_id: int, ids: list[int]) -> dict[str, int]:
    res = resources()
    try:
        out = sender.send_batch(res.sessions, tenant_id, ids, lambda: mailer.connect(settings), settings.smtp_from)
    except (sender.TemporaryFailure, DBAPIError) as exc:
        retries = self.request.retries
        log.warning("reminders_retry", tenant=tenant_id, error=str(exc)[:80], retries=retries)
        countdown = int(min(settings.send_backoff_max_seconds, 2 ** min(retries, 10)))
        raise self.retry(exc=exc, countdown=countdown, max_retries=settings.send_max_retries) from exc
    log.info("reminders_sent", tenant=tenant_id, sent=len(out.sent), failed=len(out.failed), held=len(out.held))
    return {"sent": len(out.sent), "failed": len(out.failed), "held": len(out.held)}


@celery.task(name="notify.send_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def send_email(to: str, subject: str, text: str, html: str | None = None) -> str:
    msg = mailer.build_message(settings, to=to, subject=subject, text=text, html=html)
    mailer.send(settings, msg)
    return str(msg["Message-ID"])
