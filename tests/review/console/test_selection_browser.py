"""Selection in headless Chromium on a phone and a desktop: a district chair signs in, appraises
an initiative, asks the employer to confirm it (and the employer does, through the link),
nominates up to the quota (2 in Thanh Hóa's round 1), nominates past it and reads the refusal on
the page; another tenant's officer typing the same initiative's address gets the 404 page.
Screenshots go to a temporary folder, or to docs/screenshots/ with UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from shared.timeutil import now
from tests.review.accounts.conftest import sign_in_page
from tests.review.console.selection_scene import Scene
from tests.review.workflow.factories import KEY
from tests.support.browser import DEVICES, no_overflow
from tests.support.stack import Server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

QUOTA_FULL = "Đơn vị đã giới thiệu đủ số lượng cho phép trong Đợt 1 – Tháng Công nhân năm 2021 (không quá 2 sáng kiến)"


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_appraise_confirm_nominate_to_the_quota_and_past_it(
    device: str, browser: Browser, console: Server, scene: Scene, shots: Path
) -> None:
    first, second, third = (s.tracking_code for s in scene.subs)
    for code in (second, third):  # the other two are appraised and confirmed already
        scene.appraise(code)
        scene.confirm(code, KEY)
    problems: list[str] = []
    ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **DEVICES[device])
    ctx.set_default_timeout(10_000)
    try:
        page = sign_in_page(ctx, console.url, scene.chair)
        page.on("pageerror", lambda e: problems.append(str(e)))

        # Appraise: the rubric with its weights, a comma as the decimal mark.
        page.goto(f"{console.url}/console/sang-kien/{first}")
        for field, value in (("Tính mới", "8"), ("Hiệu quả và giá trị làm lợi", "9,5")):
            page.get_by_label(field).fill(value)
        page.get_by_label("Phạm vi ứng dụng").fill("7")
        page.get_by_label("Khả năng nhân rộng").fill("8")
        page.get_by_label("Nhận xét").fill("Giảm hao hụt rõ rệt, dễ nhân rộng")
        page.get_by_role("button", name="Lưu điểm thẩm định").click()
        expect(page.locator(".notice")).to_have_text("Đã lưu điểm thẩm định của bạn.")
        expect(page.locator("#tham-dinh ~ .stats .stat-n").first).to_have_text("8,33")

        # The employer's confirmation: the officer makes the link, the employer opens it.
        page.get_by_role("button", name="Tạo đường dẫn xác nhận gửi người sử dụng lao động").click()
        link = page.locator("#link-url").input_value()
        assert link.startswith(f"{console.url}/xac-nhan/")
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-xet-chon-{device}.png"), full_page=True)
        employer = ctx.new_page()
        employer.goto(link)
        employer.get_by_label("Họ và tên người xác nhận").fill("Phạm Văn Giám")
        employer.get_by_label("Chức vụ").fill("Giám đốc")
        employer.get_by_label("Sáng kiến bắt đầu áp dụng từ ngày").fill(now().date().isoformat())
        employer.get_by_role("button", name="Xác nhận sáng kiến đang được áp dụng").click()
        expect(employer.get_by_text("Đã ghi nhận xác nhận. Xin cảm ơn.")).to_be_visible()
        employer.close()

        # Nominate it from its page (1/2) …
        page.reload()
        expect(page.get_by_text("Đã xác nhận: Phạm Văn Giám, Giám đốc")).to_be_visible()
        expect(page.get_by_text("Đủ các điều kiện để giới thiệu lên cấp trên.")).to_be_visible()
        page.get_by_role("button", name="Giới thiệu lên Liên đoàn Lao động tỉnh Thanh Hóa (đã chọn 0/2)").click()
        expect(page.locator(".notice")).to_have_text("Đã giới thiệu sáng kiến lên cấp trên.")
        expect(page.locator(".history")).to_contain_text("Giới thiệu lên cấp trên")

        # … the next from the “Đề cử” page (2/2), and the third is refused by the quota.
        page.get_by_role("link", name="Đề cử", exact=True).click()
        expect(page.locator(".stat-n").first).to_have_text("đã chọn 1/2")
        page.locator("li.candidate", has_text=second).get_by_role("button", name="Giới thiệu lên").click()
        expect(page.locator(".stat-n").first).to_have_text("đã chọn 2/2")
        page.locator("li.candidate", has_text=third).get_by_role("button", name="Giới thiệu lên").click()
        expect(page.locator(".alert")).to_have_text(QUOTA_FULL)
        expect(page.locator(".stat-n").first).to_have_text("đã chọn 2/2")
        expect(page.locator("ol.sent li")).to_have_count(2)
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-de-cu-{device}.png"), full_page=True)
        assert problems == []
    finally:
        ctx.close()

    # Cao Bằng's administrator types the same address: the 404 page, nothing of Thanh Hóa.
    ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **DEVICES[device])
    ctx.set_default_timeout(10_000)
    try:
        page = sign_in_page(ctx, console.url, scene.stranger)
        answer = page.goto(f"{console.url}/console/sang-kien/{first}")
        assert answer is not None and answer.status == 404
        expect(page.locator(".alert")).to_have_text("Không tìm thấy sáng kiến")
        expect(page.get_by_text("Cải tiến máy ép mía")).to_have_count(0)
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-404-{device}.png"), full_page=True)
        page.goto(f"{console.url}/console/cau-hinh")
        expect(page.locator("h1")).to_have_text("Cấu hình xét chọn")
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-cau-hinh-{device}.png"), full_page=True)
    finally:
        ctx.close()
