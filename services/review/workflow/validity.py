"""Hồ sơ hợp lệ — the conditions of the circulars, as a pure function that names each one that
fails (Vietnamese labels, shown to officers as they are).

Both circulars: “nộp đúng hạn, có đầy đủ các văn bản, tài liệu theo quy định; không có khiếu nại
về nội dung, kết quả sáng kiến đã được công nhận, không có tranh chấp về quyền tác giả tại thời
điểm xét chọn”, applied in practice between 02/2021 and 05/2021 (the campaign's dates), and
confirmed by the employer or head of unit (Hà Quảng: “phải được người sử dụng lao động, thủ
trưởng cơ quan, đơn vị đồng ý triển khai thực hiện, xác nhận”).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass, field

CONDITIONS: dict[str, str] = {
    "dung_han": "Nộp đúng hạn",
    "day_du": "Có đầy đủ thông tin, tài liệu theo quy định",
    "xac_nhan": "Được người sử dụng lao động, thủ trưởng đơn vị xác nhận đang áp dụng",
    "khong_khieu_nai": "Không có khiếu nại về nội dung, kết quả sáng kiến",
    "khong_tranh_chap": "Không có tranh chấp về quyền tác giả tại thời điểm xét chọn",
    "thoi_gian_ap_dung": "Áp dụng trong khoảng thời gian chương trình quy định",
}

# What the summary table (Bảng tổng hợp tóm tắt sáng kiến) needs of every row.
REQUIRED_FIELDS: dict[str, str] = {
    "full_name": "họ và tên",
    "birth_year": "năm sinh",
    "position": "chức vụ",
    "workplace": "đơn vị công tác",
    "title": "tên sáng kiến",
    "description": "tóm tắt nội dung",
    "benefit": "hiệu quả, giá trị làm lợi, phạm vi ứng dụng",
}


@dataclass(frozen=True)
class Failure:
    code: str
    label: str
    detail: str | None = None


@dataclass(frozen=True)
class Facts:
    at: dt.datetime  # the time of selection
    submitted_at: dt.datetime
    portal_closes_at: dt.datetime
    due_at: dt.datetime | None  # the deadline of the level the dossier goes to, if any
    values: dict[str, object]  # the submission's fields named in REQUIRED_FIELDS
    confirmed: bool
    applied_on: dt.date | None  # from the employer's confirmation, else read from the submission
    applied_window: tuple[dt.date | None, dt.date | None]
    open_complaint_kinds: Collection[str] = field(default_factory=tuple)


def failures(f: Facts) -> list[Failure]:
    out: list[Failure] = []
    if f.submitted_at > f.portal_closes_at:
        out.append(_fail("dung_han", "sáng kiến được gửi sau khi cổng tiếp nhận đã đóng"))
    elif f.due_at is not None and f.at >= f.due_at:  # the due instant itself is late (24:00 of the day)
        out.append(_fail("dung_han", f"đã quá hạn gửi hồ sơ ({_vn(f.due_at)})"))
    missing = [label for key, label in REQUIRED_FIELDS.items() if _blank(f.values.get(key))]
    if missing:
        out.append(_fail("day_du", "còn thiếu: " + ", ".join(missing)))
    if not f.confirmed:
        out.append(_fail("xac_nhan", "chưa có xác nhận"))
    kinds = set(f.open_complaint_kinds)
    if kinds & {"noi_dung", "ket_qua"}:
        out.append(_fail("khong_khieu_nai", "đang có khiếu nại chưa được giải quyết"))
    if "tac_gia" in kinds:
        out.append(_fail("khong_tranh_chap", "đang có tranh chấp chưa được giải quyết"))
    start, end = f.applied_window
    if f.applied_on is None:
        if start is not None or end is not None:
            out.append(_fail("thoi_gian_ap_dung", "chưa rõ thời gian bắt đầu áp dụng"))
    elif (start is not None and f.applied_on < start) or (end is not None and f.applied_on > end):
        window = f"{_month(start)} – {_month(end)}"
        out.append(_fail("thoi_gian_ap_dung", f"áp dụng từ {f.applied_on:%d/%m/%Y}, ngoài khoảng {window}"))
    return out


def _fail(code: str, detail: str | None) -> Failure:
    return Failure(code, CONDITIONS[code], detail)


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _vn(instant: dt.datetime) -> str:
    from shared.timeutil import format_vn

    return format_vn(instant)


def _month(d: dt.date | None) -> str:
    return "…" if d is None else f"{d:%m/%Y}"


_DATE_PATTERNS = (
    (re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*$"), "dmy"),
    (re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$"), "ymd"),
    (re.compile(r"^\s*(?:tháng\s*)?(\d{1,2})[/.\-](\d{4})\s*$", re.IGNORECASE), "my"),
    (re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$"), "ym"),
)


def parse_applied(text: str | None) -> dt.date | None:
    """The submitter's “thời gian áp dụng” as typed: 15/03/2021, 2021-03-15, 03/2021, tháng 3/2021,
    2021-03 (a month means its first day). Anything else: unknown (None)."""
    if not text:
        return None
    for pattern, form in _DATE_PATTERNS:
        m = pattern.match(text)
        if not m:
            continue
        a, b, *rest = (int(g) for g in m.groups())
        try:
            if form == "dmy":
                return dt.date(rest[0], b, a)
            if form == "ymd":
                return dt.date(a, b, rest[0])
            if form == "my":
                return dt.date(b, a, 1)
            return dt.date(a, b, 1)
        except ValueError:
            return None
    return None
