"""“Xuất Excel / CSV” (/console/xuat-du-lieu): the summary table's columns, phones masked by
default, in full only for a chủ tịch or quản trị and then audited, the ID number never,
formulas neutralised, a BOM on the CSV, and another tenant's officer gets 404 on every URL."""

from __future__ import annotations

import csv
import io
import re
import secrets
import zipfile
from collections.abc import Callable
from typing import Any

import httpx
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from services.review.accounts.models import Role
from services.review.audit.models import AuditRow
from services.review.console.export import AUDIT_ACTION, COLUMNS, neutralise
from services.review.models import Submission
from services.review.workflow import repository as wf_repo
from shared.db import make_sessionmaker, tenant_session
from tests.review.console.conftest import (
    CAO_BANG,
    THANH_HOA,
    MadeUnit,
    MakeOfficer,
    MakeSubmission,
    MakeUnit,
    officer_at,
    signed_in,
)

XLSX_PATH = "/console/xuat-du-lieu/sang-kien.xlsx"
CSV_PATH = "/console/xuat-du-lieu/sang-kien.csv"
PAGE = "/console/xuat-du-lieu"
HEADER_ROW = 4
DEMO = {"chuong_trinh": "75k-demo"}


def _xlsx_rows(body: bytes) -> list[list[Any]]:
    ws = load_workbook(io.BytesIO(body)).active
    assert ws is not None
    return [list(r) for r in ws.iter_rows(values_only=True)]


def _csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))


def _file_name(r: httpx.Response) -> str:
    m = re.search(r'filename="([^"]+)"', r.headers["content-disposition"])
    assert m
    return m.group(1)


def _tree(make_unit: MakeUnit) -> tuple[MadeUnit, MadeUnit]:
    district = make_unit(kind="district", name="LĐLĐ huyện Xuất Thử")
    return district, make_unit(parent_code=district.code, name="CĐCS Công ty Xuất Thử")


def test_columns_and_masked_phones(
    client_factory: Callable[..., TestClient],
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
    make_submission: MakeSubmission,
) -> None:
    district, cdcs = _tree(make_unit)
    id_number = f"0382{secrets.randbelow(10**8):08d}"
    make_submission(
        cdcs,
        full_name="Phạm Thị Xuất",
        id_number=id_number,
        phone="0912345678",
        birth_year=1984,
        position="Tổ trưởng",
        workplace="Phân xưởng may số 2",
        title="Cải tiến bàn cắt vải",
        applied_from="Từ tháng 02/2021",
        benefit="Tiết kiệm 120 triệu đồng mỗi năm",
        awards="Lao động tiên tiến 2019, 2020",
        sign=False,
    )
    make_submission(district, full_name="Lê Văn Huyện", phone="0987654321", sign=False)
    make_submission(cdcs, full_name="Khác chương trình", campaign="75k-2021", sign=False)
    c, _ = signed_in(client_factory, officer_at(make_officer, district, Role.chu_tich))

    r = c.get(XLSX_PATH, params=DEMO)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert r.headers["cache-control"] == "no-store"
    assert _file_name(r).startswith(f"sang-kien-{district.code}-") and _file_name(r).endswith(".xlsx")
    rows = _xlsx_rows(r.content)
    assert rows[0][0] == "BẢNG TỔNG HỢP TÓM TẮT SÁNG KIẾN"
    assert "số điện thoại đã che" in rows[1][0] and "2 sáng kiến" in rows[1][0]
    assert rows[HEADER_ROW - 1] == [c.label for c in COLUMNS]
    assert rows[HEADER_ROW - 1][:11] == [
        "TT",
        "Họ và tên",
        "Năm sinh",
        "Chức vụ",
        "Đơn vị công tác",
        "Điện thoại",
        "Tên sáng kiến",
        "Thời gian áp dụng",
        "Tóm tắt nội dung",
        "Hiệu quả, giá trị làm lợi, phạm vi ứng dụng",
        "Danh hiệu thi đua, khen thưởng trong 3 năm",
    ]
    data = rows[HEADER_ROW:]
    assert [row[0] for row in data] == [1, 2]
    first = dict(zip(rows[HEADER_ROW - 1], data[0], strict=True))
    assert first["Họ và tên"] == "Phạm Thị Xuất" and first["Năm sinh"] == 1984
    assert first["Điện thoại"] == "*******678"
    assert first["Chức vụ"] == "Tổ trưởng" and first["Đơn vị công tác"] == "Phân xưởng may số 2"
    assert first["Thời gian áp dụng"] == "Từ tháng 02/2021" and first["Đơn vị nhận"] == "CĐCS Công ty Xuất Thử"
    assert first["Lĩnh vực"] == "Sản xuất có giá trị làm lợi cao" and first["Nhóm ý tưởng"] == "Doanh nghiệp"
    assert dict(zip(rows[HEADER_ROW - 1], data[1], strict=True))["Điện thoại"] == "*******321"
    # Neither the ID number nor a phone in clear is anywhere in the file (every part of the zip).
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        inside = b"".join(z.read(n) for n in z.namelist())
    assert id_number.encode() not in inside and b"0912345678" not in inside

    r = c.get(CSV_PATH, params=DEMO)
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    table = _csv_rows(r.content)
    assert table[0] == [c.label for c in COLUMNS]
    assert [row[1] for row in table[1:]] == ["Phạm Thị Xuất", "Lê Văn Huyện"]
    assert table[1][5] == "*******678" and id_number not in r.content.decode("utf-8-sig")

    # A unit below the officer's, and the queue's filters.
    assert len(_csv_rows(c.get(CSV_PATH, params={**DEMO, "don_vi": str(cdcs.id)}).content)) == 2
    assert len(_csv_rows(c.get(CSV_PATH, params={**DEMO, "linh_vuc": "khac"}).content)) == 1
    assert len(_csv_rows(c.get(CSV_PATH, params={"q": "pham thi xuat"}).content)) == 2
    assert len(_csv_rows(c.get(CSV_PATH).content)) == 4  # every campaign

    page = c.get(PAGE, params={**DEMO, "don_vi": str(district.id)}).text
    assert "2 sáng kiến theo bộ lọc" in page and 'name="hien_so_dien_thoai"' in page
    assert "Xuất Excel" in page and "Xuất CSV" in page


