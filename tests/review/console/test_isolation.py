"""Another tenant's officer: every console page answers 404 for this tenant's rows and units,
and their queue shows none of them."""

from __future__ import annotations

import io
from collections.abc import Callable

from fastapi.testclient import TestClient

from services.review.console.xlsx import template
from tests.review.console.conftest import (
    CAO_BANG,
    MakeOfficer,
    MakeSubmission,
    MakeUnit,
    officer_at,
    signed_in,
)


def test_other_tenant_gets_404_everywhere(
    client_factory: Callable[..., TestClient],
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
    make_submission: MakeSubmission,
) -> None:
    unit = make_unit()  # Thanh Hóa
    s = make_submission(unit, full_name="Người Thanh Hóa")
    # The Cao Bằng officer sits at the province union: the widest reach in that tenant.
    stranger = make_officer(CAO_BANG, "cao-bang")
    c, csrf = signed_in(client_factory, stranger)
    listing = c.get("/console/sang-kien", params={"q": "nguoi thanh hoa"})
    assert listing.status_code == 200 and s.tracking_code not in listing.text
    assert c.get(f"/console/sang-kien/{s.tracking_code}").status_code == 404
    assert c.get("/console/sang-kien", params={"don_vi": str(unit.id)}).status_code == 404
    assert c.get("/console/tien-do", params={"don_vi": str(unit.id)}).status_code == 404
    r = c.post(
        "/console/nhap-tu-excel",
        data={"csrf_token": csrf, "don_vi": str(unit.id), "chuong_trinh": "75k-demo"},
        files={"tep": ("mau.xlsx", io.BytesIO(template()), "application/octet-stream")},
    )
    assert r.status_code == 404
    # The owner of the row sees it.
    owner, _ = signed_in(client_factory, officer_at(make_officer, unit))
    assert owner.get(f"/console/sang-kien/{s.tracking_code}").status_code == 200


def test_pages_need_a_signed_in_officer(client: TestClient) -> None:
    for path in ("/console/sang-kien", "/console/sang-kien/38-AAAA-BBBB", "/console/nhap-tu-excel", "/console/tien-do"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/console/dang-nhap"
    assert client.get("/console/nhap-tu-excel/mau-nhap-sang-kien.xlsx").status_code == 303
