"""The Tổng Liên đoàn's decisions on /console/toan-quoc: chọn, biểu dương (a note optional) or
không chọn (a reason required, in Vietnamese); once decided, the buttons go and a second
decision is refused; only its chủ tịch and quản trị decide; CSRF; a province's officer gets
404. The rows are put in the national inbox directly and removed afterwards."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from services.review.accounts.models import Role
from services.review.workflow.repository import add_national
from shared.db import tenant_session
from shared.timeutil import now
from tests.review.console.conftest import MakeOfficer, signed_in
from tests.review.console.selection_scene import ROUND, Scene
from tests.review.workflow.factories import TLD

Client = Callable[..., TestClient]
PAGE = "/console/toan-quoc"


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def inbox(scene: Scene) -> Iterator[list[str]]:
    """Two of the scene's initiatives sent to the Tổng Liên đoàn; their decide URLs."""
    t = scene.district.tenant_id
    with tenant_session(scene.factory, TLD) as s:
        for i, sub in enumerate(scene.subs[:2]):
            add_national(
                s,
                {
                    "tenant_id": TLD,
                    "source_tenant_id": t,
                    "source_submission_id": sub.id,
                    "round_code": ROUND,
                    "tracking_code": sub.tracking_code,
                    "title": f"Sáng kiến chờ Tổng Liên đoàn quyết định {i}",
                    "field": "san_xuat",
                    "summary": "Tóm tắt",
                    "benefit": "Làm lợi 500 triệu đồng",
                    "awards": [],
                    "author": "Trần Thị Thử",
                    "source_unit_name": "Liên đoàn Lao động tỉnh Thanh Hóa",
                    "trade_secret": False,
                    "nominated_at": now(),
                    "status": "cho_xet",
                },
            )
    yield [f"{PAGE}/{t}/{sub.id}/quyet-dinh" for sub in scene.subs[:2]]
    with tenant_session(scene.factory, TLD) as s:
        s.execute(
            text(
                "DELETE FROM review.national_nominations WHERE tenant_id = :tld "
                "AND source_tenant_id = :t AND source_submission_id = ANY(:ids)"
            ),
            {"tld": TLD, "t": t, "ids": [sub.id for sub in scene.subs[:2]]},
        )


def test_decide_commend_and_not_chosen(
    client_factory: Client, make_officer: MakeOfficer, scene: Scene, inbox: list[str]
) -> None:
    chair, csrf = signed_in(client_factory, make_officer(TLD, "tld", Role.chu_tich))
    page = chair.get(PAGE).text
    assert inbox[0].replace("/quyet-dinh", "") in page and "Chọn, biểu dương" in page and "Không chọn" in page

    r = chair.post(inbox[0], data={"csrf_token": csrf, "quyet_dinh": "bieu_duong", "ghi_chu": "Tiêu biểu"})
    assert r.status_code == 303 and r.headers["location"].endswith("tb=bieu_duong")
    shown = _text(chair.get(r.headers["location"]).text)
    assert "Đã quyết định biểu dương sáng kiến." in shown
    first = shown.split("Sáng kiến chờ Tổng Liên đoàn quyết định 0", 1)[1].split("Mã theo dõi", 1)[0]
    assert "Đã biểu dương" in first
    assert inbox[0] not in chair.get(PAGE).text  # decided: no buttons any more
    again = chair.post(inbox[0], data={"csrf_token": csrf, "quyet_dinh": "khong_chon", "ghi_chu": "x"})
    assert again.status_code == 409 and "Tổng Liên đoàn đã có quyết định về sáng kiến này" in again.text

    r = chair.post(inbox[1], data={"csrf_token": csrf, "quyet_dinh": "khong_chon", "ghi_chu": "  "})
    assert r.status_code == 422 and "Cần ghi rõ lý do không chọn" in r.text
    r = chair.post(inbox[1], data={"csrf_token": csrf, "quyet_dinh": "chon_bua"})
    assert r.status_code == 422 and "Quyết định phải là" in r.text
    reason = "Trùng với sáng kiến đã được biểu dương năm trước"
    r = chair.post(inbox[1], data={"csrf_token": csrf, "quyet_dinh": "khong_chon", "ghi_chu": reason})
    assert r.status_code == 303
    shown = _text(chair.get(r.headers["location"]).text)
    assert "Đã quyết định không chọn sáng kiến" in shown and f"Lý do, ghi chú của Tổng Liên đoàn: {reason}" in shown


def test_roles_csrf_and_provinces(
    client_factory: Client, make_officer: MakeOfficer, scene: Scene, inbox: list[str]
) -> None:
    appraiser, a_csrf = signed_in(client_factory, make_officer(TLD, "tld", Role.tham_dinh))
    assert "Chọn, biểu dương" not in appraiser.get(PAGE).text
    r = appraiser.post(inbox[0], data={"csrf_token": a_csrf, "quyet_dinh": "bieu_duong"})
    assert r.status_code == 403 and "Chức năng này dành cho" in r.text
    admin, _ = signed_in(client_factory, make_officer(TLD, "tld", Role.quan_tri))
    assert admin.post(inbox[0], data={"quyet_dinh": "bieu_duong"}).status_code == 403  # no CSRF token
    # A province's officers have no national inbox: 404, whatever the role.
    for made in (scene.admin, scene.chair):
        c, csrf = signed_in(client_factory, made)
        r = c.post(inbox[0], data={"csrf_token": csrf, "quyet_dinh": "bieu_duong"})
        assert r.status_code == 404 and "Không tìm thấy" in r.text
    tld, csrf = signed_in(client_factory, make_officer(TLD, "tld", Role.chu_tich))
    assert (
        tld.post(f"{PAGE}/38/abc/quyet-dinh", data={"csrf_token": csrf, "quyet_dinh": "bieu_duong"}).status_code == 404
    )
    assert (
        tld.post(
            f"{PAGE}/38/999999999999/quyet-dinh", data={"csrf_token": csrf, "quyet_dinh": "bieu_duong"}
        ).status_code
        == 404
    )
    assert "Chờ xét" in tld.get(PAGE).text  # nothing was decided
