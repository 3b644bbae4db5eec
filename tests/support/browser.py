"""Headless Chromium for the browser tests (Debian's /usr/bin/chromium, driven by Playwright's
sync API): one per test module, closed when the module's last test is done.

Playwright's sync API runs its event loop in a greenlet of the main thread and leaves it marked
as the thread's running loop while it is open. So while a browser is open nothing else in the
process can start a loop: a second `sync_playwright()` refuses ("using Playwright Sync API inside
the asyncio loop"), and so does every `asyncio.run()` of another test on the same xdist worker.
One browser per module, from this one fixture, keeps those lifetimes apart: pytest tears a
module's fixtures down before the next module's tests run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# The flags this closed network needs: without the background-networking ones Chromium keeps
# trying hosts it cannot reach.
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEVICES: dict[str, dict[str, Any]] = {
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}


def no_overflow(page: Page) -> None:
    """A phone must not scroll sideways: nothing on the page is wider than the screen."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every run takes the screenshots (to look at when a test fails); only
    UPDATE_SCREENSHOTS=1 rewrites the committed ones, so a plain `make test` leaves git clean."""
    target = SHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path_factory.mktemp("screenshots")
    target.mkdir(parents=True, exist_ok=True)
    return target
