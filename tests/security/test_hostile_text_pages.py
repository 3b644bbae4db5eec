"""Hostile text as a browser shows it (headless Chromium): the portal's form and tracking page,
and the console's pages that show what people typed (the queue, an initiative's page with its
complaint, appraisal note and commendation, the progress charts, Đề cử, the units' page).

Each page is watched for what an injection would do: a dialog opening (alert), a script of the
attacker's running (``window.__pwned``), a console error or a page error (a CSP refusal of an
injected inline script counts too). The text must appear literally, as kept
(tests/security/hostile.py).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page, expect

from services.review.ingester import Ingester
from tests.review.accounts.conftest import sign_in_page
from tests.review.console.conftest import (  # noqa: F401  # fixtures, requested by name
    MakeSubmission,
    MakeUnit,
    _clean_console_keys,
    cipher,
    client_factory,
    console,
    make_officer,
    make_submission,
    make_unit,
    scene,
    settings_factory,
    signed_in,
    workflow_seeded,
)
from tests.review.console.selection_scene import ROUND, Scene
from tests.security.hostile import ATTR_BREAK, BIDI, CONTROLS, IMG, JINJA, JS_LINK, SCRIPT, kept_line, kept_text
from tests.support.browser import DEVICES
from tests.support.stack import Server, drain

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

TITLE = f"{SCRIPT} {IMG}"
DESCRIPTION = f"{JS_LINK}\n{ATTR_BREAK}\n{JINJA}\n{CONTROLS}\n{BIDI}"


@dataclass
class Watch:
    """What an injection would leave behind on a page."""

    page: Page
    events: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda e: self.events.append(f"pageerror: {e}"))
        self.page.on("console", self._console)

    def _dialog(self, d: Dialog) -> None:
        self.events.append(f"dialog: {d.type} {d.message}")
        d.dismiss()

    def _console(self, m: ConsoleMessage) -> None:
        if m.type == "error" and not m.text.startswith("Failed to load resource: the server responded"):
            self.events.append(f"console: {m.text}")

    def clean(self) -> None:
        assert self.page.evaluate("typeof window.__pwned") == "undefined", "an injected script ran"
        self.page.wait_for_timeout(100)  # an onerror of a broken image fires after load
        assert self.page.evaluate("typeof window.__pwned") == "undefined", "an injected handler ran"
        injected = self.page.evaluate(
            """() => Array.from(document.querySelectorAll('*')).filter(e =>
                 Array.from(e.attributes).some(a => a.name !== 'value' && a.value.includes('__pwned'))
                 || (e.tagName === 'SCRIPT' && e.textContent.includes('__pwned'))
                 || e.tagName.toLowerCase() === 'svg' && e.getAttribute('onload') !== null
               ).map(e => e.outerHTML.slice(0, 80))"""
        )
        assert injected == []
        assert self.events == []


def shown(page: Page) -> str:
    """The page's text as a reader sees it, white space folded."""
    return " ".join(page.inner_text("body").split())


def folded(s: str) -> str:
    return " ".join(s.split())


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for c in made:
        c.close()


def new_context(browser: Browser, contexts: list[BrowserContext], device: str = "desktop") -> BrowserContext:
    ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **DEVICES[device])
    ctx.set_default_timeout(10_000)
    contexts.append(ctx)
    return ctx


def new_page(browser: Browser, contexts: list[BrowserContext], device: str = "desktop") -> tuple[Page, Watch]:
    page = new_context(browser, contexts, device).new_page()
    return page, Watch(page)


# --- the portal ------------------------------------------------------------------------------------


def test_the_portal_takes_hostile_text_and_shows_it_back_as_text(
    browser: Browser, contexts: list[BrowserContext], intake: Server, ingester: Ingester
) -> None:
    drain(ingester)
    page, watch = new_page(browser, contexts, "phone")
    page.goto(f"{intake.url}/")
    page.select_option("#f-unit", label="Liên đoàn Lao động tỉnh Cao Bằng")
    page.select_option("#f-subunit", label="Liên đoàn Lao động huyện Hà Quảng")
    page.fill("#f-full_name", "Nông Văn Thắng")
    page.fill("#f-id_number", f"0{secrets.randbelow(10**11):011d}")
    phone = f"09{secrets.randbelow(10**8):08d}"
    page.fill("#f-phone", phone)
    page.get_by_label("Doanh nghiệp").check()
    page.select_option("#f-field", index=1)
    page.fill("#f-title", TITLE)
    page.fill("#f-description", DESCRIPTION)
    page.check("#f-consent")
    page.click("#nut-gui")
    expect(page.locator("#xac-nhan")).to_be_visible()
    expect(page.locator("#xn-ten")).to_have_text(TITLE.strip())
    code = page.locator("#xn-ma").inner_text()
    watch.clean()
    assert drain(ingester) >= 1

    page.click("#xn-theo-doi")
    page.wait_for_url(re.compile(r"/theo-doi\?ma="))
    page.fill("#t-phone", phone)
    page.click("#form-theo-doi button[type=submit]")
    expect(page.locator("#kq-code")).to_have_text(code)
    expect(page.locator("#kq-title-text")).to_have_text(kept_line(TITLE))
    watch.clean()


