"""Tiến độ's charts and the export page in headless Chromium, on a phone (390px) and a desktop
(1280px): every chart is drawn, nothing is wider than the screen, the text inside the charts
stays readable (no viewBox shrinking it), and the data table opens. Screenshots go to a
temporary folder, or to docs/screenshots/ with UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from services.review.accounts.models import Role
from shared.timeutil import VN_TZ
from tests.review.accounts.conftest import PASSWORD
from tests.review.console.conftest import MakeOfficer, MakeSubmission, MakeUnit, officer_at
from tests.support.browser import DEVICES, no_overflow
from tests.support.stack import Server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

FIELDS = ["san_xuat", "san_xuat", "an_toan_moi_truong", "cai_cach_hanh_chinh", "cong_dong", "san_pham_moi", "khac"]


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_progress_charts_and_export_page(
    device: str,
    browser: Browser,
    console: Server,
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
    make_submission: MakeSubmission,
    shots: Path,
) -> None:
    district = make_unit(kind="district", name="LĐLĐ huyện Thọ Xuân (thử nghiệm)")
    names = [
        "CĐCS Công ty CP Mía đường Lam Sơn",
        "CĐCS Trường THPT Lê Hoàn",
        "CĐCS Bệnh viện Đa khoa huyện",
        "CĐCS Công ty May Thọ Xuân",
        "CĐCS UBND xã Xuân Lai",
    ]
    units = [make_unit(parent_code=district.code, name=n) for n in names]
    opens = dt.date(2021, 3, 10)
    # Slow at first, a rush before the 20/4 deadline, as in 2021: the district crosses its target
    # (2 × 5 CĐCS) in the last week; two CĐCS stay below 2 and the last one sends nothing.
    days = [3, 9, 15, 20, 24, 28, 31, 33, 35, 36, 38, 39, 40, 40]
    who = [0, 1, 0, 2, 0, 1, 3, 0, 2, 1, 0, 0, 1, 0]
    for n, (day, i) in enumerate(zip(days, who, strict=True)):
        unit = units[i]
        at = dt.datetime.combine(opens + dt.timedelta(days=day), dt.time(9 + n % 8), tzinfo=VN_TZ)
        group = "khoi_co_quan" if unit.name.startswith(("CĐCS Trường", "CĐCS Bệnh")) else "doanh_nghiep"
        make_submission(unit, campaign="75k-2021", field=FIELDS[n % 7], idea_group=group, submitted_at=at, sign=False)
    n = len(days)
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

        page.goto(f"{console.url}/console/tien-do?chuong_trinh=75k-2021")
        expect(page.locator("h1")).to_have_text("Tiến độ: LĐLĐ huyện Thọ Xuân (thử nghiệm)")
        expect(page.locator("figure.chart")).to_have_count(5)
        expect(page.get_by_role("img", name="Sáng kiến cộng dồn theo ngày")).to_be_visible()
        expect(page.get_by_role("img", name="Theo lĩnh vực")).to_be_visible()
        cumulative = page.locator("#bd-cong-don svg.chart-svg")
        expect(cumulative.locator("text", has_text="Chỉ tiêu: 10 (2 × 5 CĐCS)")).to_have_count(1)
        # Text inside the charts keeps its size on a phone (no viewBox scaling it down).
        size = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('#bd-linh-vuc text')).fontSize)"
            " * document.querySelector('#bd-linh-vuc svg').getScreenCTM().a"
        )
        assert size >= 13, size
        box = cumulative.bounding_box()
        assert box is not None and box["width"] <= DEVICES[device]["viewport"]["width"]
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-tien-do-bieu-do-{device}.png"), full_page=True)

        page.locator("#bd-linh-vuc summary").click()
        expect(page.locator("#bd-linh-vuc table tbody tr")).to_have_count(7 - 1)  # the six fields
        expect(page.locator("#bd-linh-vuc table")).to_contain_text("Sản xuất có giá trị làm lợi cao")

        page.get_by_role("link", name="Xuất Excel, CSV").click()
        expect(page.locator("h1")).to_have_text("Xuất dữ liệu sáng kiến")
        expect(page.locator("#so-luong")).to_contain_text(f"{n} sáng kiến")
        expect(page.get_by_label("Hiện đầy đủ số điện thoại", exact=False)).not_to_be_checked()
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-xuat-du-lieu-{device}.png"), full_page=True)
        with page.expect_download() as info:
            page.get_by_role("button", name="Xuất CSV").click()
        assert info.value.suggested_filename.endswith(".csv")
        assert problems == []
    finally:
        ctx.close()
