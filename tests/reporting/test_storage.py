from __future__ import annotations

from fastapi.testclient import TestClient

from services.reporting.app import create_app
from services.reporting.config import ReportingSettings
from services.reporting.tasks import roundtrip
from shared.config import CommonSettings
from shared.storage import ensure_bucket, make_client


def test_bucket_readiness_and_roundtrip(
    base_env: dict[str, str], s3_env: dict[str, str], migrated: CommonSettings
) -> None:
    # A bucket of its own: the one the other reporting tests share is created by their fixture.
    s = ReportingSettings(**{k.lower(): v for k, v in {**base_env, **s3_env, "S3_BUCKET": "sangkien-probe"}.items()})
    with TestClient(create_app(s)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["s3"].startswith("lỗi")  # bucket not created yet
        client = make_client(s)
        assert ensure_bucket(client, s.bucket) is True
        assert ensure_bucket(client, s.bucket) is False
        assert c.get("/readyz").status_code == 200
    key = roundtrip(client, s.bucket)
    assert key.startswith("_probe/")
    assert not list(client.list_objects(s.bucket, prefix="_probe/", recursive=True))


def test_wrong_credentials_are_refused(base_env: dict[str, str], s3_env: dict[str, str]) -> None:
    import minio.error
    import pytest

    s = ReportingSettings(**{k.lower(): v for k, v in {**base_env, **s3_env, "S3_SECRET_KEY": "wrong"}.items()})
    with pytest.raises(minio.error.S3Error):
        make_client(s).list_buckets()