def _audits(engine: Engine, tenant_id: int, file_name: str) -> list[AuditRow]:
    with tenant_session(make_sessionmaker(engine), tenant_id) as s:
        q = select(AuditRow).where(AuditRow.tenant_id == tenant_id, AuditRow.entity_id == file_name)
        return list(s.scalars(q))


def _audit_count(engine: Engine, tenant_id: int) -> int:
    with tenant_session(make_sessionmaker(engine), tenant_id) as s:
        sql = "SELECT count(*) FROM review.audit_log WHERE tenant_id = :t AND action = :a"
        return int(s.scalar(text(sql), {"t": tenant_id, "a": AUDIT_ACTION}) or 0)


def test_full_phones_for_a_chair_audited_refused_to_an_appraiser(
    app_engine: Engine,
    client_factory: Callable[..., TestClient],
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
    make_submission: MakeSubmission,
) -> None:
    district, cdcs = _tree(make_unit)
    same_person = f"0383{secrets.randbelow(10**8):08d}"
    make_submission(cdcs, id_number=same_person, phone="0912000111", sign=False)
    make_submission(cdcs, id_number=same_person, phone="0912000111", sign=False)  # one person, twice
    make_submission(cdcs, phone="0912000222", sign=False)
    form = {**DEMO, "don_vi": str(district.id), "hien_so_dien_thoai": "1"}

    appraiser, csrf = signed_in(client_factory, officer_at(make_officer, district, Role.tham_dinh))
    before = _audit_count(app_engine, THANH_HOA)
    r = appraiser.post(XLSX_PATH, data={**form, "csrf_token": csrf})
    assert r.status_code == 403 and "Chủ tịch" in r.text and "0912000111" not in r.text
    assert appraiser.post(CSV_PATH, data={**form, "csrf_token": csrf}).status_code == 403
    assert _audit_count(app_engine, THANH_HOA) == before  # nothing exported, nothing logged
    assert 'name="hien_so_dien_thoai"' not in appraiser.get(PAGE).text
    masked = appraiser.post(CSV_PATH, data={**DEMO, "csrf_token": csrf})  # masked: any role
    assert masked.status_code == 200 and "*******111" in masked.content.decode("utf-8-sig")
    assert appraiser.post(CSV_PATH, data={**form}).status_code == 403  # no CSRF token

    chair, csrf = signed_in(client_factory, officer_at(make_officer, district, Role.chu_tich))
    r = chair.post(XLSX_PATH, data={**form, "csrf_token": csrf})
    assert r.status_code == 200
    rows = _xlsx_rows(r.content)
    assert "đầy đủ (đã ghi nhật ký)" in rows[1][0]
    assert sorted(row[5] for row in rows[HEADER_ROW:]) == ["0912000111", "0912000111", "0912000222"]
    (entry,) = _audits(app_engine, THANH_HOA, _file_name(r))
    assert entry.action == AUDIT_ACTION and entry.entity == "export"
    assert entry.after["file"] == _file_name(r) and entry.after["rows"] == 3 and entry.after["people"] == 2
    assert entry.after["fields"] == ["phone"] and entry.actor_id is not None
    assert "0912000" not in str(entry.after) and same_person not in str(entry.after)

    r = chair.post(CSV_PATH, data={**form, "csrf_token": csrf})
    assert r.status_code == 200 and "0912000222" in r.content.decode("utf-8-sig")
    assert _audits(app_engine, THANH_HOA, _file_name(r))[0].after["people"] == 2


