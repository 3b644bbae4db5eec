"""The console's dossiers end to end on real parts: a district's chair nominates two
initiatives, clicks “Tải hồ sơ (PDF/DOCX)”, review builds the dossier (phone masked, no ID
number, a trade secret's content kept in) and hands it to reporting (a real server), a real
reporting worker renders it into SeaweedFS, and the page shows the links; the PDF has the
nominees in it. Another tenant's officer gets 404 for this tenant's unit, and reporting away is a
clear 503 page, not a crash."""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, expect
from sqlalchemy import text

from devstack.embedded import free_port
from services.reporting.app import create_app as create_reporting_app
from services.review.app import create_app as create_review_app
from services.review.config import ReviewSettings
from services.review.workflow import nominations
from services.review.workflow.models import Case
from shared.db import tenant_session
from shared.pii import PiiCipher
from tests.reporting.conftest import (  # noqa: F401  # fixtures, requested by name
    StartWorker,
    children,
    reporting_env,
    settings_of,
    start_worker,
)
from tests.review.accounts.conftest import sign_in_page
from tests.review.console.selection_scene import ROUND, Scene
from tests.review.workflow.factories import KEY
from tests.support.browser import DEVICES, no_overflow
from tests.support.processes import wait_for
from tests.support.stack import Server

pytestmark = pytest.mark.xdist_group("reporting-worker")
Client = Callable[..., TestClient]


@pytest.fixture
def reporting(reporting_env: dict[str, str]) -> Iterator[tuple[Server, str]]:  # noqa: F811
    queue = f"reporting-test-{secrets.token_hex(4)}"
    server = Server(create_reporting_app(settings_of(reporting_env, task_queue=queue)), free_port()).start()
    yield server, queue
    server.stop()


def _nominate_two(scene: Scene) -> list[str]:
    codes = [s.tracking_code for s in scene.subs[:2]]
    for code in codes:
        scene.appraise(code)
        scene.confirm(code, KEY)
        with tenant_session(scene.factory, scene.district.tenant_id) as s:
            nominations.nominate(s, scene.as_officer(scene.chair), code, ROUND)
    # The second is a trade secret: its content must not leave review.
    with tenant_session(scene.factory, scene.district.tenant_id) as s:
        case = s.get(Case, (scene.district.tenant_id, scene.subs[1].id))
        assert case is not None
        case.trade_secret = True
    return codes


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_a_chair_downloads_the_round_dossier(
    client_factory: Client,
    scene: Scene,
    reporting: tuple[Server, str],
    reporting_env: dict[str, str],  # noqa: F811
    start_worker: StartWorker,  # noqa: F811
    cipher: PiiCipher,
) -> None:
    server, queue = reporting
    start_worker(queue)
    _nominate_two(scene)
    c, csrf = signed_in_with(client_factory, scene, server.url, reporting_env)
    board = c.get("/console/de-cu", params={"chuong_trinh": "75k-demo", "dot": ROUND}).text
    assert "Tải hồ sơ (PDF/DOCX)" in board
    r = c.post("/console/ho-so", data={"csrf_token": csrf, "chuong_trinh": "75k-demo", "dot": ROUND})
    assert r.status_code == 303, r.text
    page_url = r.headers["location"]
    first = c.get(page_url).text
    assert scene.district.name in first and 'http-equiv="refresh"' in first  # still being made

    def ready() -> bool:
        return "Tải hồ sơ (PDF)" in c.get(page_url).text

    wait_for("the dossier rendered", ready, timeout=90)
    page = c.get(page_url).text
    assert "Đã tạo xong hồ sơ" in page and 'http-equiv="refresh"' not in page
    pdf_url = re.search(r'href="([^"]+)"[^>]*>Tải hồ sơ \(PDF\)', page)
    assert pdf_url is not None
    # The link is review's (it audits who downloaded), which sends the browser on to storage.
    via = c.get(pdf_url.group(1).replace("&amp;", "&"))
    assert via.status_code == 303, via.text
    pdf = httpx.get(via.headers["location"])
    assert pdf.status_code == 200
    content = " ".join(_pdf_text(pdf.content).split())
    with tenant_session(scene.factory, scene.district.tenant_id) as s:
        rows = s.execute(
            text(
                "SELECT title, description, phone_enc, id_number_enc FROM review.submissions "
                "WHERE tenant_id = :t AND id = ANY(:ids) ORDER BY id"
            ),
            {"t": scene.district.tenant_id, "ids": [x.id for x in scene.subs[:2]]},
        ).all()
        # What reporting holds: masked phone, no ID number, the trade secret's description absent.
        payload = s.execute(
            text("SELECT payload::text FROM reporting.dossier_jobs WHERE tenant_id = :t AND unit_code = :u"),
            {"t": scene.district.tenant_id, "u": scene.district.code},
        ).scalar_one()
    (title0, desc0, phone0, idn0), (title1, desc1, phone1, idn1) = rows
    assert title0 in content and title1 in content
    assert "*******" in payload and desc0 in payload and desc1 not in payload
    for enc, kind in ((phone0, "phone"), (phone1, "phone"), (idn0, "id_number"), (idn1, "id_number")):
        assert cipher.open(enc, kind=kind) not in payload


