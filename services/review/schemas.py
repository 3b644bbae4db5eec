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


class TrackingOut(BaseModel):
    tracking_code: str
    status: str
    status_label: str
    unit: str | None = None
    unit_name: str | None = None
    subunit: str | None = None
    subunit_name: str | None = None
    title: str | None = None
    submitted_at: dt.datetime | None = None


class DeadLetterOut(BaseModel):
    id: str
    source_id: str
    reason: str
    failed_at: dt.datetime | None
    tracking_code: str | None
    tenant: str | None
    subunit: str | None


class DeadLettersOut(BaseModel):
    total: int
    items: list[DeadLetterOut]


class ReplayOut(BaseModel):
    id: str
    requeued_as: str