def test_formulas_become_text(
    client_factory: Callable[..., TestClient],
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
    make_submission: MakeSubmission,
) -> None:
    district, cdcs = _tree(make_unit)
    hostile = {
        "full_name": '=HYPERLINK("http://example.invalid","bấm")',
        "position": "+1+2",
        "workplace": "-2+3",
        "title": "@SUM(A1:A9)",
        "benefit": "\t=1+1",
        "description": "=cmd|' /C calc'!A0",
    }
    make_submission(cdcs, **hostile, sign=False)
    c, _ = signed_in(client_factory, officer_at(make_officer, district, Role.chu_tich))

    r = c.get(XLSX_PATH, params=DEMO)
    ws = load_workbook(io.BytesIO(r.content)).active
    assert ws is not None
    header = [cell.value for cell in ws[HEADER_ROW]]
    row = dict(zip(header, ws[HEADER_ROW + 1], strict=True))
    for column, value in (
        ("Họ và tên", hostile["full_name"]),
        ("Chức vụ", "+1+2"),
        ("Đơn vị công tác", "-2+3"),
        ("Tên sáng kiến", "@SUM(A1:A9)"),
        ("Tóm tắt nội dung", hostile["description"]),
    ):
        assert row[column].value == "'" + value and row[column].data_type == "s", column
    assert row["Hiệu quả, giá trị làm lợi, phạm vi ứng dụng"].value.startswith("'")
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert b"<f>" not in z.read("xl/worksheets/sheet1.xml")  # no formula at all in the sheet

    cells = _csv_rows(c.get(CSV_PATH, params=DEMO).content)[1]
    assert cells[1] == "'" + hostile["full_name"] and cells[3] == "'+1+2" and cells[4] == "'-2+3"
    assert cells[6] == "'@SUM(A1:A9)" and cells[8].startswith("'=cmd")
    assert neutralise("Bình thường") == "Bình thường" and neutralise("0912") == "0912"


def test_a_trade_secret_shows_name_effect_and_awards_only_above_its_unit(
    app_engine: Engine,
    client_factory: Callable[..., TestClient],
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
    make_submission: MakeSubmission,
) -> None:
    district, cdcs = _tree(make_unit)
    made = make_submission(cdcs, full_name="Người Giữ Bí Mật", benefit="Làm lợi 1 tỷ", awards="Bằng khen", sign=False)
    with tenant_session(make_sessionmaker(app_engine), THANH_HOA) as s:
        sub = s.get(Submission, (THANH_HOA, made.id))
        assert sub is not None
        wf_repo.ensure_case(s, sub, lock=True).trade_secret = True
    above, _ = signed_in(client_factory, officer_at(make_officer, district, Role.chu_tich))
    row = _csv_rows(above.get(CSV_PATH, params=DEMO).content)[1]
    assert row[1] == "(bí mật kinh doanh)" and row[5] == "(bí mật kinh doanh)" and row[8] == ""
    assert row[9] == "Làm lợi 1 tỷ" and row[10] == "Bằng khen" and "Người Giữ Bí Mật" not in row
    own, _ = signed_in(client_factory, officer_at(make_officer, cdcs, Role.chu_tich))
    assert _csv_rows(own.get(CSV_PATH, params=DEMO).content)[1][1] == "Người Giữ Bí Mật"


def test_another_tenant_gets_404_on_every_export_url(
    client_factory: Callable[..., TestClient],
    make_officer: MakeOfficer,
    make_unit: MakeUnit,
    make_submission: MakeSubmission,
) -> None:
    district, cdcs = _tree(make_unit)  # Thanh Hóa
    make_submission(cdcs, full_name="Người Thanh Hóa Xuất", sign=False)
    stranger, csrf = signed_in(client_factory, make_officer(CAO_BANG, "cao-bang", Role.quan_tri))
    ours = {**DEMO, "don_vi": str(district.id)}
    assert stranger.get(PAGE, params=ours).status_code == 404
    assert stranger.get(XLSX_PATH, params=ours).status_code == 404
    assert stranger.get(CSV_PATH, params=ours).status_code == 404
    for path in (XLSX_PATH, CSV_PATH):
        r = stranger.post(path, data={**ours, "hien_so_dien_thoai": "1", "csrf_token": csrf})
        assert r.status_code == 404 and "Người Thanh Hóa Xuất" not in r.text
    assert stranger.get(CSV_PATH, params={"don_vi": "không-phải-số"}).status_code == 404
    # Their own export holds none of ours.
    own = stranger.get(CSV_PATH, params=DEMO).content.decode("utf-8-sig")
    assert "Người Thanh Hóa Xuất" not in own
    # Signed out: the sign-in form, never a file.
    anon = client_factory()
    r = anon.get(XLSX_PATH)
    assert r.status_code == 303 and r.headers["location"] == "/console/dang-nhap"
