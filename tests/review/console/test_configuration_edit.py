"""Editing the configuration (quản trị) on /console/cau-hinh and through the JSON API: a round's
deadline, a quota rule's bounds (the database's counters follow), the rubric's names and
weights (positive, summing to 100, the field named in Vietnamese); refused for a closed round;
every change in the audit log from what to what; CSRF, roles, another tenant → 404. The seeded
demo configuration is shared with other tests: each test puts back what it changed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from services.review.accounts.models import Role
from services.review.audit.models import AuditRow
from services.review.workflow import repository as wf_repo
from services.review.workflow.models import Criterion, Deadline, QuotaRule
from shared.db import tenant_session
from shared.timeutil import VN_TZ
from tests.review.console.conftest import DEMO_CAMPAIGN, MakeOfficer, officer_at, signed_in
from tests.review.console.selection_scene import ROUND, Scene
from tests.review.workflow.factories import KEY

Client = Callable[..., TestClient]
PAGE = "/console/cau-hinh"


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def restore(scene: Scene) -> Iterator[None]:
    """Whatever the test changes in the demo campaign's configuration of Thanh Hóa, put back."""
    t = scene.district.tenant_id
    with tenant_session(scene.factory, t) as s:
        campaign = wf_repo.campaign_by_code(s, DEMO_CAMPAIGN)
        assert campaign is not None
        round_ids = [r.id for r in wf_repo.rounds(s, t, campaign.id)]
        deadlines = {d.id: d.due_at for d in s.scalars(select(Deadline).where(Deadline.round_id.in_(round_ids)))}
        rules = {
            q.id: (q.min_count, q.max_count)
            for q in s.scalars(select(QuotaRule).where(QuotaRule.round_id.in_(round_ids)))
        }
        crit = {c.code: (c.name, c.weight) for c in wf_repo.criteria(s, t, campaign.id)}
        closed = {r.id: r.closed_at for r in wf_repo.rounds(s, t, campaign.id)}
    yield
    with tenant_session(scene.factory, t) as s:
        for i, due in deadlines.items():
            s.execute(
                text("UPDATE review.wf_deadlines SET due_at = :d WHERE tenant_id = :t AND id = :i"),
                {"d": due, "t": t, "i": i},
            )
        for i, (lo, hi) in rules.items():
            s.execute(
                text(
                    "UPDATE review.wf_quota_rules SET min_count = :lo, max_count = :hi WHERE tenant_id = :t AND id = :i"
                ),
                {"lo": lo, "hi": hi, "t": t, "i": i},
            )
        for code, (name, weight) in crit.items():
            s.execute(
                text(
                    "UPDATE review.wf_criteria SET name = :n, weight = :w "
                    "WHERE tenant_id = :t AND campaign_id = :c AND code = :code"
                ),
                {"n": name, "w": weight, "t": t, "c": campaign.id, "code": code},
            )
        for i, at in closed.items():
            s.execute(
                text("UPDATE review.wf_rounds SET closed_at = :a WHERE tenant_id = :t AND id = :i"),
                {"a": at, "t": t, "i": i},
            )


def _ids(scene: Scene) -> tuple[Deadline, QuotaRule]:
    """The demo round's first deadline and its tenant-wide quota rule for districts."""
    t = scene.district.tenant_id
    with tenant_session(scene.factory, t) as s:
        rid = scene.round_id()
        d = s.scalars(
            select(Deadline).where(Deadline.tenant_id == t, Deadline.round_id == rid).order_by(Deadline.id)
        ).first()
        q = s.scalars(
            select(QuotaRule)
            .where(QuotaRule.tenant_id == t, QuotaRule.round_id == rid, QuotaRule.scope_unit_id.is_(None))
            .order_by(QuotaRule.id)
        ).first()
        assert d is not None and q is not None
        s.expunge_all()
        return d, q


