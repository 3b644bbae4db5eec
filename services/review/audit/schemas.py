"""The “who saw this person's data” API's bodies (the number travels in the body of a POST,
never in a URL a proxy would log)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class WhoSawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(max_length=32, description="số CMND/CCCD hoặc số điện thoại của người cần tra cứu")


class SightingOut(BaseModel):
    at: dt.datetime = Field(description="thời điểm, giờ Việt Nam (Asia/Ho_Chi_Minh)")
    officer_id: int | None
    officer: str
    action: str
    what: str
    tracking_code: str
    detail: str | None


class WhoSawOut(BaseModel):
    number_masked: str
    taken_as: list[str]
    tracking_codes: list[str]
    sightings: list[SightingOut]
    truncated: bool