def signed_in_with(
    client_factory: Client, scene: Scene, reporting_url: str, env: dict[str, str]
) -> tuple[TestClient, str]:
    from tests.review.accounts.conftest import signed_in

    return signed_in(
        client_factory, scene.chair, reporting_url=reporting_url, service_token_secret=env["SERVICE_TOKEN_SECRET"]
    )


def test_another_tenant_and_reporting_away(
    client_factory: Client,
    scene: Scene,
    reporting_env: dict[str, str],  # noqa: F811
) -> None:
    from tests.review.accounts.conftest import signed_in

    _nominate_two(scene)
    away = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    stranger, s_csrf = signed_in(
        client_factory, scene.stranger, reporting_url=away, service_token_secret=reporting_env["SERVICE_TOKEN_SECRET"]
    )
    form = {"csrf_token": s_csrf, "chuong_trinh": "75k-demo", "dot": ROUND, "don_vi": scene.district.code}
    r = stranger.post("/console/ho-so", data=form)
    assert r.status_code == 404 and "Không tìm thấy" in r.text
    c, csrf = signed_in_with(client_factory, scene, away, reporting_env)
    r = c.post("/console/ho-so", data={"csrf_token": csrf, "chuong_trinh": "75k-demo", "dot": ROUND})
    assert r.status_code == 503 and "Dịch vụ tạo hồ sơ tạm thời không phản hồi" in r.text
    assert c.post("/console/ho-so", data={"chuong_trinh": "75k-demo", "dot": ROUND}).status_code == 403  # no CSRF
    assert c.get("/console/ho-so", params={"chuong_trinh": "75k-demo", "dot": ROUND}).status_code == 503


@pytest.mark.browser
@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_dossier_button_in_chromium(
    device: str,
    browser: Browser,
    shots: Path,
    settings_factory: Callable[..., ReviewSettings],
    scene: Scene,
    reporting: tuple[Server, str],
    reporting_env: dict[str, str],  # noqa: F811
    start_worker: StartWorker,  # noqa: F811
) -> None:
    server, queue = reporting
    start_worker(queue)
    _nominate_two(scene)
    settings = settings_factory(
        console_cookie_secure=False,
        reporting_url=server.url,
        service_token_secret=reporting_env["SERVICE_TOKEN_SECRET"],
    )
    console = Server(create_review_app(settings), free_port()).start()
    problems: list[str] = []
    ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh", accept_downloads=True, **DEVICES[device])
    ctx.set_default_timeout(15_000)
    try:
        page = sign_in_page(ctx, console.url, scene.chair)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{console.url}/console/de-cu?chuong_trinh=75k-demo&dot={ROUND}")
        page.get_by_role("button", name="Tải hồ sơ (PDF/DOCX)").click()
        expect(page.locator("h1")).to_contain_text("Hồ sơ xét chọn")
        # The page reloads itself until the worker is done.
        expect(page.get_by_role("link", name="Tải hồ sơ (PDF)").first).to_be_visible(timeout=90_000)
        expect(page.locator(".dossier").first).to_contain_text("Đã tạo xong hồ sơ")
        no_overflow(page)
        page.screenshot(path=str(shots / f"console-ho-so-{device}.png"), full_page=True)
        with page.expect_download() as got:
            page.get_by_role("link", name="Tải hồ sơ (PDF)").first.click()
        download = got.value
        assert download.suggested_filename.endswith(".pdf") and "Hồ sơ xét chọn" in download.suggested_filename
        assert Path(download.path()).read_bytes().startswith(b"%PDF")
        assert problems == []
    finally:
        ctx.close()
        console.stop()
