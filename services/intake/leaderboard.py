"""Intake's copy of the public leaderboard review publishes (shared/contracts/leaderboard.py),
and what ``/bang-xep-hang`` shows from it: the country's total against 75,000, and the ranking
of the provinces' and the central-sector unions' initiatives with their CĐCS taking part.

Like the directory: a background loop reloads the copy when the published version changes, a
request never waits on Redis, and the last good copy stays while Redis or review are away.
Counts only: the snapshot holds no person's data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import redis.asyncio as aioredis
from markupsafe import Markup
from redis.exceptions import RedisError

from services.intake import repository
from shared.charts import Bar, Target, bar_chart, meter, number, percent
from shared.contracts.leaderboard import CampaignBoard, LeaderboardSnapshot, TenantStanding
from shared.logging import get_logger
from shared.timeutil import format_vn

log = get_logger("intake.leaderboard")

SECTIONS = (
    ("province", "tinh", "Liên đoàn Lao động tỉnh, thành phố"),
    ("central_sector", "nganh", "Công đoàn ngành Trung ương và tương đương"),
)


class Leaderboard:
    def __init__(self) -> None:
        self.snapshot: LeaderboardSnapshot | None = None
        self.version: str | None = None
        # The page as rendered for (version, campaign): plain and gzipped (portal.py fills it).
        self.pages: dict[tuple[str, str], tuple[bytes, bytes]] = {}

    async def refresh(self, client: aioredis.Redis) -> bool:
        """Load the published snapshot when its version changed. Keeps the old one on failure."""
        try:
            version = await repository.leaderboard_version(client)
            if version is None or version == self.version:
                return False
            raw = await repository.leaderboard_snapshot(client)
        except (RedisError, OSError):
            return False
        if raw is None:
            return False
        try:
            snapshot = LeaderboardSnapshot.model_validate_json(raw)
        except ValueError as exc:  # a bad publish: keep serving the last good copy
            log.error("leaderboard snapshot unreadable, keeping the previous one", error=type(exc).__name__)
            return False
        self.snapshot, self.version, self.pages = snapshot, version, {}
        return True

    def board(self, campaign_code: str | None) -> CampaignBoard | None:
        """The served campaign's board; without a campaign (no directory yet), the newest."""
        if self.snapshot is None or not self.snapshot.campaigns:
            return None
        if campaign_code is None:
            return self.snapshot.campaigns[0]
        return next((b for b in self.snapshot.campaigns if b.code == campaign_code), None)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    count: int
    chart: Markup


@dataclass(frozen=True)
class BoardView:
    campaign: str
    total: str
    total_meter: Markup
    updated: str
    sections: list[Section]
    taking_part: str | None  # the country's CĐCS taking part, when the trees list any


def ranks(tenants: list[TenantStanding]) -> list[int]:
    """Competition ranking (1, 2, 2, 4): the same count, the same place."""
    out: list[int] = []
    for i, t in enumerate(tenants):
        out.append(out[-1] if i and t.initiatives == tenants[i - 1].initiatives else i + 1)
    return out


PREFIX = "Liên đoàn Lao động "


def short_name(name: str) -> str:
    """'Liên đoàn Lao động tỉnh Thanh Hóa' → 'Tỉnh Thanh Hóa': the section's heading already says
    whose list it is, and the name then fits one line of a phone."""
    if name.startswith(PREFIX) and len(name) > len(PREFIX):
        rest = name[len(PREFIX) :]
        return rest[0].upper() + rest[1:]
    return name


def _note(t: TenantStanding) -> str | None:
    parts = []
    if t.grassroots:
        parts.append(f"{percent(100 * t.taking_part / t.grassroots)} CĐCS tham gia")
    if t.target:
        parts.append(f"chỉ tiêu {number(t.target)}")
    return " · ".join(parts) or None


def view(board: CampaignBoard, target: int, published_at: dt.datetime) -> BoardView:
    sections = []
    for kind, key, title in SECTIONS:
        tenants = [t for t in board.tenants if t.kind == kind]  # already ranked by review
        if not tenants:
            continue
        ranked = zip(ranks(tenants), tenants, strict=True)
        bars = [Bar(f"{r}. {short_name(t.name)}", t.initiatives, note=_note(t)) for r, t in ranked]
        chart = bar_chart(f"xh-{key}", title, bars, label_header="Đơn vị")
        sections.append(Section(key, title, len(tenants), chart))
    grassroots = sum(t.grassroots for t in board.tenants)
    part = sum(t.taking_part for t in board.tenants)
    return BoardView(
        campaign=board.name,
        total=number(board.initiatives),
        total_meter=meter(
            "xh-ca-nuoc",
            "Cả nước",
            board.initiatives,
            Target(target, f"Mục tiêu cả nước: {number(target)} sáng kiến"),
            value_text=f"{number(board.initiatives)} sáng kiến",
            caption=False,
        ),
        updated=format_vn(published_at),
        sections=sections,
        taking_part=f"{number(part)}/{number(grassroots)}" if grassroots else None,
    )
