"""The selection pages through HTTP, as a browser posts them: route down or keep, appraise,
the employer's confirmation link, nominate up to the quota and past it (the database refuses,
the page says why), the administrator's override with its required reason, commendation, the
round filter of the queue, the history from the audit log, the configuration page and the Tổng
Liên đoàn's inbox. Every form needs the session's CSRF token; roles are the workflow's; another
tenant's officer gets 404 on every URL that names this tenant's things."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from services.review.accounts.models import Role
from services.review.workflow import repository as wf_repo
from shared.db import tenant_session
from shared.timeutil import now
from tests.review.console.conftest import MakeOfficer, officer_at, signed_in
from tests.review.console.selection_scene import ROUND, Scene
from tests.review.workflow.factories import KEY, TLD

Client = Callable[..., TestClient]
QUOTA_FULL = "Đơn vị đã giới thiệu đủ số lượng cho phép trong Đợt 1 – Tháng Công nhân năm 2021 (không quá 2 sáng kiến)"


def _detail(code: str) -> str:
    return f"/console/sang-kien/{code}"


def _text(html: str) -> str:
    """The page's words without tags or repeated blanks, for assertions on what a person reads."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_route_down_keep_and_the_history(client_factory: Client, scene: Scene) -> None:
    c, csrf = signed_in(client_factory, scene.chair)
    code, kept = scene.subs[0].tracking_code, scene.subs[1].tracking_code
    page = c.get(_detail(code))
    assert page.status_code == 200 and "Chuyển xuống đơn vị trực thuộc" in page.text
    assert scene.cdcs.name in page.text

    r = c.post(f"{_detail(code)}/chuyen", data={"csrf_token": csrf, "don_vi": scene.cdcs.code})
    assert r.status_code == 303 and r.headers["location"].endswith("?tb=chuyen")
    page = _text(c.get(r.headers["location"]).text)
    assert "Đã chuyển sáng kiến xuống đơn vị trực thuộc." in page
    assert f"Chuyển sáng kiến xuống đơn vị trực thuộc từ {scene.district.name} xuống {scene.cdcs.name}" in page
    assert f"Cán bộ {scene.chair.username}" in page  # who
    assert re.search(r"\d\d:\d\d \d\d/\d\d/20\d\d Chuyển sáng kiến xuống", page)  # when, local time
    # Routed: the district no longer holds it, so the form is gone; the CĐCS's officer sees it.
    assert "Chuyển xuống đơn vị trực thuộc" not in page

    r = c.post(f"{_detail(kept)}/chuyen", data={"csrf_token": csrf, "hanh_dong": "giu_lai"})
    assert r.status_code == 303
    page = _text(c.get(r.headers["location"]).text)
    assert f"Giữ lại để {scene.district.name} trực tiếp xem xét" in page

    # A child unit that is not this unit's: the workflow's 404, shown as the message page.
    r = c.post(f"{_detail(kept)}/chuyen", data={"csrf_token": csrf, "don_vi": "H381"})
    assert r.status_code == 404 and "không có đơn vị trực thuộc" in r.text
    r = c.post(f"{_detail(kept)}/chuyen", data={"csrf_token": csrf, "don_vi": ""})
    assert r.status_code == 422 and "Vui lòng chọn đơn vị trực thuộc" in r.text


def test_the_cdcs_sees_what_was_routed_to_it(client_factory: Client, make_officer: MakeOfficer, scene: Scene) -> None:
    code = scene.subs[0].tracking_code
    c, csrf = signed_in(client_factory, scene.chair)
    assert c.post(f"{_detail(code)}/chuyen", data={"csrf_token": csrf, "don_vi": scene.cdcs.code}).status_code == 303
    cdcs, _ = signed_in(client_factory, officer_at(make_officer, scene.cdcs, Role.tham_dinh))
    assert code in cdcs.get("/console/sang-kien").text
    page = cdcs.get(_detail(code))
    assert page.status_code == 200 and "Lưu điểm thẩm định" in page.text


