"""Reporting's Celery app. Dossier rendering (issue #5) registers its tasks here."""

from __future__ import annotations

import io
import uuid

from minio import Minio

from services.reporting.config import ReportingSettings
from shared.celery_app import make_celery
from shared.storage import make_client

settings = ReportingSettings()
celery = make_celery("reporting", settings)


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
