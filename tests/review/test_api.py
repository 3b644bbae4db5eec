from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.review.app import create_app
from services.review.config import ReviewSettings
from shared.config import CommonSettings


@pytest.fixture
def client(loaded_trees: CommonSettings, base_env: dict[str, str]) -> Iterator[TestClient]:
    settings = ReviewSettings(**{k.lower(): v for k, v in base_env.items()})
    with TestClient(create_app(settings)) as c:
        yield c


def test_health_checks_real_dependencies(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"postgres": "ok", "redis": "ok"}


def test_readyz_fails_when_postgres_is_unreachable(base_env: dict[str, str], loaded_trees: CommonSettings) -> None:
    env = {k.lower(): v for k, v in base_env.items()}
    env["app_database_url"] = "postgresql://sangkien_app@127.0.0.1:1/nothing"
    with TestClient(create_app(ReviewSettings(**env))) as c:
        r = c.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["postgres"].startswith("lỗi")


def test_tenants_and_campaigns(client: TestClient) -> None:
    tenants = client.get("/api/v1/tenants").json()
    assert len(tenants) == 84
    assert {"code": "thanh-hoa", "name": "Liên đoàn Lao động tỉnh Thanh Hóa"}.items() <= next(
        t for t in tenants if t["code"] == "thanh-hoa"
    ).items()
    campaigns = {c["code"]: c for c in client.get("/api/v1/campaigns").json()}
    real = campaigns["75k-2021"]
    assert real["closes_at_text"] == "24:00 ngày 20/04/2021"
    assert real["closes_at"].endswith("+07:00") and not real["is_open"]
    assert campaigns["75k-demo"]["is_open"] and campaigns["75k-demo"]["is_demo"]


def test_unit_picker(client: TestClient) -> None:
    r = client.get("/api/v1/tenants/cao-bang/units")
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "Liên đoàn Lao động tỉnh Cao Bằng"
    names = {c["name"] for c in body["children"]}
    assert "Liên đoàn Lao động huyện Hà Quảng" in names
    assert all(c["kind_label"] for c in body["children"])
    # The same tenant's 2025 tree has no district bodies.
    kids_2025 = client.get("/api/v1/tenants/cao-bang/units", params={"tree": "2025"}).json()["children"]
    assert kids_2025 and not any(c["kind"] == "district" for c in kids_2025)


def test_units_of_one_tenant_are_not_reachable_through_another(client: TestClient) -> None:
    assert client.get("/api/v1/tenants/cao-bang/units", params={"unit": "H045"}).status_code == 200
    # H045 (Hà Quảng) belongs to Cao Bằng: asked for under Thanh Hóa it does not exist.
    r = client.get("/api/v1/tenants/thanh-hoa/units", params={"unit": "H045"})
    assert r.status_code == 404
    assert r.json()["message"] == "Không tìm thấy đơn vị"
    assert client.get("/api/v1/tenants/khong-co/units").status_code == 404


def test_metrics_and_headers(client: TestClient) -> None:
    r = client.get("/api/v1/tenants", headers={"x-request-id": "abc123"})
    assert r.headers["x-request-id"] == "abc123"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    metrics = client.get("/metrics").text
    assert 'http_requests_total{method="GET",route="/api/v1/tenants",service="review",status="200"}' in metrics
