"""Complaints and authorship disputes from an initiative's page (file; resolve with a required
reason, chủ tịch and quản trị only; shown in the history; the initiative paused and not
nominable meanwhile), the trade-secret mark (the initiative's own unit only; audited), and the
public ``POST /api/v1/khieu-nai`` where a campaign opens complaints to anyone. CSRF on every
form; another tenant's officer gets 404 on every URL."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from services.review.workflow import repository as wf_repo
from shared.db import tenant_session
from tests.review.console.conftest import DEMO_CAMPAIGN, signed_in
from tests.review.console.selection_scene import ROUND, Scene
from tests.review.workflow.factories import KEY

Client = Callable[..., TestClient]


def _detail(code: str) -> str:
    return f"/console/sang-kien/{code}"


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _complaint_ids(scene: Scene, sub_id: int) -> list[int]:
    with tenant_session(scene.factory, scene.district.tenant_id) as s:
        return [
            int(i)
            for i in s.scalars(
                text("SELECT id FROM review.wf_complaints WHERE tenant_id = :t AND submission_id = :s ORDER BY id"),
                {"t": scene.district.tenant_id, "s": sub_id},
            )
        ]


def test_file_freeze_and_resolve_with_reason(client_factory: Client, scene: Scene) -> None:
    sub = scene.subs[0]
    code = sub.tracking_code
    scene.appraise(code)
    scene.confirm(code, KEY)
    appraiser, a_csrf = signed_in(client_factory, scene.appraiser)
    body = "Ông Lê Văn Bình cho rằng mình là đồng tác giả của sáng kiến"
    r = appraiser.post(f"{_detail(code)}/khieu-nai", data={"csrf_token": a_csrf, "loai": "tac_gia", "noi_dung": body})
    assert r.status_code == 303 and r.headers["location"].endswith("tb=khieu-nai")
    page = _text(appraiser.get(r.headers["location"]).text)
    assert "Đã ghi nhận khiếu nại, tranh chấp" in page
    assert "Tranh chấp về quyền tác giả" in page and body in page
    assert "Sáng kiến đang tạm dừng xét chọn" in page
    [cid] = _complaint_ids(scene, sub.id)
    # A cán bộ thẩm định files but does not resolve.
    r = appraiser.post(f"{_detail(code)}/khieu-nai/{cid}/giai-quyet", data={"csrf_token": a_csrf, "ly_do": "x"})
    assert r.status_code == 403 and "Chức năng này dành cho" in r.text
    bad = appraiser.post(f"{_detail(code)}/khieu-nai", data={"csrf_token": a_csrf, "loai": "khac", "noi_dung": "x"})
    assert bad.status_code == 422 and "Loại khiếu nại không hợp lệ" in bad.text
    bad = appraiser.post(f"{_detail(code)}/khieu-nai", data={"csrf_token": a_csrf, "loai": "noi_dung", "noi_dung": " "})
    assert bad.status_code == 422 and "Nội dung khiếu nại không được để trống" in bad.text
    bad = appraiser.post(
        f"{_detail(code)}/khieu-nai", data={"csrf_token": a_csrf, "loai": "noi_dung", "noi_dung": "x" * 4001}
    )
    assert bad.status_code == 422 and "Nội dung khiếu nại dài quá 4000 ký tự" in bad.text

    chair, csrf = signed_in(client_factory, scene.chair)
    page = _text(chair.get(_detail(code), params={"dot": ROUND}).text)
    assert "chưa giới thiệu lên cấp trên được cho đến khi giải quyết xong" in page
    assert "Giới thiệu lên" not in page.split("Khiếu nại, tranh chấp", 1)[1].split("Khiếu nại, tranh chấp", 1)[0]
    r = chair.post(f"{_detail(code)}/de-cu", data={"csrf_token": csrf, "dot": ROUND})  # frozen: refused
    assert r.status_code in (409, 422) and "khiếu nại" in r.text
    r = chair.post(f"{_detail(code)}/khieu-nai/{cid}/giai-quyet", data={"csrf_token": csrf, "ly_do": "  "})
    assert r.status_code == 422 and "Cần ghi rõ lý do, kết quả giải quyết" in r.text
    reason = "Đã xác minh: ông Bình không tham gia xây dựng sáng kiến"
    r = chair.post(f"{_detail(code)}/khieu-nai/{cid}/giai-quyet", data={"csrf_token": csrf, "ly_do": reason})
    assert r.status_code == 303 and r.headers["location"].endswith("tb=giai-quyet")
    page = _text(chair.get(r.headers["location"]).text)
    assert "Không có khiếu nại, tranh chấp đang mở" in page and "giải quyết lúc" in page
    history = page.split("Quá trình xét chọn", 1)[1]
    assert "Tranh chấp về quyền tác giả" in history and f"Cán bộ {scene.appraiser.username}" in history
    assert "Giải quyết khiếu nại, tranh chấp" in history and f"Cán bộ {scene.chair.username}" in history
    assert f"Lý do, kết quả: {reason}" in history
    again = chair.post(f"{_detail(code)}/khieu-nai/{cid}/giai-quyet", data={"csrf_token": csrf, "ly_do": reason})
    assert again.status_code == 409 and "đã được giải quyết" in again.text
    r = chair.post(f"{_detail(code)}/de-cu", data={"csrf_token": csrf, "dot": ROUND})
    assert r.status_code == 303  # thawed: nominable again


def test_a_complaint_id_of_another_initiative_is_not_found(client_factory: Client, scene: Scene) -> None:
    c, csrf = signed_in(client_factory, scene.chair)
    first, second = scene.subs[0], scene.subs[1]
    assert (
        c.post(
            f"{_detail(first.tracking_code)}/khieu-nai",
            data={"csrf_token": csrf, "loai": "noi_dung", "noi_dung": "Trùng ý tưởng"},
        ).status_code
        == 303
    )
    [cid] = _complaint_ids(scene, first.id)
    r = c.post(f"{_detail(second.tracking_code)}/khieu-nai/{cid}/giai-quyet", data={"csrf_token": csrf, "ly_do": "x"})
    assert r.status_code == 404 and "Không tìm thấy khiếu nại" in r.text
    r = c.post(f"{_detail(first.tracking_code)}/khieu-nai/abc/giai-quyet", data={"csrf_token": csrf, "ly_do": "x"})
    assert r.status_code == 404


def test_trade_secret_marking(client_factory: Client, scene: Scene) -> None:
    code = scene.subs[0].tracking_code
    chair, csrf = signed_in(client_factory, scene.chair)  # the initiative's own unit (the district)
    assert "Xác định là bí mật kinh doanh" in chair.get(_detail(code)).text
    r = chair.post(f"{_detail(code)}/bi-mat", data={"csrf_token": csrf, "bi_mat": "1"})
    assert r.status_code == 303 and r.headers["location"].endswith("tb=bi-mat")
    page = _text(chair.get(r.headers["location"]).text)
    assert "Sáng kiến đã được xác định là bí mật kinh doanh" in page and "Bỏ xác định bí mật kinh doanh" in page
    assert "Xác định là bí mật kinh doanh" in page.split("Quá trình xét chọn", 1)[1]  # the history, from the log
    # The province's administrator sees the masked page and may not change the mark.
    admin, a_csrf = signed_in(client_factory, scene.admin)
    masked = _text(admin.get(_detail(code)).text)
    assert "Trần Thị Thử" not in masked and "Chỉ Chủ tịch, quản trị của đơn vị có sáng kiến" in masked
    r = admin.post(f"{_detail(code)}/bi-mat", data={"csrf_token": a_csrf, "bi_mat": "0"})
    assert r.status_code == 409 and "Chỉ đơn vị của sáng kiến mới xác định được bí mật kinh doanh" in r.text
    appraiser, ap_csrf = signed_in(client_factory, scene.appraiser)
    assert appraiser.post(f"{_detail(code)}/bi-mat", data={"csrf_token": ap_csrf, "bi_mat": "0"}).status_code == 403
    r = chair.post(f"{_detail(code)}/bi-mat", data={"csrf_token": csrf, "bi_mat": "0"})
    assert (
        r.status_code == 303
        and "Bỏ xác định bí mật kinh doanh" in _text(chair.get(_detail(code)).text).split("Quá trình xét chọn", 1)[1]
    )


def test_csrf_and_other_tenants(client_factory: Client, scene: Scene) -> None:
    code, sub_id = scene.subs[0].tracking_code, scene.subs[0].id
    chair, csrf = signed_in(client_factory, scene.chair)
    assert (
        chair.post(
            f"{_detail(code)}/khieu-nai", data={"csrf_token": csrf, "loai": "noi_dung", "noi_dung": "Có"}
        ).status_code
        == 303
    )
    [cid] = _complaint_ids(scene, sub_id)
    forms = {
        "khieu-nai": {"loai": "noi_dung", "noi_dung": "Thêm"},
        f"khieu-nai/{cid}/giai-quyet": {"ly_do": "Xong"},
        "bi-mat": {"bi_mat": "1"},
    }
    for path, form in forms.items():
        assert chair.post(f"{_detail(code)}/{path}", data=form).status_code == 403, path
        assert chair.post(f"{_detail(code)}/{path}", data={**form, "csrf_token": "sai"}).status_code == 403, path
    stranger, s_csrf = signed_in(client_factory, scene.stranger)
    for path, form in forms.items():
        r = stranger.post(f"{_detail(code)}/{path}", data={**form, "csrf_token": s_csrf})
        assert r.status_code == 404 and "Không tìm thấy" in r.text, path
    assert _complaint_ids(scene, sub_id) == [cid]  # nothing else filed
    with tenant_session(scene.factory, scene.district.tenant_id) as s:
        c = wf_repo.complaint(s, scene.district.tenant_id, cid)
        assert c is not None and c.resolved_at is None


# --- the public endpoint ---------------------------------------------------------------------


@pytest.fixture
def public_complaints(scene: Scene) -> Iterator[None]:
    """The demo campaign of Thanh Hóa opened to complaints from anyone, for this test only."""
    t = scene.district.tenant_id
    sql = (
        "UPDATE review.wf_settings SET complaints_from = :v WHERE tenant_id = :t "
        "AND campaign_id = (SELECT id FROM review.campaigns WHERE code = :c)"
    )
    with tenant_session(scene.factory, t) as s:
        s.execute(text(sql), {"v": "cong_khai", "t": t, "c": DEMO_CAMPAIGN})
    yield
    with tenant_session(scene.factory, t) as s:
        s.execute(text(sql), {"v": "can_bo", "t": t, "c": DEMO_CAMPAIGN})


def test_public_complaint_where_the_campaign_allows(
    client_factory: Client, scene: Scene, public_complaints: None
) -> None:
    c = client_factory()
    sub = scene.subs[0]
    form = {
        "tracking_code": sub.tracking_code.lower(),
        "kind": "ket_qua",
        "body": "Kết quả chưa khách quan",
        "filer_name": "Phạm Thị Hoa",
    }
    r = c.post("/api/v1/khieu-nai", json=form)
    assert r.status_code == 201, r.text
    out = r.json()
    assert (
        out["tracking_code"] == sub.tracking_code
        and out["kind_label"] == "Khiếu nại về kết quả sáng kiến đã được công nhận"
    )
    assert out["resolved_at"] is None
    # The officers see it on the page, filed by the person, and the initiative paused.
    chair, _ = signed_in(client_factory, scene.chair)
    page = _text(chair.get(_detail(sub.tracking_code)).text)
    assert "Phạm Thị Hoa" in page and "Sáng kiến đang tạm dừng xét chọn" in page

    r = c.post("/api/v1/khieu-nai", json={**form, "kind": "khac"})
    assert r.status_code == 422 and r.json()["message"] == "Loại khiếu nại không hợp lệ"
    r = c.post("/api/v1/khieu-nai", json={**form, "body": "x" * 4001})
    assert (
        r.status_code == 422
        and r.json()["message"] == "Dữ liệu không hợp lệ"
        and r.json()["errors"][0]["field"] == "body"
    )
    r = c.post("/api/v1/khieu-nai", json={**form, "filer_name": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "filer_name"
    r = c.post("/api/v1/khieu-nai", json={**form, "tracking_code": "KHONG-CO-MA"})
    assert r.status_code == 404 and r.json()["message"] == "Không tìm thấy sáng kiến"


def test_public_complaint_refused_where_only_officers_may(client_factory: Client, scene: Scene) -> None:
    c = client_factory()
    form = {"tracking_code": scene.subs[0].tracking_code, "kind": "noi_dung", "body": "Trùng", "filer_name": "Ai đó"}
    r = c.post("/api/v1/khieu-nai", json=form)
    assert r.status_code == 404 and r.json()["message"] == "Không tìm thấy sáng kiến nhận khiếu nại công khai"
    assert _complaint_ids(scene, scene.subs[0].id) == []