def test_appraisal_form_mean_rank_and_errors(client_factory: Client, scene: Scene) -> None:
    code = scene.subs[0].tracking_code
    c, csrf = signed_in(client_factory, scene.appraiser)
    page = c.get(_detail(code))
    for name in ("Tính mới", "trọng số 25", "Hiệu quả và giá trị làm lợi", "trọng số 35"):
        assert name in page.text
    form = {"csrf_token": csrf, "dot": ROUND, "diem_tinh_moi": "8", "diem_hieu_qua": "9,5", "diem_pham_vi": "7"}
    r = c.post(f"{_detail(code)}/cham-diem", data={**form, "diem_nhan_rong": "8", "nhan_xet": "Có tính mới"})
    assert r.status_code == 303, r.text
    page = _text(c.get(r.headers["location"]).text)
    # (8×25 + 9.5×35 + 7×20 + 8×20) / 100 = 8.325 → 8,33; the only one ranked at the district.
    assert "8,33 điểm bình quân của 1 cán bộ thẩm định" in page
    assert "1/1 xếp hạng trong đơn vị" in page
    assert "Có tính mới" in page and "Chấm điểm thẩm định (Đợt 1 – Tháng Công nhân năm 2021)" in page

    # The chair appraises too (lower): the mean is over both appraisers.
    chair, chair_csrf = signed_in(client_factory, scene.chair)
    low = {"diem_tinh_moi": "6", "diem_hieu_qua": "6", "diem_pham_vi": "6", "diem_nhan_rong": "6"}
    assert (
        chair.post(f"{_detail(code)}/cham-diem", data={"csrf_token": chair_csrf, "dot": ROUND, **low}).status_code
        == 303
    )
    page = _text(chair.get(_detail(code)).text)
    assert "7,16 điểm bình quân của 2 cán bộ thẩm định" in page  # (8.325 + 6) / 2 = 7.1625

    bad = c.post(f"{_detail(code)}/cham-diem", data={**form, "diem_nhan_rong": "11"})
    assert bad.status_code == 422 and "Điểm tiêu chí “Khả năng nhân rộng” phải từ 0 đến 10" in bad.text
    bad = c.post(f"{_detail(code)}/cham-diem", data={**form, "diem_nhan_rong": "tám"})
    assert bad.status_code == 422 and "phải là một số" in bad.text
    assert "7,16 điểm bình quân" in _text(bad.text)  # nothing of the refused form was kept

    # The province's administrator sees the appraisal read-only and may not score.
    admin, admin_csrf = signed_in(client_factory, scene.admin)
    page = admin.get(_detail(code)).text
    assert "Lưu điểm thẩm định" not in page and "Sáng kiến đang do" in page
    r = admin.post(f"{_detail(code)}/cham-diem", data={**form, "csrf_token": admin_csrf, "diem_nhan_rong": "8"})
    assert r.status_code == 403


def test_round_filter_of_the_queue(client_factory: Client, scene: Scene) -> None:
    scored, untouched = scene.subs[0].tracking_code, scene.subs[1].tracking_code
    scene.appraise(scored)
    c, _ = signed_in(client_factory, scene.chair)
    everything = c.get("/console/sang-kien").text
    assert scored in everything and untouched in everything and 'name="dot"' in everything
    in_round = c.get("/console/sang-kien", params={"dot": str(scene.round_id())}).text
    assert scored in in_round and untouched not in in_round
    assert c.get("/console/sang-kien", params={"dot": "x"}).status_code == 404


