"""Reporting's Celery app and its tasks. Each task takes ids, reloads, and returns early when
the work is done, so a redelivery (a killed worker, a visibility timeout) costs nothing."""

from __future__ import annotations

import functools
import io
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import structlog
import urllib3.exceptions
from minio import Minio
from minio.error import S3Error
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from services.reporting import service
from services.reporting.config import ReportingSettings
from shared.celery_app import make_celery
from shared.contracts.dossier import RENDER_TASK
from shared.db import make_engine, make_sessionmaker, tenant_session
from shared.storage import make_client

log = structlog.get_logger("reporting.tasks")
settings = ReportingSettings()
celery = make_celery("reporting", settings)

# What an outage looks like from here: storage refusing or unreachable, PostgreSQL gone. These
# are retried with backoff; anything else is a fault of the render itself and fails the job.
TRANSIENT: tuple[type[BaseException], ...] = (
    S3Error,
    OSError,
    urllib3.exceptions.HTTPError,
    DBAPIError,
)
OUTAGE = "Kho lưu trữ hoặc cơ sở dữ liệu không phản hồi; vui lòng yêu cầu tạo lại hồ sơ"
BROKEN = "Lỗi khi dựng tài liệu; bộ phận kỹ thuật đã được báo"


@dataclass(frozen=True)
class Resources:
    sessions: sessionmaker[Session]
    storage: Minio


@functools.cache
def resources() -> Resources:
    """Made on first use in the worker process (no I/O at import time)."""
    # WeasyPrint reports every page it lays out at INFO: thousands of lines per dossier.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    engine = make_engine(settings.runtime_database_url, pool_size=2)
    return Resources(make_sessionmaker(engine), make_client(settings))


@functools.cache
def renderers() -> service.Renderers:
    from services.reporting.render import render_docx, render_pdf  # WeasyPrint: heavy, worker only

    return service.Renderers(pdf=render_pdf, docx=render_docx)


def backoff(retries: int) -> int:
    return int(min(settings.render_backoff_max_seconds, 2 ** min(retries, 10)))


@celery.task(name=RENDER_TASK, bind=True)
def render_dossier(self: Any, tenant_id: int, job_id: str) -> str:
    res = resources()
    try:
        with tenant_session(res.sessions, tenant_id) as s:
            if not service.begin_render(s, tenant_id, job_id):
                return "nothing-to-do"
        with tenant_session(res.sessions, tenant_id) as s:
            outcome = service.render_claimed(s, res.storage, settings.bucket, tenant_id, job_id, renderers())
    except TRANSIENT as exc:
        log.warning(
            "dossier_retry", job=job_id, tenant=tenant_id, error=type(exc).__name__, retries=self.request.retries
        )
        if self.request.retries >= settings.render_max_retries:
            _give_up(res, tenant_id, job_id, OUTAGE)
            raise
        # max_retries named: Celery's own default (3) would end the task after ~30 s of an
        # outage, with the job left "rendering" for good instead of retried or marked failed.
        raise self.retry(
            exc=exc, countdown=backoff(self.request.retries), max_retries=settings.render_max_retries
        ) from exc
    except Exception:
        log.exception("dossier_failed", job=job_id, tenant=tenant_id)
        _give_up(res, tenant_id, job_id, BROKEN)
        raise
    if outcome == "busy":
        # Another delivery of this task renders it now. Look again later: if that worker dies,
        # the lock goes with its connection and this copy finishes the job.
        log.info("dossier_busy", job=job_id, tenant=tenant_id)
        raise self.retry(countdown=10, max_retries=settings.render_max_retries + 30)
    log.info("dossier_" + outcome.replace("-", "_"), job=job_id, tenant=tenant_id)
    return outcome


def _give_up(res: Resources, tenant_id: int, job_id: str, reason: str) -> None:
    try:
        with tenant_session(res.sessions, tenant_id) as s:
            service.fail(s, tenant_id, job_id, reason)
    except DBAPIError:
        log.warning("dossier_fail_not_recorded", job=job_id, tenant=tenant_id)


@celery.task(name="reporting.storage_roundtrip")
def storage_roundtrip() -> str:
    """Write, read back and delete a probe object: proves a worker reaches object storage with
    its credentials (the operators' smoke check)."""
    return roundtrip(make_client(settings), settings.bucket)


def roundtrip(client: Minio, bucket: str) -> str:
    key = f"_probe/{uuid.uuid4().hex}"
    body = b"sang-kien"
    client.put_object(bucket, key, io.BytesIO(body), len(body))
    try:
        got = client.get_object(bucket, key)
        try:
            data = got.read()
        finally:
            got.close()
            got.release_conn()
    finally:
        client.remove_object(bucket, key)
    if data != body:
        raise RuntimeError("object storage returned different bytes")
    return key