def _audit(scene: Scene, action: str) -> list[AuditRow]:
    with tenant_session(scene.factory, scene.district.tenant_id) as s:
        rows = list(
            s.scalars(
                select(AuditRow)
                .where(AuditRow.tenant_id == scene.district.tenant_id, AuditRow.action == action)
                .order_by(AuditRow.seq.desc())
                .limit(1)
            )
        )
        s.expunge_all()
        return rows


def test_edit_deadline_and_quota_on_the_page(client_factory: Client, scene: Scene, restore: None) -> None:
    d, q = _ids(scene)
    c, csrf = signed_in(client_factory, scene.admin)
    page = c.get(PAGE, params={"chuong_trinh": DEMO_CAMPAIGN})
    assert page.status_code == 200 and "Lưu thời hạn" in page.text and "Lưu thang điểm" in page.text
    base = {"csrf_token": csrf, "chuong_trinh": DEMO_CAMPAIGN, "dot": ROUND}

    r = c.post(f"{PAGE}/thoi-han", data={**base, "ma": str(d.id), "han": "2031-05-20T17:30"})
    assert r.status_code == 303 and r.headers["location"].endswith("tb=thoi-han")
    shown = _text(c.get(r.headers["location"]).text)
    assert "Đã lưu thời hạn" in shown and "chậm nhất 17:30 ngày 20/05/2031" in shown
    row = _audit(scene, "sua_thoi_han")[0]
    assert row.before == {"due_at": d.due_at.isoformat()}
    assert row.after["due_at"] == dt.datetime(2031, 5, 20, 17, 30, tzinfo=VN_TZ).isoformat()
    bad = c.post(f"{PAGE}/thoi-han", data={**base, "ma": str(d.id), "han": "hôm nay"})
    assert bad.status_code == 422 and "Thời hạn không hợp lệ" in bad.text

    r = c.post(f"{PAGE}/so-luong", data={**base, "ma": str(q.id), "toi_thieu": "1", "toi_da": "5"})
    assert r.status_code == 303
    assert "giới thiệu từ 1 đến 5 sáng kiến lên cấp trên" in _text(c.get(r.headers["location"]).text)
    row = _audit(scene, "sua_so_luong")[0]
    assert (row.before, row.after["max_count"]) == ({"min_count": q.min_count, "max_count": q.max_count}, 5)
    bad = c.post(f"{PAGE}/so-luong", data={**base, "ma": str(q.id), "toi_thieu": "6", "toi_da": "5"})
    assert bad.status_code == 422 and "Số tối thiểu không được lớn hơn số tối đa" in bad.text
    bad = c.post(f"{PAGE}/so-luong", data={**base, "ma": str(q.id), "toi_thieu": "", "toi_da": "-1"})
    assert bad.status_code == 422 and "Số tối đa phải là số nguyên" in bad.text


def test_lowering_a_maximum_follows_the_counters(client_factory: Client, scene: Scene, restore: None) -> None:
    """Two nominated under “at most 2”: the maximum may not go below 2; raising it lets the
    database's counter allow a third."""
    _, q = _ids(scene)
    codes = [sub.tracking_code for sub in scene.subs]
    for code in codes:
        scene.appraise(code)
    chair, chair_csrf = signed_in(client_factory, scene.chair)
    for code in codes:
        scene.confirm(code, KEY)
    for code in codes[:2]:
        assert (
            chair.post(f"/console/sang-kien/{code}/de-cu", data={"csrf_token": chair_csrf, "dot": ROUND}).status_code
            == 303
        )
    c, csrf = signed_in(client_factory, scene.admin)
    base = {"csrf_token": csrf, "chuong_trinh": DEMO_CAMPAIGN, "dot": ROUND, "ma": str(q.id)}
    r = c.post(f"{PAGE}/so-luong", data={**base, "toi_da": "1"})
    assert r.status_code == 409 and "đã giới thiệu 2 sáng kiến" in r.text and "không được nhỏ hơn 2" in r.text
    assert c.post(f"{PAGE}/so-luong", data={**base, "toi_da": "3"}).status_code == 303
    r = chair.post(f"/console/sang-kien/{codes[2]}/de-cu", data={"csrf_token": chair_csrf, "dot": ROUND})
    assert r.status_code == 303, r.text[:500]


