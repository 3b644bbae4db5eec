from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class TenantOut(BaseModel):
    code: str
    name: str
    kind: str
    valid_from: dt.date
    valid_to: dt.date | None


class UnitOut(BaseModel):
    code: str
    name: str
    kind: str
    kind_label: str


class UnitTreeOut(UnitOut):
    tenant: str
    tree: str
    children: list[UnitOut]


class CampaignOut(BaseModel):
    code: str
    name: str
    tree: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    closes_at_text: str
    is_open: bool
    is_demo: bool
