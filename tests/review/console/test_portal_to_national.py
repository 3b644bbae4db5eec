"""From the portal to the Tổng Liên đoàn, with real parts only: a worker submits to intake's API
(naming the Thanh Hóa city union), the ingester commits it, and Thanh Hóa's workflow runs over
review's HTTP API — the city union routes it down to the worker's CĐCS, which appraises it,
has the employer confirm it through the signed link and recommends it; the city union and the
province appraise and recommend it in turn, the province to the Tổng Liên đoàn. The submitter's
“theo dõi kết quả” on intake then reads every step in plain Vietnamese."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from services.review.accounts.deps import current_officer
from services.review.accounts.models import Role
from services.review.accounts.principal import Officer
from services.review.app import create_app
from services.review.config import ReviewSettings
from services.review.ingester import Ingester
from shared.config import CommonSettings
from shared.db import make_sessionmaker
from shared.timeutil import now
from tests.review.console.conftest import THANH_HOA, MakeOfficer, MakeUnit, remove_units
from tests.review.console.selection_scene import principal
from tests.review.workflow.factories import TLD
from tests.support.stack import Server, drain, form

pytestmark = pytest.mark.xdist_group("workflow-api")
SCORES = {"tinh_moi": "8", "hieu_qua": "9", "pham_vi": "7", "nhan_rong": "8"}


@pytest.fixture
def review(workflow_seeded: CommonSettings, base_env: dict[str, str]) -> Iterator[TestClient]:
    settings = ReviewSettings.model_validate({k.lower(): v for k, v in base_env.items()})
    with TestClient(create_app(settings)) as client:
        yield client


def _as(client: TestClient, officer: Officer) -> TestClient:
    app = client.app
    assert isinstance(app, FastAPI)
    app.dependency_overrides[current_officer] = lambda: officer
    return client


def test_a_portal_submission_reaches_the_national_confederation(
    intake: Server,
    ingester: Ingester,
    review: TestClient,
    app_engine: Engine,
    make_unit: MakeUnit,
    make_officer: MakeOfficer,
) -> None:
    factory = make_sessionmaker(app_engine)
    cdcs = make_unit(THANH_HOA, "H380", name="Công đoàn cơ sở Công ty Giày Thử Nghiệm")
    people: dict[str, Officer] = {}
    for key, unit, role in (
        ("city_chair", "H380", Role.chu_tich),
        ("city_appraiser", "H380", Role.tham_dinh),
        ("cdcs_chair", cdcs.code, Role.chu_tich),
        ("cdcs_appraiser", cdcs.code, Role.tham_dinh),
        ("province_chair", "thanh-hoa", Role.chu_tich),
        ("province_appraiser", "thanh-hoa", Role.tham_dinh),
    ):
        people[key] = principal(factory, make_officer(THANH_HOA, unit, role))
    tld = principal(factory, make_officer(TLD, "tld", Role.chu_tich))

    phone = f"09{secrets.randbelow(10**8):08d}"
    body = form(
        unit="thanh-hoa",
        subunit="H380",
        phone=phone,
        group="doanh_nghiep",
        field="san_xuat",
        title="Khuôn ép đế giày bằng vật liệu sẵn có",
        description="Thiết kế lại khuôn ép đế giày, tỷ lệ hàng lỗi giảm 30%.",
        birth_year=1986,
        position="Tổ trưởng kỹ thuật",
        workplace="Công ty Giày Thử Nghiệm",
        applied_from=f"{now():%m/%Y}",
        benefit="Tiết kiệm khoảng 250 triệu đồng mỗi năm.",
    )
    r = httpx.post(f"{intake.url}/api/v1/submissions", json=body)
    assert r.status_code == 202, r.text
    code = r.json()["tracking_code"]
    assert code.startswith("38-")
    assert drain(ingester) >= 1
    base = f"/api/v1/workflow/submissions/{code}"
    try:
        # The city union routes it down to the worker's CĐCS.
        r = _as(review, people["city_chair"]).post(f"{base}/route", json={"unit": cdcs.code})
        assert r.status_code == 200, r.text
        # The CĐCS appraises, gets the employer's confirmation through the link, recommends it.
        r = _as(review, people["cdcs_appraiser"]).post(f"{base}/scores", json={"round": "dot-1", "scores": SCORES})
        assert r.status_code == 200, r.text
        link = _as(review, people["cdcs_chair"]).post(f"{base}/confirmation-link")
        assert link.status_code == 200, link.text
        token = link.json()["token"]
        assert review.get(f"/xac-nhan/{token}").status_code == 200
        employer = {"name": "Phạm Văn Giám", "title": "Giám đốc", "applied_on": now().date().isoformat()}
        assert review.post(f"/xac-nhan/{token}", data=employer).status_code == 200
        r = _as(review, people["cdcs_chair"]).post(f"{base}/nominate", json={"round": "dot-1"})
        assert (r.status_code, r.json().get("to_unit")) == (200, "H380"), r.text
        # The city union, then the province.
        for appraiser, chair, expected in (
            ("city_appraiser", "city_chair", "thanh-hoa"),
            ("province_appraiser", "province_chair", None),
        ):
            scored = _as(review, people[appraiser]).post(f"{base}/scores", json={"round": "dot-1", "scores": SCORES})
            assert scored.status_code == 200, scored.text
            r = _as(review, people[chair]).post(f"{base}/nominate", json={"round": "dot-1"})
            assert r.status_code == 200, r.text
            assert r.json()["to_unit"] == expected
        assert r.json()["to_level"] == "toan_quoc"

        # The Tổng Liên đoàn has it in its inbox.
        inbox = _as(review, tld).get("/api/v1/workflow/national/nominations").json()
        mine = [n for n in inbox if n["tracking_code"] == code]
        assert len(mine) == 1 and mine[0]["source_tenant_id"] == THANH_HOA
        assert mine[0]["author"] == "Nông Thị Hoa"

        # The submitter asks intake, the phone in the header.
        t = httpx.get(f"{intake.url}/api/v1/submissions/{code}", headers={"X-Phone": phone})
        assert t.status_code == 200, t.text
        answer = t.json()
        assert answer["status"] == "de_cu_toan_quoc"
        assert answer["status_label"] == "Đã được đề nghị Tổng Liên đoàn Lao động Việt Nam biểu dương"
        assert [h["label"] for h in answer["history"]] == [
            "Đã chuyển đến Công đoàn cơ sở Công ty Giày Thử Nghiệm xem xét",
            "Đang được thẩm định",
            "Đã được giới thiệu lên Liên đoàn Lao động thành phố Thanh Hóa",
            "Đã được giới thiệu lên Liên đoàn Lao động tỉnh Thanh Hóa",
            "Liên đoàn Lao động tỉnh Thanh Hóa đề nghị Tổng Liên đoàn Lao động Việt Nam biểu dương",
        ]
        wrong = httpx.get(f"{intake.url}/api/v1/submissions/{code}", headers={"X-Phone": "0900000000"})
        assert wrong.status_code == 404
    finally:
        # H380 is a unit of the real tree: give its round-1 counter back and take the initiative
        # away with what the workflow wrote (the CĐCS goes with make_unit's own cleanup).
        remove_units(factory, THANH_HOA, [cdcs.id])