def test_nominate_up_to_the_quota_then_refused_then_override(client_factory: Client, scene: Scene) -> None:
    codes = [s.tracking_code for s in scene.subs]
    c, csrf = signed_in(client_factory, scene.chair)
    # Not ready: every failing condition is named on the page.
    r = c.post(f"{_detail(codes[0])}/de-cu", data={"csrf_token": csrf, "dot": ROUND})
    assert r.status_code == 422
    page = _text(r.text)
    assert "Được người sử dụng lao động, thủ trưởng đơn vị xác nhận đang áp dụng" in page
    assert "Đã được thẩm định" in page

    for code in codes:
        scene.appraise(code)
        scene.confirm(code, KEY)
    board = _text(c.get("/console/de-cu", params={"chuong_trinh": "75k-demo", "dot": ROUND}).text)
    assert "đã chọn 0/2" in board and "giới thiệu lên Liên đoàn Lao động tỉnh Thanh Hóa" in board
    assert "Hạng 1" in board and "Đã có xác nhận áp dụng" in board

    base = {"csrf_token": csrf, "dot": ROUND, "chuong_trinh": "75k-demo", "tu": "de-cu"}
    for i, code in enumerate(codes[:2], start=1):
        r = c.post(f"{_detail(code)}/de-cu", data=base)
        assert r.status_code == 303, r.text
        board = _text(c.get(r.headers["location"]).text)
        assert f"đã chọn {i}/2" in board and f"Đã giới thiệu sáng kiến lên cấp trên. (mã {code})" in board
    r = c.post(f"{_detail(codes[2])}/de-cu", data=base)
    assert r.status_code == 409
    assert QUOTA_FULL in r.text and "đã chọn 2/2" in _text(r.text)  # the page, not a crash
    r = c.post(f"{_detail(codes[2])}/de-cu", data={"csrf_token": csrf, "dot": ROUND})  # from the detail page
    assert r.status_code == 409 and QUOTA_FULL in r.text and "Thẩm định tại" in r.text

    # Only the administrator overrides, and only with a reason.
    r = c.post("/console/de-cu/vuot-so-luong", data={**base, "don_vi": scene.district.code, "ly_do": "x"})
    assert r.status_code == 403
    admin, admin_csrf = signed_in(client_factory, scene.admin)
    page = admin.get(_detail(codes[2])).text
    assert "Cho phép vượt số lượng (quản trị)" in page
    over = {"csrf_token": admin_csrf, "chuong_trinh": "75k-demo", "dot": ROUND, "don_vi": scene.district.code}
    r = admin.post("/console/de-cu/vuot-so-luong", data={**over, "so_luong": "1", "ly_do": "  "})
    assert r.status_code == 422 and "Cần ghi rõ lý do cho phép vượt số lượng" in r.text
    r = admin.post("/console/de-cu/vuot-so-luong", data={**over, "so_luong": "1", "ly_do": "Sáng kiến tiêu biểu"})
    assert r.status_code == 303
    r = c.post(f"{_detail(codes[2])}/de-cu", data=base)
    assert r.status_code == 303
    board = _text(c.get(r.headers["location"]).text)
    assert "đã chọn 3/3" in board and "vượt số lượng, được phép" in board
    history = _text(c.get(_detail(codes[2])).text)
    assert "Vượt số lượng, đã được quản trị cho phép" in history
    assert f"Giới thiệu lên cấp trên (Đợt 1 – Tháng Công nhân năm 2021) từ {scene.district.name} lên" in history


def test_confirmation_link_and_commendation(client_factory: Client, scene: Scene) -> None:
    code = scene.subs[0].tracking_code
    c, csrf = signed_in(client_factory, scene.chair)
    r = c.post(f"{_detail(code)}/xac-nhan", data={"csrf_token": csrf, "dot": ROUND})
    assert r.status_code == 200
    url = re.search(r'id="link-url" value="([^"]+)"', r.text)
    assert url and "/xac-nhan/38." in url.group(1)
    assert "Đã tạo đường dẫn, chờ xác nhận" in r.text
    path = "/xac-nhan/" + url.group(1).rsplit("/xac-nhan/", 1)[1]
    assert c.get(path).status_code == 200
    form = {"name": "Lê Thị Giám", "title": "Giám đốc", "applied_on": now().date().isoformat()}
    assert c.post(path, data=form).status_code == 200
    page = _text(c.get(_detail(code)).text)
    assert "Đã xác nhận: Lê Thị Giám, Giám đốc" in page
    assert "Xác nhận sáng kiến đang được áp dụng" in page and "Lê Thị Giám, Giám đốc" in page  # history

    r = c.post(f"{_detail(code)}/bieu-duong", data={"csrf_token": csrf, "dot": ROUND, "danh_hieu": ""})
    assert r.status_code == 303
    page = _text(c.get(r.headers["location"]).text)
    assert f"Biểu dương Được {scene.district.name} biểu dương" in page
    assert f"{scene.district.name} đã biểu dương sáng kiến trong đợt này" in page
    again = c.post(f"{_detail(code)}/bieu-duong", data={"csrf_token": csrf, "dot": ROUND})
    assert again.status_code == 409 and "Đơn vị đã biểu dương sáng kiến này trong đợt" in again.text


