"""One Celery factory for the services that run tasks (reporting, notify).

Tasks are named ``<service>.<verb>`` and routed to the service's own queue, so services send
each other work by name without importing each other. Acks are late and a task whose worker
died is rejected back to the queue: tasks must be safe to run twice (they take ids, reload and
return early when the work is done).
"""

from __future__ import annotations

from typing import Any

import structlog
from celery import Celery, signals

from shared.config import CommonSettings
from shared.logging import configure_logging


def make_celery(service: str, settings: CommonSettings) -> Celery:
    app = Celery(service, broker=settings.redis_url, backend=settings.redis_url)
    queue = settings.task_queue or service
    routes = {f"{name}.*": {"queue": name} for name in ("reporting", "notify")}
    routes[f"{service}.*"] = {"queue": queue}
    app.conf.update(
        task_default_queue=queue,
        task_routes=routes,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        result_expires=3600,
        timezone=settings.timezone,
        enable_utc=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.task_visibility_timeout,
            "unacked_restore_interval": settings.task_restore_interval,
            "unacked_restore_throttle": 1,  # every sweep scans: one ZRANGE per interval
        },
        worker_hijack_root_logger=False,
    )

    @signals.setup_logging.connect(weak=False)
    def _logging(**_: Any) -> None:
        configure_logging(service, level=settings.log_level, json=settings.log_json)

    @signals.task_prerun.connect(weak=False)
    def _bind(task_id: str | None = None, task: Any = None, **_: Any) -> None:
        structlog.contextvars.bind_contextvars(task_id=task_id, task=getattr(task, "name", None))

    @signals.task_postrun.connect(weak=False)
    def _unbind(**_: Any) -> None:
        structlog.contextvars.unbind_contextvars("task_id", "task")

    return app
