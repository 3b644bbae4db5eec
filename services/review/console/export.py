"""Exports of a unit's initiatives (“Xuất Excel”, “Xuất CSV”) with the columns of the circular's
summary table (Bảng tổng hợp tóm tắt sáng kiến), for the officer's unit or one below it, one
campaign, and the queue's filters. No FastAPI here; the page's session commits.

Personal data: the ID number is never exported. The phone is masked to its last 3 digits unless
a chủ tịch or quản trị asks for it in full (the workflow's ``unmask`` rule); then the audit log,
in the same transaction, names the file and how many people's phones it holds. Every export,
masked or not, is audited with its rows as the entry's subjects (audit_subjects): the file
shows the people's names, birth years and workplaces, so it answers "who saw this person's
data". A trade secret seen outside its own unit shows its name, effect and awards only, as on
its page (and nobody in it is counted as seen).

Hostile text: a cell that begins with = + - @ (or a tab or carriage return) is a formula to
Excel and LibreOffice, in CSV as in XLSX once the cell is edited; it gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.exceptions import InvalidTag
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from services.review.accounts import repository as accounts_repo
from services.review.accounts.principal import Officer
from services.review.accounts.service import units_in_reach
from services.review.console import repository as repo
from services.review.console import selection_repository as sel_repo
from services.review.console.service import CAMPAIGN_NOT_FOUND, ROUND_NOT_FOUND, UNIT_NOT_FOUND, QueueFilters
from services.review.workflow.access import DECIDERS, record_act, require_role
from shared.contracts.submissions import FIELD_LABELS, GROUP_LABELS, STATUS_LABELS
from shared.errors import NotFound
from shared.pii import PHONE, PiiCipher, mask
from shared.text import nfc
from shared.timeutil import local

Format = Literal["xlsx", "csv"]
MEDIA_TYPES: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
TITLE = "BẢNG TỔNG HỢP TÓM TẮT SÁNG KIẾN"
HIDDEN = "(bí mật kinh doanh)"  # a trade secret outside its own unit
UNREADABLE = "(không đọc được)"
DELETED = "(đã xoá)"  # personal data deleted at the end of its retention (services/review/retention)
AUDIT_ACTION = "xuat_so_dien_thoai"
# Every export shows its people's names, birth years and workplaces: a masked one is audited
# too, with the rows as its subjects (who saw whose data), under an id of its own, since two
# files of the same unit in the same minute share a name.
MASKED_ACTION = "xuat_du_lieu"


@dataclass(frozen=True)
class Column:
    label: str
    width: int


# The circular's columns first, in its order; then what an officer sorts and checks by.
COLUMNS: tuple[Column, ...] = (
    Column("TT", 6),
    Column("Họ và tên", 24),
    Column("Năm sinh", 10),
    Column("Chức vụ", 18),
    Column("Đơn vị công tác", 26),
    Column("Điện thoại", 14),
    Column("Tên sáng kiến", 34),
    Column("Thời gian áp dụng", 16),
    Column("Tóm tắt nội dung", 60),
    Column("Hiệu quả, giá trị làm lợi, phạm vi ứng dụng", 40),
    Column("Danh hiệu thi đua, khen thưởng trong 3 năm", 30),
    Column("Mã theo dõi", 16),
    Column("Đơn vị nhận", 28),
    Column("Lĩnh vực", 30),
    Column("Nhóm ý tưởng", 14),
    Column("Trạng thái", 26),
    Column("Thời gian gửi", 17),
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
WRAPPED = tuple(i for i, c in enumerate(COLUMNS) if c.width >= 30)  # the long texts


def neutralise(value: str) -> str:
    """Text that a spreadsheet would run as a formula, made plain text (OWASP's advice)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


@dataclass(frozen=True)
class ExportFile:
    name: str
    media_type: str
    body: bytes
    rows: int
    people_in_full: int  # people whose phone is in the file in full (0 when masked)


@dataclass(frozen=True)
class Sheet:
    unit_name: str
    campaign_name: str
    at: dt.datetime
    full_phone: bool
    rows: list[list[Any]]


def _phone(cipher: PiiCipher, blob: bytes | None, *, full: bool) -> str:
    if blob is None:  # deleted by the retention job
        return DELETED
    try:
        clear = cipher.open(blob, kind=PHONE)
    except (ValueError, KeyError, InvalidTag):  # a retired key or a damaged value: say so, never guess
        return UNREADABLE
    return clear if full else mask(clear)


def _row(n: int, r: Any, officer: Officer, cipher: PiiCipher, full: bool) -> tuple[list[Any], bool]:
    """The row's cells, and whether its phone went out in full."""
    status = STATUS_LABELS.get(r.status, r.status)
    sent = f"{local(r.submitted_at):%H:%M %d/%m/%Y}"
    if r.trade_secret and officer.unit_id != r.own_unit_id:
        cells = [n, HIDDEN, None, "", "", HIDDEN, r.title, "", "", r.benefit or "", r.awards or ""]
        return [*cells, r.tracking_code, r.unit_name, "—", "—", status, sent], False
    phone = _phone(cipher, r.phone_enc, full=full)
    cells = [
        n,
        r.full_name or DELETED,
        r.birth_year,
        r.position or "",
        r.workplace or "",
        phone,
        r.title,
        r.applied_from or "",
        r.description,
        r.benefit or "",
        r.awards or "",
        r.tracking_code,
        r.unit_name,
        FIELD_LABELS.get(r.field, r.field),
        GROUP_LABELS.get(r.idea_group, r.idea_group),
        status,
        sent,
    ]
    return cells, full and phone not in (UNREADABLE, DELETED)


def _scope(session: Session, officer: Officer, filters: QueueFilters) -> tuple[frozenset[int], int]:
    """The units exported (the chosen one's subtree, or the whole reach) and the unit named in
    the title. Outside the reach, or another tenant's: the same 404 as a unit that does not exist."""
    reach = units_in_reach(session, officer)
    if filters.unit_id is None:
        return reach, officer.unit_id
    if filters.unit_id not in reach:
        raise NotFound(UNIT_NOT_FOUND, field="unit_id")
    return frozenset(accounts_repo.subtree_unit_ids(session, officer.tenant_id, filters.unit_id)), filters.unit_id


def query(session: Session, officer: Officer, filters: QueueFilters) -> tuple[repo.QueueQuery, int, str]:
    """The queue's query for these filters, the unit named and the campaign's name ("" for all)."""
    scope, unit_id = _scope(session, officer, filters)
    campaign = repo.campaign_by_code(session, filters.campaign) if filters.campaign else None
    if filters.campaign and campaign is None:
        raise NotFound(CAMPAIGN_NOT_FOUND, field="campaign")
    if filters.round_id is not None and sel_repo.round_by_id(session, officer.tenant_id, filters.round_id) is None:
        raise NotFound(ROUND_NOT_FOUND, field="round")
    q = repo.QueueQuery(
        unit_ids=scope,
        search=" ".join(filters.search.split())[:100] or None,
        field=filters.field or None,
        group=filters.group or None,
        status=filters.status or None,
        campaign_id=campaign.id if campaign else None,
        source=filters.source or None,
        round_id=filters.round_id,
    )
    return q, unit_id, campaign.name if campaign else ""


def count(session: Session, officer: Officer, filters: QueueFilters) -> int:
    q, _, _ = query(session, officer, filters)
    return repo.queue_count(session, officer.tenant_id, q)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-")[:40] or "don-vi"


def export(
    session: Session,
    officer: Officer,
    cipher: PiiCipher,
    filters: QueueFilters,
    *,
    fmt: Format,
    full_phone: bool,
    at: dt.datetime,
) -> ExportFile:
    if full_phone:
        require_role(officer, DECIDERS)  # 403 for a cán bộ thẩm định, before anything is read
    q, unit_id, campaign_name = query(session, officer, filters)
    unit = accounts_repo.unit_by_id(session, officer.tenant_id, unit_id)
    unit_code, unit_name = (unit.code, unit.name) if unit else ("", "")
    rows: list[list[Any]] = []
    people: set[bytes] = set()
    shown: list[int] = []
    for n, r in enumerate(repo.export_rows(session, officer.tenant_id, q), start=1):
        cells, in_full = _row(n, r, officer, cipher, full_phone)
        rows.append(cells)
        if in_full and r.id_number_hash is not None:
            people.add(bytes(r.id_number_hash))
        if cells[1] != HIDDEN:  # a trade secret seen from above shows nobody
            shown.append(r.id)
    name = f"sang-kien-{_slug(unit_code)}-{local(at):%Y%m%d-%H%M}.{fmt}"
    sheet = Sheet(unit_name, campaign_name, at, full_phone, rows)
    body = xlsx(sheet) if fmt == "xlsx" else csv_bytes(sheet)
    after = {"file": name, "unit_id": unit_id, "campaign": filters.campaign or None, "rows": len(rows)}
    if full_phone:
        after.update(people=len(people), fields=["phone"])
        record_act(session, officer, action=AUDIT_ACTION, entity="export", entity_id=name, after=after, subjects=shown)
    elif shown:
        record_act(
            session,
            officer,
            action=MASKED_ACTION,
            entity="export",
            entity_id=secrets.token_hex(8),
            after=after,
            subjects=shown,
        )
    return ExportFile(name, MEDIA_TYPES[fmt], body, len(rows), len(people))


# --- the files ------------------------------------------------------------------------------------


def _subtitle(sheet: Sheet) -> str:
    phones = "đầy đủ (đã ghi nhật ký)" if sheet.full_phone else "đã che, chỉ hiện 3 số cuối"
    campaign = sheet.campaign_name or "tất cả chương trình"
    return (
        f"Đơn vị: {sheet.unit_name} · {campaign} · {len(sheet.rows)} sáng kiến · "
        f"xuất lúc {local(sheet.at):%H:%M ngày %d/%m/%Y} · số điện thoại {phones}"
    )


def _cell_value(v: Any) -> Any:
    # The stored text as the forms keep it (shared/text.py), for rows written before that or by
    # SQL: openpyxl refuses a control character in a cell (the whole file would be a 500), and a
    # bidirectional override would turn the cells after it around. Then formulas neutralised.
    return neutralise(nfc(v)) if isinstance(v, str) else v


def xlsx(sheet: Sheet) -> bytes:
    """One sheet, the title and what was exported above the header, the header frozen. Written
    in openpyxl's streaming mode: a province's tens of thousands of rows stay small in memory."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sáng kiến")
    for i, c in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    ws.freeze_panes = "A5"
    title = WriteOnlyCell(ws, value=TITLE)
    title.font = Font(bold=True, size=14)
    ws.append([title])
    ws.append([WriteOnlyCell(ws, value=neutralise(_subtitle(sheet)))])
    ws.append([])
    head_fill, head_font = PatternFill("solid", fgColor="0B3D91"), Font(bold=True, color="FFFFFF")
    header = []
    for c in COLUMNS:
        cell = WriteOnlyCell(ws, value=c.label)
        cell.font, cell.fill = head_font, head_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        header.append(cell)
    ws.append(header)
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in sheet.rows:
        # Plain values (openpyxl stores a str as text: neutralised, none starts with "="); a
        # styled cell only where the text is long. Per-cell styles would triple the time
        # (~3 s for 20,000 rows as it is).
        values = [_cell_value(v) for v in row]
        for i in WRAPPED:
            if values[i]:
                cell = WriteOnlyCell(ws, value=values[i])
                cell.alignment = wrap
                values[i] = cell
        ws.append(values)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(sheet: Sheet) -> bytes:
    """UTF-8 with a byte-order mark: Excel then opens the Vietnamese text correctly (without it,
    it guesses the Windows code page and garbles every diacritic). One header row, as tools
    that read CSV expect."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([c.label for c in COLUMNS])
    for row in sheet.rows:
        writer.writerow(["" if v is None else _cell_value(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def header_labels() -> Sequence[str]:
    return [c.label for c in COLUMNS]