@pytest.mark.parametrize("suffix", ["/chuyen", "/de-cu", "/xac-nhan", "/bieu-duong"])
def test_only_chairs_and_administrators_decide(client_factory: Client, scene: Scene, suffix: str) -> None:
    c, csrf = signed_in(client_factory, scene.appraiser)  # cán bộ thẩm định: scores, decides nothing
    form = {"csrf_token": csrf, "dot": ROUND, "don_vi": scene.cdcs.code}
    r = c.post(_detail(scene.subs[0].tracking_code) + suffix, data=form)
    assert r.status_code == 403 and "Chức năng này dành cho" in r.text


def test_every_form_needs_the_csrf_token(client_factory: Client, scene: Scene) -> None:
    c, _ = signed_in(client_factory, scene.chair)
    code = scene.subs[0].tracking_code
    for path in ("chuyen", "cham-diem", "xac-nhan", "de-cu", "bieu-duong"):
        r = c.post(f"{_detail(code)}/{path}", data={"dot": ROUND, "don_vi": scene.cdcs.code, "diem_tinh_moi": "5"})
        assert r.status_code == 403, path
        r = c.post(f"{_detail(code)}/{path}", data={"csrf_token": "sai", "dot": ROUND})
        assert r.status_code == 403, path
    assert c.post("/console/de-cu/vuot-so-luong", data={"ly_do": "x"}).status_code == 403
    # Nothing happened.
    with tenant_session(scene.factory, scene.district.tenant_id) as s:
        assert wf_repo.nominations_of(s, scene.district.tenant_id, scene.subs[0].id) == []


def test_another_tenants_officer_gets_404_on_every_new_url(
    client_factory: Client, make_officer: MakeOfficer, scene: Scene
) -> None:
    code = scene.subs[0].tracking_code
    scene.appraise(code)
    round_id = scene.round_id()
    c, csrf = signed_in(client_factory, scene.stranger)  # Cao Bằng's administrator, at its root
    assert c.get(_detail(code)).status_code == 404
    assert c.get(_detail(code), params={"dot": ROUND}).status_code == 404
    assert c.get("/console/sang-kien", params={"dot": str(round_id)}).status_code == 404
    form = {"csrf_token": csrf, "dot": ROUND, "don_vi": scene.cdcs.code, "diem_tinh_moi": "5"}
    for path in ("chuyen", "cham-diem", "xac-nhan", "de-cu", "bieu-duong"):
        r = c.post(f"{_detail(code)}/{path}", data=form)
        assert r.status_code == 404, (path, r.status_code, r.text[:300])
        assert "Không tìm thấy" in r.text
    over = {**form, "chuong_trinh": "75k-demo", "don_vi": scene.district.code, "ly_do": "x", "so_luong": "1"}
    assert c.post("/console/de-cu/vuot-so-luong", data=over).status_code == 404
    board = c.get("/console/de-cu").text  # their own tenant's board: none of ours
    assert code not in board and scene.district.name not in board
    # The Tổng Liên đoàn's officer: a province's initiative is not theirs either.
    tld, tld_csrf = signed_in(client_factory, make_officer(TLD, "tld", Role.chu_tich))
    assert tld.get(_detail(code)).status_code == 404
    assert tld.post(f"{_detail(code)}/de-cu", data={"csrf_token": tld_csrf, "dot": ROUND}).status_code == 404


