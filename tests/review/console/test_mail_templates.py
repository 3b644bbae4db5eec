"""The console's “Mẫu thư nhắc” over notify's real API (a notify server on loopback, the
templates in the worker's database): the province's administrator finds it from “Thư nhắc
hạn”, previews a draft (its HTML only inside a sandboxed iframe), has a broken one refused
naming the field, saves one and goes back to the default; a chủ tịch is refused; Cao Bằng's
administrator (another tenant) edits Cao Bằng's wording and Thanh Hóa's stays the default; an
unknown template is 404."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from devstack.embedded import free_port
from services.notify.app import create_app as create_notify_app
from services.notify.config import NotifySettings
from services.notify.messages import SUBJECTS
from tests.review.accounts.conftest import signed_in
from tests.review.console.selection_scene import Scene
from tests.support.stack import Server

Client = Callable[..., TestClient]
THANH_HOA, CAO_BANG = 38, 4
PAGE = "/console/mau-thu-nhac"
DRAFT = {
    "subject": "[Thanh Hóa] {{ days_left }}: {{ unit.unit_name }}",
    "body_text": "Kính gửi {{ unit.unit_name }}, {{ count_text }}.",
    "body_html": "<p>Kính gửi <b>{{ unit.unit_name }}</b></p><script>alert(1)</script>",
}


@pytest.fixture
def notify_server(base_env: dict[str, str], app_engine: Engine) -> Iterator[Server]:
    env = {k.lower(): v for k, v in base_env.items()}
    # Review is not served here: the preview uses the sample, and says so.
    settings = NotifySettings(**env, task_queue="notify-test-templates", review_url=f"http://127.0.0.1:{free_port()}")
    server = Server(create_notify_app(settings), free_port()).start()
    yield server
    server.stop()
    for tenant in (THANH_HOA, CAO_BANG):
        with app_engine.begin() as c:
            c.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant)})
            c.execute(text("DELETE FROM notify.templates WHERE tenant_id = :t"), {"t": tenant})


def test_preview_save_and_default(client_factory: Client, scene: Scene, notify_server: Server) -> None:
    admin, csrf = signed_in(client_factory, scene.admin, notify_url=notify_server.url)
    assert f'href="{PAGE}"' in admin.get("/console/thu-nhac").text  # linked from the outbox
    page = admin.get(PAGE)
    assert page.status_code == 200, page.text
    assert "Thư nhắc hạn (gửi đơn vị)" in page.text and "Thư báo quá hạn" in page.text
    assert page.text.count("Mẫu mặc định") == 2 and "Dùng mẫu mặc định" not in page.text

    shown = admin.post(f"{PAGE}/nhac_han/xem-truoc", data={**DRAFT, "csrf_token": csrf})
    assert shown.status_code == 200, shown.text
    assert "[Thanh Hóa] Còn 3 ngày: Liên đoàn Lao động huyện Hà Trung" in shown.text
    assert "Dữ liệu mẫu" in shown.text and "đã chọn 1/2 sáng kiến" in shown.text
    # The draft's HTML is in a sandboxed frame's srcdoc, escaped; never markup of the page.
    assert 'sandbox=""' in shown.text and "<script>alert(1)</script>" not in shown.text
    assert 'srcdoc="&lt;p&gt;Kính gửi &lt;b&gt;Liên đoàn Lao động huyện Hà Trung' in shown.text
    assert "[Thanh Hóa] {{ days_left }}" in shown.text  # the draft stays in the form

    broken = admin.post(f"{PAGE}/nhac_han/luu", data={**DRAFT, "body_text": "{{ chua_co }}", "csrf_token": csrf})
    assert broken.status_code == 422 and "nội dung văn bản — body_text" in broken.text
    assert admin.get(PAGE).text.count("Mẫu mặc định") == 2  # nothing saved

    assert admin.post(f"{PAGE}/nhac_han/luu", data=DRAFT).status_code == 403  # no CSRF token
    saved = admin.post(f"{PAGE}/nhac_han/luu", data={**DRAFT, "csrf_token": csrf})
    assert saved.status_code == 303 and saved.headers["location"] == f"{PAGE}?tb=luu#nhac_han"
    after = admin.get(f"{PAGE}?tb=luu").text
    assert "Đã lưu mẫu thư." in after and "Mẫu riêng của đơn vị" in after and "Dùng mẫu mặc định" in after

    reset = admin.post(f"{PAGE}/nhac_han/mac-dinh", data={"csrf_token": csrf})
    assert reset.status_code == 303
    back = admin.get(reset.headers["location"].split("#")[0]).text
    assert "Đã dùng lại mẫu mặc định." in back and back.count("Mẫu mặc định") == 2  # both badges again

    assert admin.post(f"{PAGE}/khac/luu", data={**DRAFT, "csrf_token": csrf}).status_code == 404
    chair, c_csrf = signed_in(client_factory, scene.chair, notify_url=notify_server.url)
    assert chair.get(PAGE).status_code == 403
    assert chair.post(f"{PAGE}/nhac_han/luu", data={**DRAFT, "csrf_token": c_csrf}).status_code == 403


def test_another_province_edits_only_its_own(client_factory: Client, scene: Scene, notify_server: Server) -> None:
    stranger, s_csrf = signed_in(client_factory, scene.stranger, notify_url=notify_server.url)
    r = stranger.post(
        f"{PAGE}/nhac_han/luu", data={**DRAFT, "subject": "[Cao Bằng] {{ days_left }}", "csrf_token": s_csrf}
    )
    assert r.status_code == 303
    assert "[Cao Bằng] {{ days_left }}" in stranger.get(PAGE).text

    admin, csrf = signed_in(client_factory, scene.admin, notify_url=notify_server.url)
    ours = admin.get(PAGE).text
    assert "[Cao Bằng]" not in ours and ours.count("Mẫu mặc định") == 2
    assert SUBJECTS["nhac_han"][:30] in ours  # the shipped subject, verbatim
    # Thanh Hóa going back to the default leaves Cao Bằng's wording in place.
    assert admin.post(f"{PAGE}/nhac_han/mac-dinh", data={"csrf_token": csrf}).status_code == 303
    assert "[Cao Bằng] {{ days_left }}" in stranger.get(PAGE).text
    assert stranger.post(f"{PAGE}/khong-co/mac-dinh", data={"csrf_token": s_csrf}).status_code == 404
    assert stranger.post(f"{PAGE}/khong-co/xem-truoc", data={**DRAFT, "csrf_token": s_csrf}).status_code == 404
