"""The public leaderboard review publishes for intake: per campaign, each province's and
central-sector union's count of initiatives and of grassroots unions (CĐCS) taking part.

Counts only, never a name of a person. Review counts (it owns the submissions) and writes the
snapshot to Redis from the ingester's loop; intake keeps the last one in memory and serves
``/bang-xep-hang`` from it, so the public page never reads PostgreSQL (the way the directory
travels: shared/contracts/directory.py).
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

LEADERBOARD_KEY = "leaderboard:snapshot"
LEADERBOARD_VERSION_KEY = "leaderboard:version"
NATIONAL_TARGET = 75_000  # “75 nghìn sáng kiến”: the country's target


class TenantStanding(BaseModel):
    id: int
    code: str
    name: str
    kind: str  # province, central_sector, national
    initiatives: int
    grassroots: int  # CĐCS in the tree the campaign pins (0: the tree lists none)
    taking_part: int  # of them, with at least one initiative at them or below them
    target: int | None = None  # the union's own total, where it set one (Thanh Hóa: 7,500)


class CampaignBoard(BaseModel):
    code: str
    name: str
    initiatives: int  # the country's total
    tenants: list[TenantStanding]  # most initiatives first, then by name


class LeaderboardSnapshot(BaseModel):
    published_at: dt.datetime
    target: int = NATIONAL_TARGET
    campaigns: list[CampaignBoard]
