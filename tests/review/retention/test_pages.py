"""“Lưu trữ dữ liệu cá nhân” (/console/luu-tru): each campaign's retention date as the tenant's
administrator sees it (the default from the campaign's dates, in Asia/Ho_Chi_Minh), set by an
administrator of the top unit only, refused in Vietnamese before the campaign's work is over or
once its data is gone, audited from what to what; another province's administrator sets their
own tenant's date and never ours, and an unknown campaign is a 404."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from services.review.accounts.models import Role
from services.review.audit.models import AuditRow
from services.review.retention import service
from shared.db import make_sessionmaker, tenant_session
from tests.review.console.conftest import CAO_BANG, THANH_HOA, MakeOfficer, MakeUnit, officer_at, signed_in

PATH = "/console/luu-tru"
Client = Callable[..., TestClient]


def _card(html: str, code: str) -> str:
    m = re.search(rf'<li class="item" id="ct-{re.escape(code)}">(.*?)</li>', html, re.S)
    assert m, f"no card for {code}"
    return m.group(1)


def _view(engine: Engine, tenant: int, code: str) -> service.CampaignRetentionView:
    with tenant_session(make_sessionmaker(engine), tenant) as s:
        [v] = [v for v in service.views(s, tenant) if v.code == code]
        return v


def test_the_top_administrator_sets_a_date_audited_and_checked(
    app_engine: Engine,
    campaign: str,
    client_factory: Client,
    make_officer: MakeOfficer,
    workflow_seeded: object,
) -> None:
    admin = make_officer(THANH_HOA, "thanh-hoa", Role.quan_tri)
    c, csrf = signed_in(client_factory, admin)
    page = c.get(PATH)
    assert page.status_code == 200 and "Lưu trữ dữ liệu cá nhân" in page.text
    mine = _card(page.text, campaign)
    assert "kết thúc ngày 20/04/2021" in mine and "20/04/2024</strong> (mặc định)" in mine
    assert "Đã hết hạn: sẽ xoá trong lần chạy tới" in mine and 'name="den_ngay"' in mine
    # The 2021 campaign's work in Thanh Hóa ends with its last deadline, 04/10/2021 (round 2).
    assert "kết thúc ngày 04/10/2021" in _card(page.text, "75k-2021")
    assert "/console/luu-tru" in c.get("/console/").text  # in the administrator's menu

    # Before the campaign's work is over, or not a date: refused, the field named, nothing saved.
    r = c.post(f"{PATH}/{campaign}", data={"den_ngay": "19/04/2021", "csrf_token": csrf})
    assert r.status_code == 422 and "không được trước ngày kết thúc chương trình (20/04/2021)" in r.text
    assert 'aria-invalid="true"' in _card(r.text, campaign)
    r = c.post(f"{PATH}/{campaign}", data={"den_ngay": "31/02/2030", "csrf_token": csrf})
    assert r.status_code == 422 and "Ngày hết hạn lưu trữ không hợp lệ" in r.text
    assert _view(app_engine, THANH_HOA, campaign).is_default
    assert c.post(f"{PATH}/{campaign}", data={"den_ngay": "2030-01-01"}).status_code == 403  # no CSRF token

    # A date as the date field sends it; the page shows it, when it was set (Vietnam's time).
    r = c.post(f"{PATH}/{campaign}", data={"den_ngay": "2030-01-31", "csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == f"{PATH}?tb=da-luu"
    shown = c.get(r.headers["location"]).text
    assert "Đã lưu thời hạn lưu trữ" in shown
    card = _card(shown, campaign)
    assert "31/01/2030</strong> (quản trị đặt lúc" in card and "Còn hạn lưu trữ" in card
    v = _view(app_engine, THANH_HOA, campaign)
    assert v.retain_until == dt.date(2030, 1, 31) and not v.is_default and v.set_at is not None
    assert v.set_at.utcoffset() == dt.timedelta(hours=7)
    with tenant_session(make_sessionmaker(app_engine), THANH_HOA) as s:
        [entry] = s.scalars(
            select(AuditRow).where(
                AuditRow.tenant_id == THANH_HOA, AuditRow.action == service.SET_ACTION, AuditRow.entity_id == campaign
            )
        ).all()
    assert entry.before == {"retain_until": "2024-04-20", "default": True}
    assert entry.after == {"retain_until": "2030-01-31"} and entry.actor_id == admin.id

    # Once the job deleted the data, the date is history: refused with when it happened.
    with tenant_session(make_sessionmaker(app_engine), THANH_HOA) as s:
        s.execute(
            text(
                "UPDATE review.campaign_retention SET purged_at = now() WHERE tenant_id = :t "
                "AND campaign_id = (SELECT id FROM review.campaigns WHERE code = :c)"
            ),
            {"t": THANH_HOA, "c": campaign},
        )
    r = c.post(f"{PATH}/{campaign}", data={"den_ngay": "2031-01-01", "csrf_token": csrf})
    assert r.status_code == 409 and "đã được xoá lúc" in r.text
    assert "Đã xoá dữ liệu cá nhân lúc" in _card(c.get(PATH).text, campaign)

    # An unknown campaign: 404.
    r = c.post(f"{PATH}/khong-co-{campaign}", data={"den_ngay": "2031-01-01", "csrf_token": csrf})
    assert r.status_code == 404 and "Không tìm thấy chương trình" in r.text


def test_who_may_see_and_set_and_another_province(
    app_engine: Engine,
    campaign: str,
    client_factory: Client,
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
) -> None:
    district = make_unit(kind="district", name="LĐLĐ huyện Lưu Trữ Trang")
    # A district's administrator reads the dates but may not set the tenant's rule.
    below, b_csrf = signed_in(client_factory, officer_at(make_officer, district, Role.quan_tri))
    page = below.get(PATH)
    assert page.status_code == 200 and 'name="den_ngay"' not in page.text
    assert "Chỉ quản trị của đơn vị cấp cao nhất" in page.text
    r = below.post(f"{PATH}/{campaign}", data={"den_ngay": "2030-01-01", "csrf_token": b_csrf})
    assert r.status_code == 403 and "đơn vị cấp cao nhất" in r.text
    # A chair: not theirs at all.
    chair, _ = signed_in(client_factory, officer_at(make_officer, district, Role.chu_tich))
    assert chair.get(PATH).status_code == 403
    assert "/console/luu-tru" not in chair.get("/console/").text

    # Cao Bằng's administrator sets Cao Bằng's date for the same campaign; Thanh Hóa's is untouched.
    stranger, s_csrf = signed_in(client_factory, make_officer(CAO_BANG, "cao-bang", Role.quan_tri))
    r = stranger.post(f"{PATH}/{campaign}", data={"den_ngay": "2040-12-31", "csrf_token": s_csrf})
    assert r.status_code == 303
    assert _view(app_engine, CAO_BANG, campaign).retain_until == dt.date(2040, 12, 31)
    assert _view(app_engine, THANH_HOA, campaign).is_default
    assert "31/12/2040" not in _card(below.get(PATH).text, campaign)
    # …and for a campaign that does not exist, the same 404 as anyone.
    assert stranger.post(f"{PATH}/khong-co", data={"den_ngay": "2040-12-31", "csrf_token": s_csrf}).status_code == 404