def test_configuration_page_for_administrators(client_factory: Client, scene: Scene) -> None:
    admin, _ = signed_in(client_factory, scene.admin)
    page = _text(admin.get("/console/cau-hinh", params={"chuong_trinh": "75k-2021"}).text)
    for words in (
        "Công đoàn cơ sở",
        "Công đoàn cấp trên trực tiếp cơ sở",
        "Đợt 1 – Tháng Công nhân năm 2021",
        "Hồ sơ gửi lên Liên đoàn Lao động tỉnh Thanh Hóa chậm nhất 24:00 ngày 16/04/2021",
        "Công đoàn cấp trên trực tiếp cơ sở: giới thiệu không quá 2 sáng kiến lên cấp trên",
        "không quá 4",
        "Cấp cao nhất được giới thiệu lên Liên đoàn Lao động tỉnh Thanh Hóa",  # round 2 stops there
        "Tính mới 25 25%",
    ):
        assert words in page, words
    assert "Cấu hình" in admin.get("/console/").text  # in the administrator's sections
    assert admin.get("/console/cau-hinh", params={"chuong_trinh": "khong-co"}).status_code == 404
    chair, _ = signed_in(client_factory, scene.chair)
    assert chair.get("/console/cau-hinh").status_code == 403
    assert 'href="/console/cau-hinh"' not in chair.get("/console/").text
    # Cao Bằng's administrator reads Cao Bằng's: Hà Quảng's “at least one”, by 12/4/2021.
    stranger, _ = signed_in(client_factory, scene.stranger)
    page = _text(stranger.get("/console/cau-hinh", params={"chuong_trinh": "75k-2021"}).text)
    assert "giới thiệu ít nhất 1 sáng kiến lên cấp trên (các đơn vị thuộc Liên đoàn Lao động huyện Hà Quảng)" in page
    assert "Thanh Hóa" not in page


def test_the_national_inbox(client_factory: Client, make_officer: MakeOfficer, scene: Scene) -> None:
    from services.review.workflow.repository import add_national

    with tenant_session(scene.factory, TLD) as s:
        for secret in (False, True):
            add_national(
                s,
                {
                    "tenant_id": TLD,
                    "source_tenant_id": scene.district.tenant_id,
                    "source_submission_id": scene.subs[int(secret)].id,
                    "round_code": ROUND,
                    "tracking_code": scene.subs[int(secret)].tracking_code,
                    "title": f"Sáng kiến gửi Tổng Liên đoàn {'bí mật' if secret else 'công khai'}",
                    "field": None if secret else "san_xuat",
                    "summary": None if secret else "Tóm tắt công khai",
                    "benefit": "Làm lợi 1 tỷ đồng",
                    "awards": ["Được Liên đoàn Lao động tỉnh Thanh Hóa biểu dương"],
                    "author": None if secret else "Trần Thị Thử",
                    "source_unit_name": "Liên đoàn Lao động tỉnh Thanh Hóa",
                    "trade_secret": secret,
                    "nominated_at": now(),
                    "status": "cho_xet",
                },
            )
    tld, _ = signed_in(client_factory, make_officer(TLD, "tld", Role.chu_tich))
    home = tld.get("/console/").text
    assert 'href="/console/toan-quoc"' in home and 'href="/console/de-cu"' not in home
    page = _text(tld.get("/console/toan-quoc").text)
    assert "Sáng kiến gửi Tổng Liên đoàn công khai" in page and "Tác giả: Trần Thị Thử" in page
    secret = page.split("Sáng kiến gửi Tổng Liên đoàn bí mật", 1)[1].split("Mã theo dõi", 1)[0]
    assert "Bí mật kinh doanh" in secret and "Hiệu quả: Làm lợi 1 tỷ đồng" in secret
    assert "Khen thưởng: Được Liên đoàn Lao động tỉnh Thanh Hóa biểu dương" in secret
    assert "Tác giả" not in secret and "Tóm tắt" not in secret
    assert "Tỉnh Thanh Hóa" in page or "Thanh Hóa" in page
    # A province's officer has no such page.
    chair, _ = signed_in(client_factory, scene.chair)
    assert chair.get("/console/toan-quoc").status_code == 404
