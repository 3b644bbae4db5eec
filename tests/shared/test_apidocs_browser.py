"""/docs in headless Chromium: Swagger UI served by the service itself starts under the
platform's Content-Security-Policy (no CDN, no inline script) and shows the service's API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect

from devstack.embedded import free_port
from shared.web import create_app
from tests.support.stack import Server

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    app = create_app("tai-lieu", title="Sáng kiến — thử tài liệu")

    @app.get("/api/v1/vi-du", summary="Một thao tác ví dụ")
    async def example() -> dict[str, str]:
        return {"ok": "có"}

    s = Server(app, free_port()).start()
    yield s
    s.stop()


def test_the_page_and_its_files_come_from_the_service(server: Server) -> None:
    page = httpx.get(f"{server.url}/docs")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text and "cdn" not in page.text.lower()  # no inline script, no CDN
    for path in ("/docs/init.js", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css"):
        r = httpx.get(server.url + path)
        assert r.status_code == 200 and len(r.content) > 20, path
    assert httpx.get(f"{server.url}/docs/..%2Fpyproject.toml").status_code == 404
    assert httpx.get(f"{server.url}/docs/index.html").status_code == 404  # only the two files


def test_swagger_ui_starts_under_the_csp(browser: Browser, server: Server, shots: Path) -> None:
    ctx = browser.new_context(locale="vi-VN")
    problems: list[str] = []
    try:
        page = ctx.new_page()
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("requestfailed", lambda r: problems.append(f"failed {r.url}"))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.goto(f"{server.url}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Sáng kiến — thử tài liệu")
        expect(page.locator(".opblock-summary-path").first).to_have_text("/api/v1/vi-du")
        page.screenshot(path=str(shots / "api-docs.png"))
        assert problems == []
    finally:
        ctx.close()
