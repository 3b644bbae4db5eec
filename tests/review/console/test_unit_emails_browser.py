"""The units page in headless Chromium on a phone and a desktop: Cao Bằng's administrator opens
“Đơn vị”, searches “ha quang” without accents, goes down into Hà Quảng, saves one CĐCS's address
(stored lower case) and reads the refusal of a malformed one beside its field. Screenshots go to
a temporary folder, or to docs/screenshots/console-don-vi-{phone,desktop}.png with
UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.review.accounts.models import Role
from shared.db import make_sessionmaker, tenant_session
from tests.review.accounts.conftest import sign_in_page
from tests.review.console.conftest import CAO_BANG, MadeUnit, MakeOfficer, MakeUnit
from tests.support.browser import DEVICES, no_overflow
from tests.support.stack import Server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

HA_QUANG = "Liên đoàn Lao động huyện Hà Quảng"
SCHOOLS = (
    "CĐCS Trường THCS thị trấn Xuân Hòa",
    "CĐCS Bệnh viện Đa khoa huyện Hà Quảng",
    "CĐCS Chi cục Thuế huyện Hà Quảng",
)


@pytest.fixture
def ha_quang(app_engine: Engine, make_unit: MakeUnit) -> Iterator[list[MadeUnit]]:
    """Three CĐCS of the test under Hà Quảng, and the district's own address for the picture;
    the district's address is put back afterwards (the CĐCS go with make_unit)."""
    factory = make_sessionmaker(app_engine)
    args = {"t": CAO_BANG, "c": "H045"}
    with tenant_session(factory, CAO_BANG) as s:
        before = s.scalar(text("SELECT email FROM review.units WHERE tenant_id = :t AND code = :c"), args)
        s.execute(
            text("UPDATE review.units SET email = 'h045@demo.congdoan.vn' WHERE tenant_id = :t AND code = :c"), args
        )
    yield [make_unit(CAO_BANG, "H045", name=name) for name in SCHOOLS]
    with tenant_session(factory, CAO_BANG) as s:
        s.execute(text("UPDATE review.units SET email = :e WHERE tenant_id = :t AND code = :c"), {**args, "e": before})


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_search_go_down_save_and_refuse(
    device: str,
    browser: Browser,
    console: Server,
    ha_quang: list[MadeUnit],
    make_officer: MakeOfficer,
    shots: Path,
) -> None:
    problems: list[str] = []
    ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **DEVICES[device])
    ctx.set_default_timeout(10_000)
    try:
        page = sign_in_page(ctx, console.url, make_officer(CAO_BANG, None, Role.quan_tri))
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.get_by_role("navigation", name="Chức năng").get_by_role("link", name="Đơn vị", exact=True).click()
        expect(page.locator("#don-vi-ten")).to_have_text("Liên đoàn Lao động tỉnh Cao Bằng")

        page.get_by_label("Tìm đơn vị trong").fill("ha quang")
        page.get_by_role("button", name="Tìm").click()
        expect(page.locator("#ket-qua")).to_contain_text("3 đơn vị phù hợp với “ha quang”")
        page.locator("li.item").get_by_role("link", name=HA_QUANG, exact=True).click()
        expect(page.locator("#don-vi-ten")).to_have_text(HA_QUANG)
        expect(page.locator(".crumbs")).to_contain_text("Liên đoàn Lao động tỉnh Cao Bằng")

        school, hospital = (page.locator("li.item", has_text=name) for name in SCHOOLS[:2])
        school.get_by_label("Địa chỉ email").fill("  BCH.THCSXuanHoa@CaoBang.edu.vn ")
        school.get_by_role("button", name="Lưu", exact=True).click()
        expect(page.locator(".notice")).to_have_text("Đã lưu địa chỉ email của đơn vị; thay đổi được ghi vào nhật ký.")
        expect(page.locator("li.item", has_text=SCHOOLS[0])).to_contain_text("Email: bch.thcsxuanhoa@caobang.edu.vn")

        hospital.get_by_label("Địa chỉ email").fill("bch@benhvien, ke-toan@benhvien.vn")
        hospital.get_by_role("button", name="Lưu", exact=True).click()
        refusal = "Địa chỉ email của đơn vị không đúng định dạng (ví dụ: ten@congdoan.vn)"
        expect(page.locator(".alert")).to_contain_text(refusal)
        field = page.locator("li.item", has_text=SCHOOLS[1]).get_by_label("Địa chỉ email")
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_value("bch@benhvien, ke-toan@benhvien.vn")  # what was typed, to correct
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-don-vi-{device}.png"), full_page=True)
        assert problems == []
    finally:
        ctx.close()
