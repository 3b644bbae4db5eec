"""“Tiến độ” of the Tổng Liên đoàn (tenant 999): the country's total against 75,000 and each
province's and central-sector union's count, from the leaderboard review itself publishes
(services/review/leaderboard.py). The confederation's own tenant holds no province's rows, and
its officers' sessions stay under its row-level security: the counts come from the published
snapshot (counts only), not from reading other tenants here."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from shared.charts import Bar, Target, bar_chart, meter, number, percent
from shared.contracts.leaderboard import CampaignBoard, LeaderboardSnapshot, TenantStanding
from shared.errors import NotFound
from shared.timeutil import format_vn

KINDS = (
    ("province", "tq-tinh", "Liên đoàn Lao động tỉnh, thành phố"),
    ("central_sector", "tq-nganh", "Công đoàn ngành Trung ương và tương đương"),
)


@dataclass(frozen=True)
class CampaignChoice:
    code: str
    name: str


@dataclass(frozen=True)
class NationalProgress:
    campaign: CampaignChoice
    campaigns: list[CampaignChoice]
    total: int
    target: int
    updated: str
    total_meter: Markup
    charts: list[Markup]


def _bar(t: TenantStanding) -> Bar:
    note = [f"{percent(100 * t.taking_part / t.grassroots)} CĐCS tham gia"] if t.grassroots else []
    if t.target:
        note.append(f"chỉ tiêu {number(t.target)}")
    return Bar(t.name, t.initiatives, note=" · ".join(note) or None, target=t.target)


def national_progress(snapshot: LeaderboardSnapshot, campaign_code: str) -> NationalProgress:
    boards = snapshot.campaigns
    board: CampaignBoard | None = next((b for b in boards if b.code == campaign_code), None) if campaign_code else None
    if campaign_code and board is None:
        raise NotFound("Không tìm thấy chương trình", field="campaign")
    board = board or boards[0]
    target = Target(snapshot.target, f"Mục tiêu cả nước: {number(snapshot.target)} sáng kiến")
    drawn = [
        bar_chart(key, title, [_bar(t) for t in board.tenants if t.kind == kind], label_header="Đơn vị")
        for kind, key, title in KINDS
    ]
    return NationalProgress(
        campaign=CampaignChoice(board.code, board.name),
        campaigns=[CampaignChoice(b.code, b.name) for b in boards],
        total=board.initiatives,
        target=snapshot.target,
        updated=format_vn(snapshot.published_at),
        total_meter=meter(
            "tq-ca-nuoc", "Cả nước", board.initiatives, target, value_text=f"{number(board.initiatives)} sáng kiến"
        ),
        charts=drawn,
    )
