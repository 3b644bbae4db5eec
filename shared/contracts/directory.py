"""The directory review publishes for intake: campaigns and the org trees they pin.

Review owns the tree and the campaigns (PostgreSQL); intake must never wait on PostgreSQL, so
review writes a snapshot to Redis (on seeding and every minute from the ingester) and intake
keeps the last one it read in memory.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

DIRECTORY_KEY = "directory:snapshot"
DIRECTORY_VERSION_KEY = "directory:version"


class UnitEntry(BaseModel):
    code: str
    name: str
    kind: str
    parent: str | None = None


class TenantEntry(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    units: list[UnitEntry]  # every unit of the tenant in that tree, the tenant's own first


class CampaignEntry(BaseModel):
    code: str
    name: str
    tree: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    applied_from: dt.date | None = None
    applied_to: dt.date | None = None
    is_demo: bool = False


class DirectorySnapshot(BaseModel):
    published_at: dt.datetime
    campaigns: list[CampaignEntry]
    trees: dict[str, list[TenantEntry]]
