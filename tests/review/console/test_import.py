"""Import of initiatives collected on paper: the template, good rows in, bad rows reported by row
and column in Vietnamese, a re-upload that inserts nothing twice, personal data sealed."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.review.console.xlsx import COLUMNS, HEADER_ROW, LISTS, SHEET, template
from shared.contracts.submissions import FIELD_LABELS, GROUP_LABELS
from shared.db import make_sessionmaker, tenant_session
from shared.pii import PiiCipher
from tests.review.console.conftest import MakeOfficer, MakeUnit, officer_at, signed_in

Row = dict[str, Any]
GOOD: Row = {
    "full_name": "Nguyễn Thị Giấy",
    "birth_year": 1985,
    "id_number": "038185001234",
    "phone": "0912 000 111",
    "group": "Doanh nghiệp",
    "field": "san xuat co gia tri lam loi cao",  # typed without accents: still recognised
    "title": "Sáng kiến thu trên giấy",
    "description": "Mô tả sáng kiến được thu thập bằng phiếu giấy tại công đoàn cơ sở.",
}


def workbook(rows: list[Row]) -> bytes:
    wb = load_workbook(io.BytesIO(template()))
    ws = wb[SHEET]
    keys = [c.key for c in COLUMNS]
    for n, row in enumerate(rows, start=1):
        for key, value in row.items():
            ws.cell(row=HEADER_ROW + n, column=keys.index(key) + 1, value=value)
        ws.cell(row=HEADER_ROW + n, column=1, value=n)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(c: TestClient, csrf: str, data: bytes, unit_id: int, campaign: str = "75k-demo") -> Any:
    return c.post(
        "/console/nhap-tu-excel",
        data={"csrf_token": csrf, "don_vi": str(unit_id), "chuong_trinh": campaign},
        files={"tep": ("so-lieu.xlsx", io.BytesIO(data), "application/octet-stream")},
    )


def test_template_has_the_columns_and_allowed_values(
    client_factory: Callable[..., TestClient], make_officer: MakeOfficer, make_unit: MakeUnit
) -> None:
    unit = make_unit()
    c, _ = signed_in(client_factory, officer_at(make_officer, unit))
    r = c.get("/console/nhap-tu-excel/mau-nhap-sang-kien.xlsx")
    assert r.status_code == 200
    assert "mau-nhap-sang-kien.xlsx" in r.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb[SHEET]
    headers = [ws.cell(row=HEADER_ROW, column=i + 1).value for i in range(len(COLUMNS))]
    assert headers[:3] == ["TT", "Họ và tên (*)", "Năm sinh"]
    assert "Số CMND/CCCD (*)" in headers and "Tóm tắt nội dung (*)" in headers
    assert "Danh hiệu thi đua, khen thưởng trong 3 năm" in headers
    lists = wb[LISTS]
    assert [lists.cell(row=i + 2, column=1).value for i in range(len(GROUP_LABELS))] == list(GROUP_LABELS.values())
    assert [lists.cell(row=i + 2, column=2).value for i in range(len(FIELD_LABELS))] == list(FIELD_LABELS.values())
    assert len(ws.data_validations.dataValidation) == 2
    page = c.get("/console/nhap-tu-excel")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text


def test_good_rows_in_bad_rows_reported_reupload_idempotent(
    client_factory: Callable[..., TestClient],
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
    app_engine: Engine,
    cipher: PiiCipher,
) -> None:
    unit = make_unit()
    c, csrf = signed_in(client_factory, officer_at(make_officer, unit))
    rows = [
        GOOD,
        {**GOOD, "phone": "12345", "full_name": "Trần Văn Lỗi", "title": "Sai điện thoại"},
        {**GOOD, "full_name": "Lê Thị Hai", "title": "Dòng tốt thứ hai", "id_number": 38185009999, "phone": 912000222},
        {**GOOD, "full_name": "", "field": "Lĩnh vực lạ", "title": "Thiếu tên"},
        {**GOOD, "full_name": "Phạm Văn Năm", "birth_year": 1850, "title": "Năm sinh sai"},
    ]
    data = workbook(rows)
    r = upload(c, csrf, data, unit.id)
    assert r.status_code == 200, r.text
    html = r.text
    assert "<strong>2</strong> dòng đã nhập mới" in html
    assert "<strong>3</strong> dòng có lỗi" in html
    assert "Dòng 6, cột “Điện thoại”: không đúng định dạng số điện thoại Việt Nam" in html
    assert "Dòng 8, cột “Họ và tên”: không được để trống" in html
    assert "Dòng 8, cột “Lĩnh vực”: không có trong danh mục" in html
    assert "Dòng 9, cột “Năm sinh”: phải là một năm từ 1930" in html
    assert "12345" not in html  # what was typed in a personal field is never echoed

    factory = make_sessionmaker(app_engine)
    with tenant_session(factory, unit.tenant_id) as s:
        got = s.execute(
            text(
                "SELECT full_name, source, id_number_enc, phone_enc, field, idea_group, tracking_code "
                "FROM review.submissions WHERE tenant_id = :t AND unit_id = :u ORDER BY full_name"
            ),
            {"t": unit.tenant_id, "u": unit.id},
        ).all()
    assert [g.full_name for g in got] == ["Lê Thị Hai", "Nguyễn Thị Giấy"]
    assert {g.source for g in got} == {"paper"}
    assert got[1].field == "san_xuat" and got[1].idea_group == "doanh_nghiep"
    assert cipher.open(got[1].id_number_enc, kind="id_number") == "038185001234"
    assert cipher.open(got[1].phone_enc, kind="phone") == "0912000111"
    # A CCCD and phone typed into number cells lost their leading zero: it is put back.
    assert cipher.open(got[0].id_number_enc, kind="id_number") == "038185009999"
    assert cipher.open(got[0].phone_enc, kind="phone") == "0912000222"
    assert all(g.tracking_code.startswith(f"{unit.tenant_id}-") for g in got)

    # The same file again, now with the phone fixed: only the fixed row goes in.
    rows[1] = {**rows[1], "phone": "0912000333"}
    again = upload(c, csrf, workbook(rows), unit.id).text
    assert "<strong>1</strong> dòng đã nhập mới" in again
    assert "<strong>2</strong> dòng đã có từ trước (bỏ qua): dòng 5, 7" in again
    assert upload(c, csrf, data, unit.id).text.count("dòng đã nhập mới") == 1
    with tenant_session(factory, unit.tenant_id) as s:
        n = s.scalar(text("SELECT count(*) FROM review.submissions WHERE unit_id = :u"), {"u": unit.id})
    assert n == 3
    # The imported rows show in the queue, searchable without accents.
    assert "Nguyễn Thị Giấy" in c.get("/console/sang-kien", params={"q": "nguyen thi giay"}).text


def test_unreadable_or_foreign_files_are_refused(
    client_factory: Callable[..., TestClient], make_officer: MakeOfficer, make_unit: MakeUnit
) -> None:
    unit = make_unit()
    c, csrf = signed_in(client_factory, officer_at(make_officer, unit))
    r = upload(c, csrf, b"not a spreadsheet", unit.id)
    assert r.status_code == 422 and "Không đọc được tệp" in r.text
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Họ và tên", "Điện thoại", "Tên sáng kiến"])
    buf = io.BytesIO()
    wb.save(buf)
    r = upload(c, csrf, buf.getvalue(), unit.id)
    assert r.status_code == 422 and "Thiếu cột bắt buộc" in r.text and "Số CMND/CCCD" in r.text
    # Without the CSRF token: refused before anything is read.
    r = c.post(
        "/console/nhap-tu-excel",
        data={"don_vi": str(unit.id), "chuong_trinh": "75k-demo"},
        files={"tep": ("x.xlsx", io.BytesIO(template()), "application/octet-stream")},
    )
    assert r.status_code == 403
    # A campaign that does not exist is answered like one outside the reach.
    assert upload(c, csrf, template(), unit.id, campaign="khong-co").status_code == 404
