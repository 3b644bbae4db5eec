"""Object storage through the ``minio`` client (SeaweedFS in dev/tests, MinIO in production)."""

from __future__ import annotations

from minio import Minio

from shared.config import CommonSettings


def make_client(settings: CommonSettings) -> Minio:
    return Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=settings.s3_secure,
        region=settings.s3_region,
    )


def ensure_bucket(client: Minio, bucket: str) -> bool:
    """Create the environment's bucket if missing; True when it was created."""
    if client.bucket_exists(bucket):
        return False
    client.make_bucket(bucket)
    return True