def test_rubric_weights_validated_and_audited(client_factory: Client, scene: Scene, restore: None) -> None:
    c, csrf = signed_in(client_factory, scene.admin)
    form = {
        "csrf_token": csrf,
        "chuong_trinh": DEMO_CAMPAIGN,
        "ten_tinh_moi": "Tính mới, sáng tạo",
        "trong_so_tinh_moi": "30",
        "ten_hieu_qua": "Hiệu quả và giá trị làm lợi",
        "trong_so_hieu_qua": "30",
        "ten_pham_vi": "Phạm vi ứng dụng",
        "trong_so_pham_vi": "20",
        "ten_nhan_rong": "Khả năng nhân rộng",
        "trong_so_nhan_rong": "20",
    }
    r = c.post(f"{PAGE}/thang-diem", data=form)
    assert r.status_code == 303, r.text[:500]
    assert "Tính mới, sáng tạo 30 30%" in _text(c.get(r.headers["location"]).text)
    row = _audit(scene, "sua_thang_diem")[0]
    assert row.before["tinh_moi"] == {"name": "Tính mới", "weight": "25.00"}
    assert row.after["tinh_moi"] == {"name": "Tính mới, sáng tạo", "weight": "30.00"}

    r = c.post(f"{PAGE}/thang-diem", data={**form, "trong_so_pham_vi": "25"})
    assert r.status_code == 422 and "Tổng trọng số các tiêu chí phải bằng 100 (hiện là 105)" in r.text
    r = c.post(f"{PAGE}/thang-diem", data={**form, "trong_so_pham_vi": "0", "trong_so_nhan_rong": "40"})
    assert r.status_code == 422 and "Trọng số của tiêu chí “Phạm vi ứng dụng” phải là số dương" in r.text
    r = c.post(f"{PAGE}/thang-diem", data={**form, "trong_so_pham_vi": "hai mươi"})
    assert r.status_code == 422 and "Trọng số của tiêu chí “Phạm vi ứng dụng” phải là một số" in r.text
    with tenant_session(scene.factory, scene.district.tenant_id) as s:
        weights = {
            k.code: k.weight
            for k in s.scalars(select(Criterion).where(Criterion.tenant_id == scene.district.tenant_id))
        }
    assert weights["tinh_moi"] == Decimal(30)  # the refusals changed nothing


def test_closed_round_refused(client_factory: Client, scene: Scene, restore: None) -> None:
    d, q = _ids(scene)
    with tenant_session(scene.factory, scene.district.tenant_id) as s:
        s.execute(
            text("UPDATE review.wf_rounds SET closed_at = now() WHERE tenant_id = :t AND id = :i"),
            {"t": scene.district.tenant_id, "i": d.round_id},
        )
    c, csrf = signed_in(client_factory, scene.admin)
    page = c.get(PAGE, params={"chuong_trinh": DEMO_CAMPAIGN}).text
    base = {"csrf_token": csrf, "chuong_trinh": DEMO_CAMPAIGN, "dot": ROUND}
    r = c.post(f"{PAGE}/thoi-han", data={**base, "ma": str(d.id), "han": "2031-05-20T17:30"})
    assert r.status_code == 409 and "đã chốt, không sửa được cấu hình của đợt" in r.text
    r = c.post(f"{PAGE}/so-luong", data={**base, "ma": str(q.id), "toi_da": "9"})
    assert r.status_code == 409
    assert f'value="{d.id}"' not in page.split("Đã chốt", 1)[1].split("</section>", 1)[0]  # no form for it
    r = c.post(
        f"{PAGE}/thang-diem", data={"csrf_token": csrf, "chuong_trinh": DEMO_CAMPAIGN, "trong_so_tinh_moi": "100"}
    )
    assert r.status_code == 409 and "không sửa được thang điểm" in r.text


