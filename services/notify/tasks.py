"""Notify's Celery app. Reminder planning and the exactly-once ledger (issue #6) build on
``notify.send_email``."""

from __future__ import annotations

from services.notify import mailer
from services.notify.config import NotifySettings
from shared.celery_app import make_celery

settings = NotifySettings()
celery = make_celery("notify", settings)
celery.conf.beat_schedule = {}


@celery.task(name="notify.send_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def send_email(to: str, subject: str, text: str, html: str | None = None) -> str:
    msg = mailer.build_message(settings, to=to, subject=subject, text=text, html=html)
    mailer.send(settings, msg)
    return str(msg["Message-ID"])
