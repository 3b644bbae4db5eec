"""The workflow's HTTP API: a flow through the endpoints, and, for every endpoint, an officer
of another tenant gets 404 for this tenant's things (row-level security under the officer's
tenant, then the unit-subtree check). The signed-in officer comes from accounts.deps
(``current_officer``), replaced here by the officer each request acts as."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.review.accounts.deps import current_officer
from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.app import create_app
from services.review.config import ReviewSettings
from services.review.workflow import service
from shared.config import CommonSettings
from shared.contracts.submissions import status_key
from shared.db import tenant_session
from shared.pii import PiiCipher
from shared.timeutil import now
from tests.review.workflow.factories import CAO_BANG, THANH_HOA, TLD, World

pytestmark = pytest.mark.xdist_group("workflow-api")


@dataclass
class Scene:
    client: TestClient
    code: str
    submission_id: int
    complaint_id: int
    chair: Officer
    appraiser: Officer
    admin: Officer
    stranger: Officer  # Cao Bằng's administrator, at its root: sees all of Cao Bằng, nothing else
    tld: Officer
    token: str
    settings: ReviewSettings

    def act_as(self, officer: Officer) -> TestClient:
        app = self.client.app
        assert isinstance(app, FastAPI)
        app.dependency_overrides[current_officer] = lambda: officer
        return self.client


@pytest.fixture
def scene(workflow_seeded: CommonSettings, base_env: dict[str, str]) -> Iterator[Scene]:
    settings = ReviewSettings.model_validate({k.lower(): v for k, v in base_env.items()})
    app = create_app(settings)
    with TestClient(app) as client, tenant_session(app.state.sessions, THANH_HOA) as s:
        w = World(s, workflow_seeded).as_tenant(THANH_HOA)
        unit = w.add_unit(w.unit("thanh-hoa"), kind="grassroots_direct", name="CĐCS trực thuộc (thử API)")
        chair, appraiser = w.officer(unit, Role.chu_tich), w.officer(unit, Role.tham_dinh)
        admin = w.officer(w.unit("thanh-hoa"), Role.quan_tri)
        recent, applied = now() - dt.timedelta(hours=1), f"{now():%m/%Y}"
        sub = w.submission(unit, campaign="75k-demo", submitted_at=recent, applied_from=applied)
        other = w.submission(unit, campaign="75k-demo", submitted_at=recent, applied_from=applied)
        complaint = service.file_complaint(s, chair, other.tracking_code, kind="noi_dung", body="Thử")
        code, sid = sub.tracking_code, sub.id
    with tenant_session(app.state.sessions, CAO_BANG) as s:
        stranger = World(s, workflow_seeded).as_tenant(CAO_BANG)
        stranger_officer = stranger.officer(stranger.unit("cao-bang"), Role.quan_tri)
    with tenant_session(app.state.sessions, TLD) as s:
        t = World(s, workflow_seeded).as_tenant(TLD)
        tld = t.officer(t.unit("tld"), Role.chu_tich)
    with client:
        sc = Scene(client, code, sid, complaint.id, chair, appraiser, admin, stranger_officer, tld, "", settings)
        r = sc.act_as(chair).post(f"/api/v1/workflow/submissions/{code}/confirmation-link")
        assert r.status_code == 200, r.text
        sc.token = r.json()["token"]
        yield sc


def test_the_flow_over_http(scene: Scene, redis_url: str) -> None:
    c, code = scene.act_as(scene.appraiser), scene.code
    base = f"/api/v1/workflow/submissions/{code}"
    scores = {"tinh_moi": "8", "hieu_qua": "9.5", "pham_vi": "7", "nhan_rong": "8"}
    r = c.post(f"{base}/scores", json={"round": "dot-1", "scores": scores, "comment": "Tốt"})
    assert r.status_code == 200, r.text
    assert r.json()["mean"] == "8.33"  # (8×25 + 9.5×35 + 7×20 + 8×20) / 100 = 8.325, half up
    bad = c.post(f"{base}/scores", json={"round": "dot-1", "scores": {"tinh_moi": "11"}})
    assert bad.status_code == 422 and bad.json()["field"] == "scores.tinh_moi"

    c = scene.act_as(scene.chair)
    r = c.post(f"{base}/nominate", json={"round": "dot-1"})
    assert r.status_code == 422
    assert [f["code"] for f in r.json()["failures"]] == ["xac_nhan"]

    page = c.get(f"/xac-nhan/{scene.token}")
    assert page.status_code == 200 and "Xác nhận áp dụng sáng kiến" in page.text
    form = {"name": "Phạm Văn Nam", "title": "Giám đốc", "applied_on": (now().date()).isoformat()}
    assert c.post(f"/xac-nhan/{scene.token}", data=form).status_code == 200
    again = c.post(f"/api/v1/xac-nhan/{scene.token}", json=form)
    assert again.status_code == 409 and again.json()["message"] == "Đường dẫn xác nhận đã được sử dụng"

    rds = redis.Redis.from_url(redis_url)
    rds.hset(status_key(code), mapping={"s": "received"})  # intake's tracking record
    r = c.post(f"{base}/nominate", json={"round": "dot-1"})
    assert r.status_code == 200, r.text
    assert not rds.exists(status_key(code))  # intake now asks review, which knows the new state
    wrong = hashlib.sha256(b"x").hexdigest()
    assert c.get(f"/api/v1/tracking/{code}", headers={"x-phone-digest": wrong}).status_code == 404
    phone = PiiCipher.from_settings(scene.settings).digest("0912345678", kind="phone").hex()
    answer = c.get(f"/api/v1/tracking/{code}", headers={"x-phone-digest": phone}).json()
    assert answer["status_label"] == "Đã được giới thiệu lên công đoàn cấp trên"
    assert answer["status_detail"] == "Đã được giới thiệu lên Liên đoàn Lao động tỉnh Thanh Hóa"
    assert [h["label"] for h in answer["history"]] == [
        "Đang được thẩm định",
        "Đã được giới thiệu lên Liên đoàn Lao động tỉnh Thanh Hóa",
    ]
    assert (r.json()["to_unit"], r.json()["status_label"]) == ("thanh-hoa", "Đã được giới thiệu lên công đoàn cấp trên")
    assert c.get("/api/v1/workflow/campaigns/75k-demo/rounds/dot-1/quotas").status_code == 200

    c = scene.act_as(scene.admin)
    assert c.get("/api/v1/workflow/audit/verify").json()["ok"] is True
    export = c.get("/api/v1/workflow/audit/export", params={"format": "csv"})
    assert export.status_code == 200 and export.text.startswith("tenant_id,seq,at")


def _every_endpoint(sc: Scene) -> list[tuple[str, str, dict[str, object] | None]]:
    base = f"/api/v1/workflow/submissions/{sc.code}"
    rounds = "/api/v1/workflow/campaigns/75k-demo/rounds"
    return [
        ("GET", base, None),
        ("POST", f"{base}/route", {"unit": "H380"}),
        ("POST", f"{base}/trade-secret", {"trade_secret": True}),
        ("GET", f"{base}/validity?round=dot-1", None),
        ("POST", f"{base}/scores", {"round": "dot-1", "scores": {"tinh_moi": "5"}}),
        ("GET", f"{base}/appraisal?round=dot-1", None),
        ("POST", f"{base}/confirmation-link", None),
        ("POST", f"{base}/complaints", {"kind": "noi_dung", "body": "x"}),
        ("POST", f"/api/v1/workflow/complaints/{sc.complaint_id}/resolve", {"reason": "x"}),
        ("POST", f"{base}/nominate", {"round": "dot-1"}),
        ("POST", f"{base}/commend", {"round": "dot-1"}),
        ("POST", f"{base}/unmask", None),
        ("GET", f"{rounds}/dot-2/ranking", None),  # Thanh Hóa's round 2 exists in Thanh Hóa only
        ("GET", f"{rounds}/dot-2/quotas", None),
        ("POST", f"{rounds}/dot-1/quotas/H380/override", {"extra": 1, "reason": "x"}),
        ("POST", f"{rounds}/dot-2/close", None),
        ("GET", "/api/v1/workflow/national/nominations", None),
        (
            "POST",
            f"/api/v1/workflow/national/nominations/{THANH_HOA}/{sc.submission_id}/decide",
            {"decision": "bieu_duong"},
        ),
    ]


def test_every_endpoint_answers_404_to_another_tenants_officer(scene: Scene) -> None:
    c = scene.act_as(scene.stranger)
    for method, url, body in _every_endpoint(scene):
        r = c.request(method, url, json=body)
        assert r.status_code == 404, (method, url, r.status_code, r.text)
    # Lists and the audit log answer with the officer's own tenant only.
    assert scene.code not in {x["tracking_code"] for x in c.get("/api/v1/workflow/submissions").json()}
    export = c.get("/api/v1/workflow/audit/export").text
    assert scene.code not in export and '"tenant_id":38' not in export.replace(" ", "")
    # The public confirmation: a token moved to another tenant is not ours.
    _, rest = scene.token.split(".", 1)
    assert c.get(f"/api/v1/xac-nhan/{CAO_BANG}.{rest}").status_code == 404
    # The Tổng Liên đoàn's officer does not see a province's initiative either.
    c = scene.act_as(scene.tld)
    for method, url, body in _every_endpoint(scene)[:12]:
        assert c.request(method, url, json=body).status_code == 404, url
