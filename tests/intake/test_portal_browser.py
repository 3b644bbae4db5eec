"""The portal in headless Chromium, as a worker's phone and an office desktop see it: register,
read the tracking code, let review's ingester commit it, track it. Screenshots go to
docs/screenshots/ (they illustrate the README and are looked at when the layout changes)."""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    Route,
    expect,
)

from services.review.ingester import Ingester
from tests.intake.conftest import Server, drain
from tests.support.browser import DEVICES

# One Chromium per xdist worker, and every browser test on the same worker.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PHONE = DEVICES["phone"]
DESKTOP = DEVICES["desktop"]

UNIT = "Liên đoàn Lao động tỉnh Cao Bằng"
SUBUNIT = "Liên đoàn Lao động huyện Hà Quảng"
FIELD = "An toàn vệ sinh lao động, bảo vệ môi trường"
TITLE = "Bảng kiểm an toàn điện trước ca làm việc"
# 187 NFC characters of Vietnamese; in NFD (as some phone keyboards send it) 237 code points.
DESCRIPTION = (
    "Tổ bảo trì lập bảng kiểm 12 mục cho tủ điện phân xưởng, kiểm tra đầu ca, ghi sổ và báo ngay "
    "khi phát hiện hư hỏng. Sau ba tháng áp dụng, số sự cố chập điện giảm rõ; công nhân yên tâm hơn."
)


def _phone_number() -> str:
    """A fresh number per run: intake limits each phone to 10 submissions a minute."""
    return f"09{random.randint(10_000_000, 99_999_999)}"


class Problems:
    """What the page itself complains about: script errors, CSP refusals, a page or a static file
    that failed. The API's 4xx/5xx are answers the page shows, not problems."""

    def __init__(self, page: Page) -> None:
        self.items: list[str] = []
        page.on("pageerror", lambda e: self.items.append(f"pageerror: {e}"))
        page.on("console", self._console)
        page.on("response", self._response)

    def _console(self, m: ConsoleMessage) -> None:
        if m.type == "error" and not m.text.startswith("Failed to load resource: the server responded"):
            self.items.append(f"console: {m.text}")

    def _response(self, r: Response) -> None:
        if r.status >= 400 and "/api/v1/" not in r.url:
            self.items.append(f"{r.status} {r.url}")


@pytest.fixture
def context_factory(browser: Browser) -> Iterator[Callable[[dict[str, Any]], BrowserContext]]:
    made: list[BrowserContext] = []

    def make(device: dict[str, Any]) -> BrowserContext:
        ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **device)
        ctx.set_default_timeout(10_000)
        made.append(ctx)
        return ctx

    yield make
    for c in made:
        c.close()


