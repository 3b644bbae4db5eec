from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from shared.contracts.submissions import TrackingAnswer


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


# The shape lives in the contract: review answers intake with it.
TrackingOut = TrackingAnswer


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