def test_roles_csrf_and_other_tenants(
    client_factory: Client, make_officer: MakeOfficer, scene: Scene, restore: None
) -> None:
    d, q = _ids(scene)
    forms = {
        "thoi-han": {"ma": str(d.id), "han": "2031-05-20T17:30"},
        "so-luong": {"ma": str(q.id), "toi_da": "9"},
        "thang-diem": {"trong_so_tinh_moi": "100"},
    }
    base = {"chuong_trinh": DEMO_CAMPAIGN, "dot": ROUND}
    admin, _ = signed_in(client_factory, scene.admin)
    chair, chair_csrf = signed_in(client_factory, scene.chair)
    stranger, stranger_csrf = signed_in(client_factory, scene.stranger)
    for path, extra in forms.items():
        assert admin.post(f"{PAGE}/{path}", data={**base, **extra}).status_code == 403, path  # no token
        r = chair.post(f"{PAGE}/{path}", data={**base, **extra, "csrf_token": chair_csrf})
        assert r.status_code == 403 and "Chức năng này dành cho" in r.text, path
        # Cao Bằng's administrator: Thanh Hóa's deadline and rule ids are not found in Cao Bằng.
        r = stranger.post(f"{PAGE}/{path}", data={**base, **extra, "csrf_token": stranger_csrf})
        if path != "thang-diem":
            assert r.status_code == 404 and "Không tìm thấy" in r.text, path
    # A district's administrator may not change the tenant-wide rules.
    district_admin, da_csrf = signed_in(client_factory, officer_at(make_officer, scene.district, Role.quan_tri))
    r = district_admin.post(f"{PAGE}/thoi-han", data={**base, **forms["thoi-han"], "csrf_token": da_csrf})
    assert r.status_code == 403 and "đơn vị cấp cao nhất" in r.text
    with tenant_session(scene.factory, scene.district.tenant_id) as s:
        due = s.scalar(select(Deadline.due_at).where(Deadline.id == d.id))
    assert due == d.due_at  # nothing changed


def test_json_api(client_factory: Client, scene: Scene, restore: None) -> None:
    d, q = _ids(scene)
    c, csrf = signed_in(client_factory, scene.admin)
    h = {"x-csrf-token": csrf}
    base = f"/api/v1/workflow/campaigns/{DEMO_CAMPAIGN}"
    r = c.put(f"{base}/rounds/{ROUND}/deadlines/{d.id}", json={"due_at": "2031-06-01T00:00:00+07:00"}, headers=h)
    assert r.status_code == 204, r.text
    r = c.put(f"{base}/rounds/{ROUND}/quota-rules/{q.id}", json={"min_count": 3, "max_count": 2}, headers=h)
    assert r.status_code == 422 and r.json()["message"] == "Số tối thiểu không được lớn hơn số tối đa"
    rubric = [
        {"code": "tinh_moi", "name": "Tính mới", "weight": "25"},
        {"code": "hieu_qua", "name": "Hiệu quả và giá trị làm lợi", "weight": "35"},
        {"code": "pham_vi", "name": "Phạm vi ứng dụng", "weight": "20"},
        {"code": "nhan_rong", "name": "Khả năng nhân rộng", "weight": "19.5"},
    ]
    r = c.put(f"{base}/rubric", json={"criteria": rubric}, headers=h)
    assert r.status_code == 422 and "hiện là 99.5" in r.json()["message"]
    assert c.put(f"{base}/rubric", json={"criteria": rubric}).status_code == 403  # no CSRF header
    stranger, s_csrf = signed_in(client_factory, scene.stranger)
    r = stranger.put(
        f"{base}/rounds/{ROUND}/deadlines/{d.id}",
        json={"due_at": "2031-06-01T00:00:00+07:00"},
        headers={"x-csrf-token": s_csrf},
    )
    assert r.status_code == 404
