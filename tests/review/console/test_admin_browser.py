"""The pages added for issue 4's remaining gaps, in headless Chromium on a phone and a desktop:
a complaint filed and the initiative paused (detail page), the configuration's edit forms with a
refused rubric, the Tổng Liên đoàn's decision buttons, and the accounts page with a temporary
password shown once. Screenshots go to a temporary folder, or to docs/screenshots/ with
UPDATE_SCREENSHOTS=1 (test_selection_browser's fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import text

from services.review.accounts.models import Role
from services.review.workflow.repository import add_national
from shared.db import tenant_session
from shared.timeutil import now
from tests.review.accounts.conftest import sign_in_page
from tests.review.console.conftest import DEMO_CAMPAIGN, MakeOfficer
from tests.review.console.selection_scene import ROUND, Scene
from tests.review.workflow.factories import TLD
from tests.support.browser import DEVICES, no_overflow
from tests.support.stack import Server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_complaint_configuration_national_accounts(
    device: str,
    browser: Browser,
    console: Server,
    scene: Scene,
    make_officer: MakeOfficer,
    shots: Path,
) -> None:
    code = scene.subs[0].tracking_code
    problems: list[str] = []
    ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **DEVICES[device])
    ctx.set_default_timeout(10_000)
    try:
        page = sign_in_page(ctx, console.url, scene.chair)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{console.url}/console/sang-kien/{code}?dot={ROUND}")
        page.get_by_text("Ghi nhận khiếu nại, tranh chấp mới").click()
        page.get_by_label("Loại khiếu nại, tranh chấp").select_option("tac_gia")
        page.get_by_label("Nội dung khiếu nại, tranh chấp").fill(
            "Ông Lê Văn Bình đề nghị được ghi nhận là đồng tác giả"
        )
        page.get_by_role("button", name="Gửi khiếu nại, tranh chấp").click()
        expect(page.locator(".notice")).to_contain_text("Đã ghi nhận khiếu nại, tranh chấp")
        expect(page.locator(".frozen").first).to_be_visible()
        page.locator("#khieu-nai").scroll_into_view_if_needed()
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-khieu-nai-{device}.png"), full_page=True)
        page.get_by_label("Lý do, kết quả giải quyết (bắt buộc)").fill("Đã xác minh, ông Bình không tham gia")
        page.get_by_role("button", name="Đã giải quyết").click()
        expect(page.locator(".notice")).to_contain_text("Đã giải quyết khiếu nại, tranh chấp")
        expect(page.locator(".history")).to_contain_text("Lý do, kết quả: Đã xác minh, ông Bình không tham gia")
        assert problems == []
    finally:
        ctx.close()

    ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **DEVICES[device])
    ctx.set_default_timeout(10_000)
    try:
        page = sign_in_page(ctx, console.url, scene.admin)
        page.goto(f"{console.url}/console/cau-hinh?chuong_trinh={DEMO_CAMPAIGN}")
        page.locator('input[name="trong_so_pham_vi"]').fill("25")  # 105 in all: refused, nothing saved
        page.get_by_role("button", name="Lưu thang điểm").click()
        expect(page.locator(".alert")).to_have_text("Tổng trọng số các tiêu chí phải bằng 100 (hiện là 105)")
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-cau-hinh-sua-{device}.png"), full_page=True)

        page.goto(f"{console.url}/console/can-bo")
        page.get_by_label("Họ và tên").fill("Nguyễn Thị Mới")
        page.get_by_label("Tên đăng nhập (không dấu").fill(f"moi-{device}-{scene.district.code.lower()}")
        page.get_by_label("Đơn vị").select_option(label=scene.district.name)
        page.get_by_role("button", name="Tạo tài khoản").click()
        expect(page.locator(".notice")).to_have_text("Đã tạo tài khoản cán bộ.")
        expect(page.get_by_role("textbox", name="Mật khẩu tạm")).to_be_visible()
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-can-bo-{device}.png"), full_page=False)
    finally:
        ctx.close()

    with tenant_session(scene.factory, TLD) as s:
        add_national(
            s,
            {
                "tenant_id": TLD,
                "source_tenant_id": scene.district.tenant_id,
                "source_submission_id": scene.subs[1].id,
                "round_code": ROUND,
                "tracking_code": scene.subs[1].tracking_code,
                "title": "Bảng theo dõi ca kíp bằng mã QR",
                "field": "san_xuat",
                "summary": "Công nhân quét mã QR khi nhận ca; tổ trưởng xem ngay ai vắng để điều người thay.",
                "benefit": "Giảm 30% thời gian giao ca",
                "awards": ["Được Liên đoàn Lao động tỉnh Thanh Hóa biểu dương"],
                "author": "Trần Thị Thử",
                "source_unit_name": "Liên đoàn Lao động tỉnh Thanh Hóa",
                "trade_secret": False,
                "nominated_at": now(),
                "status": "cho_xet",
            },
        )
    ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **DEVICES[device])
    ctx.set_default_timeout(10_000)
    try:
        page = sign_in_page(ctx, console.url, make_officer(TLD, "tld", Role.chu_tich))
        page.goto(f"{console.url}/console/toan-quoc")
        item = page.locator("li.national", has_text="Bảng theo dõi ca kíp bằng mã QR")
        expect(item.get_by_role("button", name="Chọn, biểu dương")).to_be_visible()
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-toan-quoc-{device}.png"), full_page=True)
        item.get_by_role("button", name="Không chọn").click()
        expect(page.locator(".alert")).to_have_text("Cần ghi rõ lý do không chọn")
    finally:
        ctx.close()
        with tenant_session(scene.factory, TLD) as s:
            s.execute(
                text(
                    "DELETE FROM review.national_nominations WHERE tenant_id = :tld "
                    "AND source_tenant_id = :t AND source_submission_id = :i"
                ),
                {"tld": TLD, "t": scene.district.tenant_id, "i": scene.subs[1].id},
            )
