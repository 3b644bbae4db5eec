"""The paper-collection template (XLSX) the console hands out, and reading it back.

Pure functions over bytes (openpyxl): the columns are the circular's summary table (“Bảng tổng
hợp tóm tắt sáng kiến”) plus what the portal asks (CMND/CCCD, nhóm ý tưởng, lĩnh vực). A
second sheet lists the allowed values, and the main sheet offers them as drop-downs. Cells are
read back as text by column title (folded: a retyped title without accents still matches), so a
unit that reorders or hides optional columns is not punished.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from services.review.console.text import fold
from shared.contracts.submissions import FIELD_LABELS, GROUP_LABELS

SHEET = "Sáng kiến"
LISTS = "Danh mục"
TITLE = "BẢNG TỔNG HỢP SÁNG KIẾN THU THẬP TRÊN GIẤY"
HEADER_ROW = 4
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
MAX_UNZIPPED = 50 * 1024 * 1024  # a small file that inflates to gigabytes is refused unread


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    required: bool = False
    width: int = 18


COLUMNS: tuple[Column, ...] = (
    Column("tt", "TT", width=6),
    Column("full_name", "Họ và tên", True, 24),
    Column("birth_year", "Năm sinh", width=10),
    Column("position", "Chức vụ"),
    Column("workplace", "Đơn vị công tác", width=24),
    Column("id_number", "Số CMND/CCCD", True, 16),
    Column("phone", "Điện thoại", True, 14),
    Column("email", "Thư điện tử", width=22),
    Column("group", "Nhóm ý tưởng", True, 16),
    Column("field", "Lĩnh vực", True, 30),
    Column("title", "Tên sáng kiến", True, 32),
    Column("applied_from", "Thời gian áp dụng", width=16),
    Column("description", "Tóm tắt nội dung", True, 48),
    Column("benefit", "Hiệu quả, giá trị làm lợi, phạm vi ứng dụng", width=36),
    Column("awards", "Danh hiệu thi đua, khen thưởng trong 3 năm", width=30),
)
BY_KEY = {c.key: c for c in COLUMNS}
_BY_FOLDED = {fold(c.label): c for c in COLUMNS}
TEXT_KEYS = ("id_number", "phone")  # typed as text: Excel would drop a CCCD's leading zero


UNREADABLE = "Không đọc được tệp: cần tệp Excel (.xlsx) theo mẫu tải về từ trang này"


class UnreadableFile(ValueError):
    """Not an XLSX this console made (the message is Vietnamese, for the officer)."""


def _header(c: Column) -> str:
    return f"{c.label} (*)" if c.required else c.label


def template() -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    ws["A1"] = TITLE
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = (
        "Mỗi dòng một sáng kiến, từ dòng 5. Cột có dấu (*) bắt buộc. Nhóm ý tưởng và Lĩnh vực chọn trong danh sách "
        "(xem trang “Danh mục”). Tóm tắt nội dung tối đa 1.000 ký tự."
    )
    ws["A2"].alignment = Alignment(wrap_text=False)
    head_fill = PatternFill("solid", fgColor="0B3D91")
    for i, c in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=HEADER_ROW, column=i, value=_header(c))
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = head_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = c.width
        if c.key in TEXT_KEYS:
            for row in range(HEADER_ROW + 1, HEADER_ROW + 1 + MAX_ROWS):
                ws.cell(row=row, column=i).number_format = "@"
    ws.row_dimensions[HEADER_ROW].height = 45
    ws.freeze_panes = f"A{HEADER_ROW + 1}"

    lists = wb.create_sheet(LISTS)
    lists["A1"], lists["B1"] = "Nhóm ý tưởng", "Lĩnh vực"
    for ref in ("A1", "B1"):
        lists[ref].font = Font(bold=True)
    for r, label in enumerate(GROUP_LABELS.values(), start=2):
        lists.cell(row=r, column=1, value=label)
    for r, label in enumerate(FIELD_LABELS.values(), start=2):
        lists.cell(row=r, column=2, value=label)
    lists.column_dimensions["A"].width = 18
    lists.column_dimensions["B"].width = 80
    last = HEADER_ROW + MAX_ROWS
    for key, col, n in (("group", "A", len(GROUP_LABELS)), ("field", "B", len(FIELD_LABELS))):
        dv = DataValidation(
            type="list",
            formula1=f"'{LISTS}'!${col}$2:${col}${n + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Giá trị không có trong danh mục",
            error="Vui lòng chọn một giá trị trong danh sách.",
        )
        letter = get_column_letter(COLUMNS.index(BY_KEY[key]) + 1)
        dv.add(f"{letter}{HEADER_ROW + 1}:{letter}{last}")
        ws.add_data_validation(dv)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    return str(value).strip()


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row number the officer sees in Excel
    values: dict[str, str]
    numeric: frozenset[str]  # keys whose cell was a number (an ID number may have lost its 0)


def read_rows(data: bytes) -> list[SheetRow]:
    """Every non-empty row under the header, as text by column key."""
    if len(data) > MAX_BYTES:
        raise UnreadableFile(f"Tệp lớn hơn {MAX_BYTES // (1024 * 1024)} MB")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            inflated = sum(i.file_size for i in z.infolist())
    except zipfile.BadZipFile as exc:
        raise UnreadableFile(UNREADABLE) from exc
    if inflated > MAX_UNZIPPED:
        raise UnreadableFile("Tệp quá lớn sau khi giải nén")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:  # not a workbook inside
        raise UnreadableFile(UNREADABLE) from exc
    try:
        ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        columns: dict[int, Column] = {}
        header_at = 0
        for n, row in enumerate(rows, start=1):
            titles = {i: fold(_text(v).replace("(*)", "").strip()) for i, v in enumerate(row)}
            found = {i: _BY_FOLDED[t] for i, t in titles.items() if t in _BY_FOLDED}
            if len(found) >= 3:
                columns, header_at = found, n
                break
            if n >= 20:
                break
        if not columns:
            raise UnreadableFile("Không tìm thấy dòng tiêu đề của mẫu (Họ và tên, Số CMND/CCCD, …)")
        missing = [c.label for c in COLUMNS if c.required and c not in columns.values()]
        if missing:
            raise UnreadableFile("Thiếu cột bắt buộc: " + ", ".join(f"“{m}”" for m in missing))
        out: list[SheetRow] = []
        for n, row in enumerate(rows, start=header_at + 1):
            values = {c.key: _text(row[i]) if i < len(row) else "" for i, c in columns.items()}
            if not any(v for k, v in values.items() if k != "tt"):
                continue
            if len(out) >= MAX_ROWS:
                raise UnreadableFile(f"Mỗi lần nhập tối đa {MAX_ROWS:,} dòng".replace(",", "."))
            numeric = frozenset(c.key for i, c in columns.items() if i < len(row) and isinstance(row[i], int | float))
            out.append(SheetRow(n, values, numeric))
        return out
    finally:
        wb.close()
