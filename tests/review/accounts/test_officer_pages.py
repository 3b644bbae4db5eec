"""The administrators' accounts pages (/console/can-bo): the officers of my unit and below,
create (the temporary password shown once), lock and unlock, reset a password; Vietnamese
messages for refused fields; CSRF on every form; quản trị only; another unit's or tenant's
officer is “not found”."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.review.accounts.models import Role
from shared.db import make_sessionmaker, tenant_session
from tests.review.accounts.conftest import CAO_BANG, THANH_HOA, MakeOfficer, sign_in, signed_in

Client = Callable[..., TestClient]
PAGE = "/console/can-bo"


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _id_of(app_engine: Engine, tenant_id: int, username: str) -> int:
    with tenant_session(make_sessionmaker(app_engine), tenant_id) as s:
        return int(
            s.scalar(
                text("SELECT id FROM review.officers WHERE tenant_id = :t AND username = :u"),
                {"t": tenant_id, "u": username},
            )
        )


def _remove(app_engine: Engine, tenant_id: int, username: str) -> None:
    with tenant_session(make_sessionmaker(app_engine), tenant_id) as s:
        s.execute(
            text("DELETE FROM review.officers WHERE tenant_id = :t AND username = :u"), {"t": tenant_id, "u": username}
        )


def test_create_show_once_lock_unlock_reset(
    client_factory: Client, make_officer: MakeOfficer, app_engine: Engine
) -> None:
    admin = make_officer(THANH_HOA, None, Role.quan_tri)
    c, csrf = signed_in(client_factory, admin)
    page = c.get(PAGE)
    assert page.status_code == 200 and admin.username in page.text and "Tạo tài khoản cán bộ" in page.text
    assert 'href="/console/can-bo"' in c.get("/console/").text
    units = re.findall(r'<option value="(\d+)"', page.text)
    username = f"thu-{secrets.token_hex(3)}"
    form = {
        "csrf_token": csrf,
        "ho_ten": "Nguyễn Thị Thử",
        "ten_dang_nhap": username,
        "vai_tro": "tham_dinh",
        "don_vi": units[0],
    }
    try:
        r = c.post(PAGE, data=form)
        assert r.status_code == 200, r.text[:500]
        shown = _text(r.text)
        assert "Đã tạo tài khoản cán bộ." in shown and f"{username}@thanh-hoa" in shown
        password = re.search(r'value="([^"]+)" readonly aria-label="Mật khẩu tạm"', r.text)
        assert password
        temp = password.group(1)
        assert temp not in c.get(PAGE).text  # shown once
        again = c.post(PAGE, data=form)
        assert again.status_code == 409 and "Tên đăng nhập này đã được dùng" in again.text
        bad = c.post(PAGE, data={**form, "ten_dang_nhap": "Có Dấu"})
        assert bad.status_code == 422 and "Tên đăng nhập: 3–40 ký tự" in bad.text
        bad = c.post(PAGE, data={**form, "ten_dang_nhap": f"x{username}", "ho_ten": "A"})
        assert bad.status_code == 422 and "Họ và tên cần từ 2 đến 200 ký tự" in bad.text

        new = client_factory()
        sign_in(new, f"{username}@thanh-hoa", temp)
        oid = _id_of(app_engine, THANH_HOA, username)
        r = c.post(f"{PAGE}/{oid}/khoa", data={"csrf_token": csrf})
        assert r.status_code == 303 and "Đã khoá tài khoản." in c.get(r.headers["location"]).text
        assert "Đã khoá" in _text(c.get(PAGE).text)
        assert c.post(f"{PAGE}/{oid}/mo-khoa", data={"csrf_token": csrf}).status_code == 303
        r = c.post(f"{PAGE}/{oid}/dat-lai-mat-khau", data={"csrf_token": csrf})
        assert r.status_code == 200 and "Đã đặt lại mật khẩu." in r.text
        fresh = re.search(r'value="([^"]+)" readonly aria-label="Mật khẩu tạm"', r.text)
        assert fresh and fresh.group(1) != temp
        sign_in(client_factory(), f"{username}@thanh-hoa", fresh.group(1))
        own = c.post(f"{PAGE}/{_id_of(app_engine, THANH_HOA, admin.username)}/khoa", data={"csrf_token": csrf})
        assert own.status_code == 409 and "Không thể tự khoá tài khoản của chính mình" in own.text
    finally:
        _remove(app_engine, THANH_HOA, username)


def test_roles_csrf_and_reach(client_factory: Client, make_officer: MakeOfficer, app_engine: Engine) -> None:
    target = make_officer(THANH_HOA, None, Role.tham_dinh)
    tid = _id_of(app_engine, THANH_HOA, target.username)
    admin, _ = signed_in(client_factory, make_officer(THANH_HOA, None, Role.quan_tri))
    for path in ("", f"/{tid}/khoa", f"/{tid}/mo-khoa", f"/{tid}/dat-lai-mat-khau"):
        assert admin.post(PAGE + path, data={"ho_ten": "x"}).status_code == 403, path  # no CSRF token
    chair, csrf = signed_in(client_factory, make_officer(THANH_HOA, None, Role.chu_tich))
    assert chair.get(PAGE).status_code == 403 and "Chỉ cán bộ quản trị" in chair.get(PAGE).text
    assert 'href="/console/can-bo"' not in chair.get("/console/").text
    assert chair.post(f"{PAGE}/{tid}/khoa", data={"csrf_token": csrf}).status_code == 403
    # Cao Bằng's administrator: Thanh Hóa's officer is not found, and not listed.
    stranger, s_csrf = signed_in(client_factory, make_officer(CAO_BANG, None, Role.quan_tri))
    assert target.username not in stranger.get(PAGE).text
    for path in (f"/{tid}/khoa", f"/{tid}/mo-khoa", f"/{tid}/dat-lai-mat-khau", "/abc/khoa"):
        r = stranger.post(PAGE + path, data={"csrf_token": s_csrf})
        assert r.status_code == 404 and "Không tìm thấy cán bộ" in r.text, path
    # A unit outside the administrator's reach (Thanh Hóa's, the target's): not found either.
    with tenant_session(make_sessionmaker(app_engine), THANH_HOA) as s:
        unit_id = s.scalar(text("SELECT unit_id FROM review.officers WHERE id = :i"), {"i": tid})
    r = stranger.post(
        PAGE,
        data={
            "csrf_token": s_csrf,
            "ho_ten": "Người Lạ",
            "ten_dang_nhap": "nguoi-la",
            "vai_tro": "tham_dinh",
            "don_vi": str(unit_id),
        },
    )
    assert r.status_code == 404
