"""The console's sign-in in headless Chromium, on a phone and a desktop: the form, the landing
page with the officer's name, unit and role, sign-out. Screenshots go to a temporary folder, or
to docs/screenshots/ with UPDATE_SCREENSHOTS=1 (as the portal's browser test does)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from services.review.accounts.models import Role
from tests.review.accounts.conftest import PASSWORD, MakeOfficer
from tests.support.browser import DEVICES
from tests.support.stack import Server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_sign_in_and_out(
    device: str, browser: Browser, console: Server, make_officer: MakeOfficer, shots: Path
) -> None:
    officer = make_officer(unit_code="H380", role=Role.quan_tri)
    ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **DEVICES[device])
    ctx.set_default_timeout(10_000)
    problems: list[str] = []
    try:
        page = ctx.new_page()
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(f"{console.url}/console/")  # not signed in: sent to the form
        expect(page).to_have_url(f"{console.url}/console/dang-nhap")
        expect(page.locator("h1")).to_have_text("Đăng nhập")
        page.screenshot(path=str(shots / f"console-login-{device}.png"))

        page.get_by_label("Tên đăng nhập").fill(officer.login)
        page.get_by_label("Mật khẩu").fill("sai-mat-khau")
        page.get_by_role("button", name="Đăng nhập").click()
        expect(page.get_by_role("alert")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng")
        problems.clear()  # the 401 of the wrong password is the page's answer, not a fault

        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        expect(page).to_have_url(f"{console.url}/console/")
        expect(page.locator("h1")).to_have_text(f"Xin chào Cán bộ {officer.username}")
        expect(page.locator(".who-meta")).to_have_text("Quản trị · Liên đoàn Lao động thành phố Thanh Hóa")
        expect(page.locator("nav.sections a")).to_have_text(
            [
                "Hàng đợi sáng kiến",
                "Tiến độ",
                "Đề cử",
                "Cấu hình",
                "Cán bộ",
                "Thư nhắc hạn",
                "Đơn vị",
                "Ai đã xem dữ liệu",
                "Lưu trữ dữ liệu",
            ]
        )
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the screen"
        cookie = next(c for c in ctx.cookies() if c["name"] == "sangkien_phien")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        page.screenshot(path=str(shots / f"console-home-{device}.png"), full_page=True)

        page.get_by_role("button", name="Đăng xuất").click()
        expect(page).to_have_url(f"{console.url}/console/dang-nhap")
        page.goto(f"{console.url}/console/")
        expect(page).to_have_url(f"{console.url}/console/dang-nhap")
        assert problems == []
    finally:
        ctx.close()
