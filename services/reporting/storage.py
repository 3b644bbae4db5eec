"""Reporting's objects in S3-compatible storage (the ``minio`` client; SeaweedFS in dev and
tests, MinIO in production): written, then read back by size before anyone may say "done";
handed out through presigned links that expire."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import quote, urlsplit

from minio import Minio

from services.reporting.config import ReportingSettings
from shared.storage import make_client

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def dossier_key(tenant_id: int, campaign: str, round_code: str, unit: str, content_hash: str, ext: str) -> str:
    """Keys begin with the tenant (a bucket policy or a retention job works per province) and
    end with the content's hash: the same data is the same object, changed data a new one."""
    return f"{tenant_id}/ho-so/{campaign}/{round_code}/{unit}/{content_hash}.{ext}"


def put_verified(client: Minio, bucket: str, key: str, data: bytes, content_type: str) -> int:
    """Write the object and read its size back (returned): a job is never done on an object
    that is not there. Writing the same key again writes the same bytes' worth
    (content-addressed)."""
    client.put_object(bucket, key, io.BytesIO(data), len(data), content_type=content_type)
    stat = client.stat_object(bucket, key)
    if stat.size != len(data):
        raise OSError(f"object storage kept {stat.size} bytes of {len(data)} for {key}")
    return len(data)


def present(client: Minio, bucket: str, key: str) -> bool:
    from minio.error import S3Error

    try:
        client.stat_object(bucket, key)
    except S3Error as exc:
        if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
            return False
        raise
    return True


def presign_client(settings: ReportingSettings) -> Minio:
    """A client for signing links only: it signs for the address browsers use. Signing needs no
    round trip when the region is given, so this never talks to the public endpoint."""
    if not settings.s3_public_url:
        return make_client(settings)
    url = urlsplit(settings.s3_public_url)
    return Minio(
        url.netloc,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=url.scheme == "https",
        region=settings.s3_region,
    )


def download_url(client: Minio, bucket: str, key: str, filename: str, ttl_seconds: int) -> str:
    """A presigned GET that makes the browser save the file under a readable Vietnamese name."""
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    return client.presigned_get_object(
        bucket,
        key,
        expires=dt.timedelta(seconds=ttl_seconds),
        response_headers={"response-content-disposition": disposition},
    )


def delete_prefix(client: Minio, bucket: str, prefix: str) -> int:
    """Remove every object under ``prefix`` (a tenant's campaign: ``<tenant>/ho-so/<campaign>/``),
    one by one so the count is what storage really removed. Nothing there: 0."""
    removed = 0
    for obj in client.list_objects(bucket, prefix=prefix, recursive=True):
        if obj.object_name is None or obj.is_dir:
            continue
        client.remove_object(bucket, obj.object_name)
        removed += 1
    return removed


def campaign_prefix(tenant_id: int, campaign: str) -> str:
    """What :func:`dossier_key` puts before a campaign's rounds (the trailing slash keeps
    "75k-demo" from matching "75k-demo-2")."""
    return f"{tenant_id}/ho-so/{campaign}/"
