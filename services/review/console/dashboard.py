"""The charts of the “Tiến độ” page, drawn from what progress() counted (no SQL here): the
running total by day against the unit's targets, the initiatives by field and by group, the
average per CĐCS of each unit directly below against its minimum, and the share of CĐCS taking
part against 100%. Text and numbers in Vietnamese; shared/charts.py draws and escapes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from markupsafe import Markup

from services.review.console.progress import Progress
from shared.charts import Bar, Target, bar_chart, cumulative_chart, decimal, number, percent
from shared.contracts.submissions import FIELD_LABELS, GROUP_LABELS
from shared.timeutil import local


@dataclass(frozen=True)
class Charts:
    cumulative: Markup
    by_field: Markup
    by_group: Markup
    by_subunit: Markup | None  # None: no unit below this one
    participation: Markup | None  # None: no CĐCS under this unit


def _avg_label(avg: float) -> str:
    return number(avg) if float(avg).is_integer() else decimal(avg)


def cumulative_targets(p: Progress) -> list[Target]:
    """The province's own total (Thanh Hóa: 7,500 by 10/10/2021), and the average per CĐCS as a
    count: the minimum per CĐCS times the CĐCS under the unit (not when the tree has no CĐCS
    there: the lowest units standing in for them would make a target nobody set)."""
    out = []
    if p.tenant_target is not None:
        t = p.tenant_target
        out.append(Target(t.total, f"Chỉ tiêu toàn tỉnh: {number(t.total)} (đến {t.by:%d/%m/%Y})"))
    if p.grassroots and not p.leaf_fallback:
        goal = p.avg_target * p.grassroots
        out.append(Target(goal, f"Chỉ tiêu: {number(goal)} ({_avg_label(p.avg_target)} × {number(p.grassroots)} CĐCS)"))
    return out


def days(p: Progress, today: dt.date) -> tuple[dt.date, dt.date]:
    """From the campaign's first day to today, or to its last day once it closed (it closes at
    24:00, the first instant of the next day)."""
    if p.campaign is None:
        return today, today
    first = local(p.campaign.opens_at).date()
    last = (local(p.campaign.closes_at) - dt.timedelta(microseconds=1)).date()
    return first, max(first, min(today, last))


def charts(p: Progress, today: dt.date) -> Charts:
    start, end = days(p, today)
    cumulative = cumulative_chart(
        "bd-cong-don",
        "Sáng kiến cộng dồn theo ngày",
        sorted(p.by_day.items()),
        start=start,
        end=end,
        targets=cumulative_targets(p),
    )
    by_field = bar_chart(
        "bd-linh-vuc",
        "Theo lĩnh vực",
        [Bar(label, p.by_field.get(code, 0)) for code, label in FIELD_LABELS.items()],
        label_header="Lĩnh vực",
    )
    by_group = bar_chart(
        "bd-nhom",
        "Theo nhóm ý tưởng",
        [Bar(label, p.by_group.get(code, 0)) for code, label in GROUP_LABELS.items()],
        label_header="Nhóm ý tưởng",
    )
    below = [r for r in p.rows if r.unit_id != p.unit_id]
    by_subunit = None
    if below:
        by_subunit = bar_chart(
            "bd-don-vi",
            "Bình quân sáng kiến mỗi CĐCS, theo đơn vị trực thuộc",
            [
                Bar(
                    r.name,
                    r.avg or 0.0,
                    text="—" if r.avg is None else decimal(r.avg),
                    note=f"{number(r.initiatives)} sáng kiến · {number(r.grassroots)} CĐCS",
                    target=r.avg_target,
                )
                for r in below
            ],
            target=Target(p.avg_target, f"Chỉ tiêu: bình quân ≥ {_avg_label(p.avg_target)} sáng kiến mỗi CĐCS"),
            label_header="Đơn vị",
            value_header="Bình quân mỗi CĐCS",
        )
    participation = None
    if p.grassroots:
        rows = [("Toàn đơn vị", p.pct or 0.0, p.taking_part, p.grassroots)]
        rows += [(r.name, r.pct or 0.0, r.taking_part, r.grassroots) for r in below if r.grassroots]
        participation = bar_chart(
            "bd-tham-gia",
            "Tỷ lệ CĐCS tham gia",
            [
                Bar(name, pct, text=percent(pct), note=f"{part}/{total} CĐCS có sáng kiến")
                for name, pct, part, total in rows
            ],
            target=Target(p.pct_target, f"Chỉ tiêu: {percent(p.pct_target)} CĐCS tham gia"),
            scale_max=100.0,
            target_suffix="%",
            label_header="Đơn vị",
            value_header="Tỷ lệ tham gia",
        )
    return Charts(cumulative, by_field, by_group, by_subunit, participation)