def _layout_is_usable(page: Page) -> None:
    """Nothing wider than the screen; every control big enough for a thumb (44 CSS px)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"
    small = page.evaluate(
        """() => Array.from(document.querySelectorAll(
              'button, select, textarea, summary, .choice, .check, a.btn, .nav-link,'
              + ' input:not([type=radio]):not([type=checkbox])'))
            .filter(e => e.offsetParent !== null)
            .map(e => [e.id || e.className || e.tagName, e.getBoundingClientRect().height])
            .filter(([, h]) => h < 44)"""
    )
    assert small == [], f"tap targets under 44px: {small}"


def _fill_form(page: Page, phone: str) -> None:
    page.select_option("#f-unit", label=UNIT)
    page.select_option("#f-subunit", label=SUBUNIT)  # waits for the options the script fetches
    page.fill("#f-full_name", "Nông Văn Thắng")
    page.fill("#f-id_number", "079 123 456 789")
    page.fill("#f-phone", phone)
    page.get_by_label("Doanh nghiệp").check()
    page.select_option("#f-field", label=FIELD)
    page.fill("#f-title", TITLE)
    page.fill("#f-description", unicodedata.normalize("NFD", DESCRIPTION))
    page.check("#f-consent")


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_register_then_track(
    device: str,
    intake: Server,
    ingester: Ingester,
    context_factory: Callable[[dict[str, Any]], BrowserContext],
    shots: Path,
) -> None:
    drain(ingester)
    ctx = context_factory(PHONE if device == "phone" else DESKTOP)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=intake.url)
    page = ctx.new_page()
    problems = Problems(page)
    page.goto(f"{intake.url}/")
    expect(page.locator("h1")).to_contain_text("75 nghìn sáng kiến")
    expect(page.locator(".countdown-value")).to_have_text(re.compile(r"^\d+ ngày \d\d:\d\d:\d\d$"))
    expect(page.locator("#f-subunit")).to_be_disabled()
    expect(page.locator("#nut-gui")).to_be_enabled()  # the script is running
    _layout_is_usable(page)
    page.screenshot(path=str(shots / f"portal-{device}.png"))

    phone = _phone_number()
    _fill_form(page, phone)
    # The counter counts what the server will count: NFC characters, not the NFD code points typed.
    nfd = unicodedata.normalize("NFD", DESCRIPTION)
    assert (len(DESCRIPTION), len(nfd)) == (187, 237)
    expect(page.locator("#c-description")).to_have_text("187/1.000 ký tự")
    page.locator("#thong-tin-them summary").click()
    page.fill("#f-birth_year", "1988")
    page.fill("#f-applied_from", "Từ tháng 02/2021")
    _layout_is_usable(page)
    if device == "phone":
        page.screenshot(path=str(shots / "form-filled-phone.png"), full_page=True)

    page.click("#nut-gui")
    confirm = page.locator("#xac-nhan")
    expect(confirm).to_be_visible()
    expect(page.locator("#form-sang-kien")).to_be_hidden()
    code = page.locator("#xn-ma").inner_text()
    assert re.fullmatch(r"4-[0-9A-Z]{4}-[0-9A-Z]{4}", code), code
    expect(page.locator("#xn-ten")).to_have_text(TITLE)
    expect(page.locator("#xn-tinh-trang")).to_have_text("Đã tiếp nhận, đang chuyển đến đơn vị")
    page.click("#xn-sao-chep")
    expect(page.locator("#xn-da-chep")).to_have_text("Đã sao chép mã")
    assert page.evaluate("navigator.clipboard.readText()") == code
    _layout_is_usable(page)
    page.screenshot(path=str(shots / f"confirmation-{device}.png"))

    assert drain(ingester) >= 1  # review commits it under Cao Bằng

    page.click("#xn-theo-doi")
    page.wait_for_url(re.compile(r"/theo-doi\?ma="))
    expect(page.locator("#t-code")).to_have_value(code)
    page.fill("#t-phone", f"+84 {phone[1:4]} {phone[4:7]} {phone[7:]}")  # written another way
    page.click("#form-theo-doi button[type=submit]")
    expect(page.locator("#kq-status")).to_have_text("Đơn vị đã nhận sáng kiến")
    expect(page.locator("#kq-code")).to_have_text(code)
    expect(page.locator("#kq-unit")).to_have_text(UNIT)
    expect(page.locator("#kq-subunit")).to_have_text(SUBUNIT)
    expect(page.locator("#kq-title-text")).to_have_text(TITLE)
    expect(page.locator("#kq-time")).to_have_text(re.compile(r"^\d\d:\d\d ngày \d\d/\d\d/\d{4}$"))
    _layout_is_usable(page)
    page.screenshot(path=str(shots / f"tracking-{device}.png"))

    # Another phone number finds nothing, and says so without echoing it.
    page.fill("#t-phone", "0987 000 111")
    page.click("#form-theo-doi button[type=submit]")
    expect(page.locator("#t-status")).to_have_text("Không tìm thấy sáng kiến với mã theo dõi và số điện thoại này")
    expect(page.locator("#ket-qua")).to_be_hidden()
    assert problems.items == []


def test_a_lost_answer_is_sent_again_with_the_same_key(
    intake: Server, ingester: Ingester, context_factory: Callable[[dict[str, Any]], BrowserContext]
) -> None:
    """3G drops the 202 after the server queued the initiative: pressing again must not queue it twice."""
    drain(ingester)
    page = context_factory(PHONE).new_page()
    page.goto(f"{intake.url}/")
    _fill_form(page, _phone_number())
    seen: list[dict[str, str]] = []

    def lose_the_answer(route: Route) -> None:
        answer = route.fetch()  # the server does receive it and queues it
        seen.append({"key": route.request.headers["idempotency-key"], "code": answer.json()["tracking_code"]})
        route.abort("connectionreset")

    page.route("**/api/v1/submissions", lose_the_answer, times=1)
    keys: list[str] = []
    page.on("request", lambda r: keys.append(r.headers["idempotency-key"]) if r.method == "POST" else None)
    page.click("#nut-gui")
    expect(page.locator("#trang-thai")).to_contain_text("Không kết nối được với máy chủ")
    expect(page.locator("#trang-thai")).to_contain_text("sáng kiến sẽ không bị gửi trùng")
    expect(page.locator("#xac-nhan")).to_be_hidden()

    page.click("#nut-gui")
    expect(page.locator("#xac-nhan")).to_be_visible()
    assert len(keys) == 2 and keys[0] == keys[1] == seen[0]["key"]
    expect(page.locator("#xn-ma")).to_have_text(seen[0]["code"])  # the code of the one queued
    assert drain(ingester) == 1

    # Another initiative from the same person: who and where stay, the rest is new (and a new key).
    page.click("#xn-gui-tiep")
    expect(page.locator("#form-sang-kien")).to_be_visible()
    expect(page.locator("#f-full_name")).to_have_value("Nông Văn Thắng")
    expect(page.locator("#f-subunit")).to_have_value("H045")
    expect(page.locator("#f-title")).to_have_value("")
    expect(page.locator("#f-title")).to_be_focused()
    expect(page.locator("#c-description")).to_have_text("0/1.000 ký tự")
    page.fill("#f-title", "Sổ tay an toàn cho công nhân mới")
    page.fill("#f-description", "Phát cho công nhân mới một sổ tay bỏ túi về an toàn lao động.")
    page.get_by_label("Khối cơ quan").check()
    page.select_option("#f-field", value="khac")
    page.check("#f-consent")
    page.click("#nut-gui")
    expect(page.locator("#xac-nhan")).to_be_visible()
    assert len(keys) == 3 and keys[2] != keys[0]
    assert page.locator("#xn-ma").inner_text() != seen[0]["code"]


def test_too_many_submissions_say_when_to_try_again(
    intake_factory: Callable[..., Server], context_factory: Callable[[dict[str, Any]], BrowserContext]
) -> None:
    limited = intake_factory(rate_limit_per_phone=0)  # every phone is over its limit at once
    page = context_factory(PHONE).new_page()
    page.goto(f"{limited.url}/")
    _fill_form(page, _phone_number())
    page.click("#nut-gui")
    message = "Số điện thoại này đã gửi quá nhiều lần trong thời gian ngắn, vui lòng thử lại sau"
    expect(page.locator("#e-phone")).to_have_text(message)
    expect(page.locator("#trang-thai")).to_have_text(re.compile(re.escape(message) + r" \d{1,2} giây\.$"))
    expect(page.locator("#nut-gui")).to_be_disabled()


def test_errors_are_shown_beside_their_fields(
    intake: Server, context_factory: Callable[[dict[str, Any]], BrowserContext], shots: Path
) -> None:
    page = context_factory(PHONE).new_page()
    problems = Problems(page)
    page.goto(f"{intake.url}/")
    # Nothing filled: each required field says what is missing, and the summary lists them.
    page.click("#nut-gui")
    summary = page.locator("#tom-tat-loi")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Vui lòng sửa 10 mục sau:")
    expect(page.locator("#e-full_name")).to_have_text("Họ và tên không được để trống")
    expect(page.locator("#e-subunit")).to_have_text("Đơn vị trực thuộc không được để trống")
    expect(page.locator("#e-group")).to_have_text("Nhóm ý tưởng không được để trống")
    consent = "Cần đồng ý cho phép sử dụng thông tin cá nhân để xét chọn sáng kiến"
    expect(page.locator("#e-consent")).to_have_text(consent)
    expect(page.locator("#f-full_name")).to_have_attribute("aria-invalid", "true")

    # A wrong phone and ID number: the server's Vietnamese message beside each, never the digits.
    _fill_form(page, "0198 7654 3210 9")
    page.fill("#f-id_number", "5566 7788")
    page.click("#nut-gui")
    expect(page.locator("#e-phone")).to_have_text("Số điện thoại không đúng định dạng số điện thoại Việt Nam")
    expect(page.locator("#e-id_number")).to_have_text("Số CMND/CCCD phải gồm 9 hoặc 12 chữ số")
    expect(page.locator("#f-phone")).to_have_attribute("aria-invalid", "true")
    expect(summary).to_contain_text("Vui lòng sửa 2 mục sau:")
    expect(page.locator("#e-full_name")).to_be_empty()
    told = "".join(page.locator(".error, #tom-tat-loi, #trang-thai").all_inner_texts()).replace(" ", "")
    for digits in ("0198", "7654", "3210", "98765", "5566", "7788"):
        assert digits not in told, digits
    page.screenshot(path=str(shots / "errors-phone.png"))
    # The summary's link takes the thumb to the field.
    summary.get_by_role("link", name=re.compile("Số điện thoại")).click()
    expect(page.locator("#f-phone")).to_be_focused()
    assert problems.items == []


def test_description_counter_counts_nfc_and_blocks_above_1000(
    intake: Server, context_factory: Callable[[dict[str, Any]], BrowserContext], shots: Path
) -> None:
    page = context_factory(PHONE).new_page()
    page.goto(f"{intake.url}/")
    box = page.locator("#f-description")
    counter = page.locator("#c-description")
    button = page.locator("#nut-gui")
    # Typed key by key, decomposed: "ế" arrives as e + U+0302 + U+0301 and is one character.
    box.press_sequentially(unicodedata.normalize("NFD", "Tiếng Việt"))
    assert len(unicodedata.normalize("NFD", "Tiếng Việt")) == 14
    expect(counter).to_have_text("10/1.000 ký tự")

    exactly = ("Cải tiến quy trình " * 60)[:1000]
    box.fill(unicodedata.normalize("NFD", exactly))
    expect(counter).to_have_text("1.000/1.000 ký tự")
    expect(counter).not_to_have_class(re.compile("over"))
    expect(button).to_be_enabled()

    box.fill(unicodedata.normalize("NFD", exactly + "ữa"))
    expect(counter).to_have_text("1.002/1.000 ký tự — vượt quá 2 ký tự")
    expect(counter).to_have_class(re.compile("over"))
    assert page.evaluate("getComputedStyle(document.getElementById('c-description')).color") == "rgb(179, 38, 30)"
    expect(button).to_be_disabled()
    expect(page.locator("#ly-do-khoa")).to_have_text("Mô tả đang dài quá 1.000 ký tự: hãy rút gọn để gửi.")
    box.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "counter-over-phone.png"))

    box.fill(exactly)
    expect(counter).to_have_text("1.000/1.000 ký tự")
    expect(button).to_be_enabled()
    expect(page.locator("#ly-do-khoa")).to_be_empty()


def test_a_qr_deep_link_preselects_both_selects(
    intake: Server, context_factory: Callable[[dict[str, Any]], BrowserContext]
) -> None:
    page = context_factory(PHONE).new_page()
    problems = Problems(page)
    page.goto(f"{intake.url}/?don_vi=cao-bang&truc_thuoc=H045")
    expect(page.locator("#f-unit")).to_have_value("cao-bang")
    expect(page.locator("#f-subunit")).to_have_value("H045")
    expect(page.locator("#f-subunit")).to_be_enabled()
    # Another unit: the subunits follow; a sector union has only itself to choose.
    page.select_option("#f-unit", label="Công đoàn Y tế Việt Nam")
    expect(page.locator("#f-subunit")).to_have_value("cd-y-te")
    expect(page.locator("#f-subunit option:checked")).to_have_text("Công đoàn cơ sở trực thuộc Công đoàn Y tế Việt Nam")
    page.select_option("#f-unit", value="cao-bang")
    expect(page.locator("#f-subunit")).to_have_value("")
    expect(page.locator("#f-subunit optgroup").first).to_have_attribute(
        "label", "Liên đoàn Lao động quận, huyện, thị xã, thành phố"
    )
    assert problems.items == []


def test_a_closed_portal_shows_only_tracking(
    intake_factory: Callable[..., Server], context_factory: Callable[[dict[str, Any]], BrowserContext], shots: Path
) -> None:
    # review's address answers nothing here: a code no longer in Redis cannot be looked up
    closed = intake_factory(intake_campaign="75k-2021", review_url="http://127.0.0.1:9")
    page = context_factory(PHONE).new_page()
    problems = Problems(page)
    page.goto(f"{closed.url}/")
    expect(page.locator("main")).to_contain_text("Cổng tiếp nhận sáng kiến đã đóng lúc 24:00 ngày 20/04/2021")
    expect(page.locator("#form-sang-kien")).to_have_count(0)
    expect(page.locator("#f-phone")).to_have_count(0)
    expect(page.locator("#form-theo-doi")).to_be_visible()
    _layout_is_usable(page)
    page.screenshot(path=str(shots / "closed-phone.png"))
    page.fill("#t-code", "4-aaaa-bbbb")
    page.fill("#t-phone", "0912 345 678")
    page.click("#form-theo-doi button[type=submit]")
    expect(page.locator("#t-status")).to_have_text("Chưa tra cứu được kết quả, vui lòng thử lại sau 10 giây.")
    assert problems.items == []
