"""/bang-xep-hang in headless Chromium on a phone and a desktop, with the 2021 tree's 83 unions
and made-up counts: the ranking reads at a glance, nothing is wider than the screen, the chart's
text keeps its size. Screenshots to a temporary folder, or docs/screenshots/ (UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis
from playwright.sync_api import Browser, expect
from sqlalchemy.engine import Engine

from services.review import leaderboard
from shared.contracts.leaderboard import LEADERBOARD_VERSION_KEY, LeaderboardSnapshot
from shared.db import make_sessionmaker, tenant_scope
from tests.intake.conftest import Server
from tests.support.browser import DEVICES

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _made_up(snap: LeaderboardSnapshot) -> LeaderboardSnapshot:
    """The real tree's unions with counts of the size 2021 saw (a few hundred to a few thousand)."""
    boards = []
    for b in snap.campaigns:
        tenants = []
        for t in b.tenants:
            h = int(hashlib.sha256(t.code.encode()).hexdigest()[:6], 16)
            n = 7_912 if t.code == "thanh-hoa" else (h % 1_800 + 150 if t.kind == "province" else h % 400 + 20)
            part = {"grassroots": 1_200, "taking_part": 1_031} if t.code == "thanh-hoa" else {}
            tenants.append(t.model_copy(update={"initiatives": n, "grassroots": 0, "taking_part": 0, **part}))
        tenants.sort(key=lambda t: (-t.initiatives, t.name))
        boards.append(b.model_copy(update={"tenants": tenants, "initiatives": sum(t.initiatives for t in tenants)}))
    return snap.model_copy(update={"campaigns": boards})


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_leaderboard_on_a_phone_and_a_desktop(
    device: str,
    browser: Browser,
    app_engine: Engine,
    redis_url: str,
    intake_factory: Callable[..., Server],
    shots: Path,
) -> None:
    client = redis.Redis.from_url(redis_url)
    real = leaderboard.build_leaderboard(tenant_scope(make_sessionmaker(app_engine)))
    client.delete(LEADERBOARD_VERSION_KEY)
    leaderboard.publish(client, _made_up(real))
    intake = intake_factory()
    # The server reloads its copy every half second: wait until it serves this one.
    deadline = time.monotonic() + 10
    while "7.912" not in httpx.get(f"{intake.url}/bang-xep-hang", timeout=10).text and time.monotonic() < deadline:
        time.sleep(0.1)
    ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", **DEVICES[device])
    ctx.set_default_timeout(10_000)
    problems: list[str] = []
    try:
        page = ctx.new_page()
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(f"{intake.url}/")
        page.get_by_role("link", name="Bảng xếp hạng các đơn vị").click()
        expect(page).to_have_url(f"{intake.url}/bang-xep-hang")
        expect(page.locator("#ca-nuoc")).to_have_text("Cả nước")
        first = page.locator("#xh-tinh svg text").first
        expect(first).to_have_text("1. Tỉnh Thanh Hóa")
        expect(page.get_by_role("img", name="Liên đoàn Lao động tỉnh, thành phố")).to_be_visible()
        expect(page.get_by_role("img", name="Cả nước")).to_be_visible()
        size = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('#xh-tinh text')).fontSize)"
            " * document.querySelector('#xh-tinh svg').getScreenCTM().a"
        )
        assert size >= 13, size
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page is {overflow}px wider than the screen"
        page.screenshot(path=str(shots / f"bang-xep-hang-{device}.png"), full_page=device == "desktop")
        if device == "phone":  # the whole ranking is ~5,000px tall on a phone: its top, then its end
            page.locator("#nganh").scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "bang-xep-hang-nganh-phone.png"))
        assert problems == []
    finally:
        ctx.close()
        client.delete(LEADERBOARD_VERSION_KEY)
        leaderboard.publish(client, real)
