"""An initiative's history for the detail page, read from the audit log (services/review/audit):
each entry who did it, when (Asia/Ho_Chi_Minh), what, and from what to what, in plain
Vietnamese. The log keeps codes (unit codes, status keys, criterion codes); names are looked up
here, so the page reads as the officers speak."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from services.review.audit import service as audit
from services.review.audit.models import AuditRow
from services.review.console import selection_repository as repo
from services.review.models import Submission
from services.review.workflow import repository as wf_repo
from services.review.workflow.models import COMPLAINT_KIND_LABELS
from shared.contracts.submissions import STATUS_LABELS
from shared.timeutil import local

NATIONAL = "Tổng Liên đoàn Lao động Việt Nam"


@dataclass(frozen=True)
class HistoryEntry:
    when: str
    who: str
    what: str
    change: str | None = None  # “từ … sang …”, when the entry moved something
    note: str | None = None


def _status(key: object) -> str:
    return STATUS_LABELS.get(str(key), str(key))


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _who(row: AuditRow) -> str:
    # Officers are written "Name (login, role)"; people without an account say who they are.
    label = row.actor
    for prefix in ("người xác nhận: ", "người khiếu nại: "):
        if label.startswith(prefix):
            return label.removeprefix(prefix)
    return label


def _scores(scores: Mapping[str, Any], names: Mapping[str, str]) -> str:
    # In the rubric's order (``names`` is), not the log's (sorted codes).
    order = [k for k in names if k in scores] + [k for k in scores if k not in names]
    return ", ".join(f"{names.get(k, k)} {_number(scores[k])}" for k in order)


def _number(value: object) -> str:
    """8.00 → 8, 9.50 → 9,5 (the log keeps the database's two places)."""
    try:
        return f"{Decimal(str(value)).normalize():f}".replace(".", ",")
    except InvalidOperation:
        return str(value)


def _describe(
    row: AuditRow, units: Mapping[str, str], criteria: Mapping[str, str], rounds: Mapping[str, str]
) -> HistoryEntry | None:
    before, after = _d(row.before), _d(row.after)
    when, who = f"{local(row.at):%H:%M %d/%m/%Y}", _who(row)

    def unit(code: object) -> str:
        return units.get(str(code), str(code))

    match row.action:
        case "trang_thai":
            old, new = before.get("status"), after.get("status")
            if old == new:
                return None  # the act that caused it (routing, a second nomination) has its own entry
            return HistoryEntry(
                when, who, "Chuyển trạng thái", f"từ “{_status(old)}” sang “{_status(new)}”", after.get("detail")
            )
        case "chuyen_don_vi":
            change = f"từ {unit(before.get('unit'))} xuống {unit(after.get('unit'))}"
            return HistoryEntry(when, who, "Chuyển sáng kiến xuống đơn vị trực thuộc", change)
        case "giu_lai":
            return HistoryEntry(when, who, f"Giữ lại để {unit(after.get('unit'))} trực tiếp xem xét")
        case "cham_diem":
            rnd = rounds.get(str(after.get("round")), str(after.get("round")))
            new_scores = _scores(_d(after.get("scores")), criteria)
            if before:
                return HistoryEntry(
                    when, who, f"Sửa điểm thẩm định ({rnd})", f"từ {_scores(before, criteria)} thành {new_scores}"
                )
            return HistoryEntry(when, who, f"Chấm điểm thẩm định ({rnd})", new_scores)
        case "gui_link_xac_nhan":
            return HistoryEntry(when, who, "Tạo đường dẫn để người sử dụng lao động xác nhận áp dụng")
        case "xac_nhan_ap_dung":
            day = str(after.get("applied_on", ""))
            shown = "/".join(reversed(day.split("-"))) if day else "—"
            return HistoryEntry(when, who, "Xác nhận sáng kiến đang được áp dụng", f"từ ngày {shown}")
        case "de_cu":
            rnd = rounds.get(str(after.get("round")), str(after.get("round")))
            target = NATIONAL if after.get("to_unit") is None else unit(after.get("to_unit"))
            note = "Vượt số lượng, đã được quản trị cho phép" if after.get("over_quota") else None
            return HistoryEntry(
                when, who, f"Giới thiệu lên cấp trên ({rnd})", f"từ {unit(before.get('unit'))} lên {target}", note
            )
        case "bieu_duong":
            return HistoryEntry(when, who, "Biểu dương", str(after.get("award", "")))
        case "bi_mat_kinh_doanh":
            secret = after.get("trade_secret")
            return HistoryEntry(
                when, who, "Xác định là bí mật kinh doanh" if secret else "Bỏ xác định bí mật kinh doanh"
            )
        case "khieu_nai":
            kind = str(after.get("kind", ""))
            return HistoryEntry(when, who, COMPLAINT_KIND_LABELS.get(kind, "Khiếu nại"), None, "Đã gửi")
        case "giai_quyet_khieu_nai":
            return HistoryEntry(when, who, "Giải quyết khiếu nại, tranh chấp", None, f"Lý do, kết quả: {row.reason}")
        case "xem_du_lieu_ca_nhan":
            return HistoryEntry(when, who, "Xem số CMND/CCCD và số điện thoại của tác giả")
        case _:
            return HistoryEntry(when, who, row.action.replace("_", " ").capitalize())


def history(session: Session, sub: Submission) -> list[HistoryEntry]:
    """Oldest first."""
    rows = audit.history(session, sub.tenant_id, "submission", sub.id)
    # Complaints are logged as their own entities: their filing and resolution belong here too.
    for c in repo.complaints_of(session, sub.tenant_id, sub.id):
        rows += audit.history(session, sub.tenant_id, "complaint", c.id)
    rows.sort(key=lambda r: r.seq)
    if not rows:
        return []
    codes: set[str] = set()
    for r in rows:
        for part in (_d(r.before), _d(r.after)):
            for key in ("unit", "to_unit"):
                if part.get(key):
                    codes.add(str(part[key]))
    campaign = wf_repo.campaign(session, sub.campaign_id)
    units = repo.unit_names_by_code(session, sub.tenant_id, campaign.tree_id, codes) if campaign else {}
    criteria = {c.code: c.name for c in wf_repo.criteria(session, sub.tenant_id, sub.campaign_id)}
    rounds = {r.code: r.name for r in wf_repo.rounds(session, sub.tenant_id, sub.campaign_id)}
    return [e for r in rows if (e := _describe(r, units, criteria, rounds)) is not None]
