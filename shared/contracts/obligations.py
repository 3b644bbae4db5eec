"""What each unit owes by each deadline: review answers it, notify plans reminders from it.

A deadline of review's workflow says that nominations *arriving* at a level in a round are due
by an instant (16/4/2021 at the province, 12/4/2021 at Hà Quảng's district union for its CĐCS).
The units that owe are those of the level below, within the deadline's scope; a unit has done
what the deadline asks once it has nominated at least its quota's minimum (at least one where no
minimum is set) in that round.

review's API, for a caller holding a shared.servicetoken for audience "review" (notify signs one
per tenant with role ``he_thong``):
    GET /api/v1/internal/obligations?due_from=<ISO instant>&due_to=<ISO instant>
        → ObligationsOut: every deadline of the token's tenant due in [due_from, due_to), each
          with every unit that owes by it, fulfilled or not.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

REVIEW_AUDIENCE = "review"
SYSTEM_ROLE = "he_thong"  # a service acting for the platform, not an officer


class UnitDue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    unit_code: str
    unit_name: str
    email: str | None  # the unit's contact address (org tree; editable by its administrator)
    parent_code: str | None
    parent_name: str | None
    parent_email: str | None
    used: int  # nominated so far in the round
    min_count: int | None
    max_count: int | None
    fulfilled: bool
    console_path: str  # the console page that resolves it, e.g. "/console/de-cu?chuong_trinh=…&dot=…"


class DeadlineDue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    deadline_id: int
    campaign_code: str
    campaign_name: str
    round_code: str
    round_name: str
    level_code: str  # the level nominations arrive at
    level_name: str
    due_at: dt.datetime  # aware; people read it in Asia/Ho_Chi_Minh
    units: list[UnitDue]


class ObligationsOut(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: int
    deadlines: list[DeadlineDue]
