"""The console in headless Chromium on a phone and a desktop: sign in, search “nguyen van”
without accents, find the Nguyễn Văn row, open it; the progress and import pages. Screenshots go
to a temporary folder, or to docs/screenshots/ with UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from services.review.accounts.models import Role
from tests.review.accounts.conftest import PASSWORD
from tests.review.console.conftest import MakeOfficer, MakeSubmission, MakeUnit, officer_at
from tests.support.browser import DEVICES, no_overflow
from tests.support.stack import Server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_search_without_accents_and_open_the_detail(
    device: str,
    browser: Browser,
    console: Server,
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
    make_submission: MakeSubmission,
    shots: Path,
) -> None:
    district = make_unit(kind="district", name="LĐLĐ huyện Thử Nghiệm")
    units = [make_unit(parent_code=district.code, name=f"CĐCS Công ty Thử Nghiệm số {i}") for i in (1, 2, 3)]
    id_number = f"0381{secrets.randbelow(10**8):08d}"  # this test's person only (the DB is shared)
    target = make_submission(
        units[0],
        full_name="Nguyễn Văn Bình",
        title="Cải tiến khuôn ép đế giày giảm hàng lỗi",
        field="san_xuat",
        id_number=id_number,
        description="Khuôn ép đế giày cũ làm hỏng nhiều sản phẩm. Tổ kỹ thuật thiết kế lại khuôn bằng vật liệu "
        "sẵn có, tỷ lệ hàng lỗi giảm 30% và mỗi năm tiết kiệm khoảng 250 triệu đồng.",
    )
    make_submission(units[1], full_name="Nguyễn Văn Bình", id_number=id_number, title="Tủ sách khu nhà trọ")
    for i, name in enumerate(("Lê Thị Hoa", "Trần Đức Minh", "Hoàng Thị Lan", "Đặng Văn Hùng")):
        make_submission(units[i % 3], full_name=name, field="cong_dong", idea_group="khoi_co_quan")
    officer = officer_at(make_officer, district, Role.chu_tich)

    ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **DEVICES[device])
    ctx.set_default_timeout(10_000)
    problems: list[str] = []
    try:
        page = ctx.new_page()
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(f"{console.url}/console/dang-nhap")
        page.get_by_label("Tên đăng nhập").fill(officer.login)
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        expect(page).to_have_url(f"{console.url}/console/")

        page.get_by_role("link", name="Hàng đợi sáng kiến").first.click()
        expect(page.locator("h1")).to_have_text("Sáng kiến")
        expect(page.locator("li.item")).to_have_count(6)
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-queue-{device}.png"), full_page=True)

        page.get_by_label("Tìm theo họ tên, tên sáng kiến hoặc mã").fill("nguyen van")
        page.get_by_role("button", name="Tìm", exact=True).click()
        expect(page.locator("li.item")).to_have_count(2)
        row = page.locator("li.item", has_text="Cải tiến khuôn ép đế giày")
        expect(row.locator(".item-who")).to_contain_text("Nguyễn Văn Bình")
        expect(row.locator(".badge-warn", has_text="Cùng người nộp")).to_have_text("Cùng người nộp: 1 sáng kiến khác")
        page.screenshot(path=str(shots / f"console-search-{device}.png"), full_page=True)

        row.get_by_role("link").click()
        expect(page).to_have_url(f"{console.url}/console/sang-kien/{target.tracking_code}")
        expect(page.locator("h1")).to_have_text("Cải tiến khuôn ép đế giày giảm hàng lỗi")
        expect(page.locator(".badge-status")).to_have_text("Đơn vị đã nhận sáng kiến")
        expect(page.get_by_text("*********" + id_number[-3:])).to_be_visible()
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-detail-{device}.png"), full_page=True)

        page.goto(f"{console.url}/console/tien-do?chuong_trinh=75k-demo")
        expect(page.locator("h1")).to_have_text("Tiến độ: LĐLĐ huyện Thử Nghiệm")
        expect(page.locator("table.progress tbody tr")).to_have_count(3)
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-progress-{device}.png"), full_page=True)

        page.goto(f"{console.url}/console/nhap-tu-excel")
        expect(page.locator("h1")).to_have_text("Nhập sáng kiến thu thập trên giấy")
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-import-{device}.png"), full_page=True)
        assert problems == []
    finally:
        ctx.close()