@pytest.mark.parametrize(
    "query",
    [
        f"ma={SCRIPT}",
        "ma=%22%3E%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E",
        "ma=%22%20autofocus%20onfocus%3D%22window.__pwned%3D1",
    ],
)
def test_the_tracking_page_keeps_its_address_as_text(
    browser: Browser, contexts: list[BrowserContext], intake: Server, query: str
) -> None:
    page, watch = new_page(browser, contexts)
    page.goto(f"{intake.url}/theo-doi?{query}")
    typed = page.evaluate("new URLSearchParams(location.search).get('ma')")
    expect(page.locator("#t-code")).to_have_value(typed[:32])
    watch.clean()
    page.goto(f"{intake.url}/?don_vi=%3Cscript%3Ewindow.__pwned%3D1%3C/script%3E&truc_thuoc=%22%3E%3Cimg")
    expect(page.locator("#f-unit")).to_have_value("")
    watch.clean()


# --- the console -----------------------------------------------------------------------------------


def test_the_console_shows_hostile_text_as_text(
    browser: Browser,
    contexts: list[BrowserContext],
    console: Server,  # noqa: F811  # the fixture imported above
    client_factory: Callable[..., TestClient],  # noqa: F811  # the fixture imported above
    make_unit: MakeUnit,  # noqa: F811  # the fixture imported above
    make_submission: MakeSubmission,  # noqa: F811  # the fixture imported above
    scene: Scene,  # noqa: F811  # the fixture imported above
) -> None:
    # An initiative as intake would have kept it, at a CĐCS whose name is hostile too.
    hostile_unit = make_unit(parent_code=scene.district.code, name=kept_line(f"CĐCS {IMG} {BIDI}"))
    sub = make_submission(
        hostile_unit,
        full_name=kept_line(f"Lê {ATTR_BREAK}"),
        title=kept_line(TITLE),
        description=kept_text(DESCRIPTION),
        position=kept_line(JINJA),
        workplace=kept_line(JS_LINK),
    )
    chair, csrf = signed_in(client_factory, scene.chair)
    code = scene.subs[0].tracking_code
    detail = f"/console/sang-kien/{code}"
    complaint = f"{SCRIPT}\n{CONTROLS}"
    assert chair.post(f"{detail}/khieu-nai", data={"csrf_token": csrf, "loai": "noi_dung", "noi_dung": complaint})
    scores = {"diem_tinh_moi": "8", "diem_hieu_qua": "9", "diem_pham_vi": "7", "diem_nhan_rong": "8"}
    note = f"{IMG}\n{JINJA}"
    r = chair.post(f"{detail}/cham-diem", data={"csrf_token": csrf, "dot": ROUND, **scores, "nhan_xet": note})
    assert r.status_code in (303, 409), r.text[:300]

    page = sign_in_page(new_context(browser, contexts), console.url, scene.chair)
    watch = Watch(page)

    # The queue: the hostile initiative's row, by its title.
    page.goto(f"{console.url}/console/sang-kien")
    text = shown(page)
    assert kept_line(TITLE) in text and kept_line(f"Lê {ATTR_BREAK}") in text
    watch.clean()

    # Its page: every field as typed; the unit's name as text.
    page.goto(f"{console.url}/console/sang-kien/{sub.tracking_code}")
    text = shown(page)
    for want in (kept_line(TITLE), kept_line(JINJA), kept_line(JS_LINK), kept_line(f"CĐCS {IMG} {BIDI}")):
        assert want in text, want
    for line in kept_text(DESCRIPTION).split("\n"):
        assert folded(line) in text, line
    watch.clean()

    # The other initiative's page: the complaint and the appraisal note, kept and shown as text.
    page.goto(f"{console.url}{detail}?dot={ROUND}")
    text = shown(page)
    for line in [*kept_text(complaint).split("\n"), *kept_text(note).split("\n")]:
        assert folded(line) in text, line
    watch.clean()

    # Pages that show unit names: progress (charts drawn on the server), Đề cử.
    for path in ("/console/tien-do", f"/console/de-cu?chuong_trinh=75k-demo&dot={ROUND}"):
        page.goto(f"{console.url}{path}")
        watch.clean()
    page.goto(f"{console.url}/console/tien-do")
    assert kept_line(f"CĐCS {IMG} {BIDI}") in shown(page)

    # The units' page, as the province's administrator searching for it.
    admin = sign_in_page(new_context(browser, contexts), console.url, scene.admin)
    admin_watch = Watch(admin)
    admin.goto(f"{console.url}/console/don-vi?q=Thử")
    admin.goto(f"{console.url}/console/don-vi?don_vi={scene.district.id}")
    assert kept_line(f"CĐCS {IMG} {BIDI}") in shown(admin)
    admin_watch.clean()
