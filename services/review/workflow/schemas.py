"""The workflow API's bodies. Messages are Vietnamese; personal data appears only in
PersonalDataOut (the audited unmasking)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field


class CaseOut(BaseModel):
    """An initiative as an officer sees it. ``masked``: a trade secret seen from outside its own
    unit — only its name, effect and awards."""

    tracking_code: str
    status: str
    status_label: str
    title: str
    benefit: str | None
    awards: list[str]
    trade_secret: bool
    masked: bool
    holder_unit: str
    holder_unit_name: str
    field: str | None = None
    idea_group: str | None = None
    description: str | None = None
    author: str | None = None
    birth_year: int | None = None
    position: str | None = None
    workplace: str | None = None
    applied_from: str | None = None
    own_unit: str | None = None
    own_unit_name: str | None = None
    submitted_at: dt.datetime | None = None


class RouteIn(BaseModel):
    unit: str = Field(min_length=1, max_length=64, description="mã đơn vị trực thuộc nhận sáng kiến")


class TradeSecretIn(BaseModel):
    trade_secret: bool


class FailureOut(BaseModel):
    code: str
    label: str
    detail: str | None


class ValidityOut(BaseModel):
    tracking_code: str
    valid: bool
    failures: list[FailureOut]


class ScoresIn(BaseModel):
    round: str = Field(min_length=1, max_length=32)
    scores: dict[str, Decimal] = Field(description="điểm theo mã tiêu chí")
    comment: str | None = Field(None, max_length=4000)


class AppraiserSheetOut(BaseModel):
    appraiser_id: int
    scores: dict[str, Decimal]
    weighted_mean: Decimal | None
    comment: str | None


class AppraisalOut(BaseModel):
    tracking_code: str
    round: str
    unit: str
    appraisers: list[AppraiserSheetOut]
    mean: Decimal | None


class RankedOut(BaseModel):
    rank: int | None
    tracking_code: str
    title: str
    mean: Decimal | None
    appraisers: int
    tie_break: str | None


class RankingOut(BaseModel):
    round: str
    unit: str
    tie_breaks: list[str]
    items: list[RankedOut]


class RoundCloseOut(BaseModel):
    round: str
    closed_at: dt.datetime
    snapshot_hash: str
    scores: int


class ConfirmationLinkOut(BaseModel):
    tracking_code: str
    url: str
    token: str
    expires_at: dt.datetime


class ConfirmIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="Họ và tên người xác nhận")
    title: str = Field(min_length=1, max_length=200, description="Chức vụ")
    applied_on: dt.date = Field(description="Ngày bắt đầu áp dụng sáng kiến")


class ConfirmationOut(BaseModel):
    tracking_code: str
    title: str
    unit_name: str
    confirmed: bool
    confirmer_name: str | None = None
    confirmer_title: str | None = None
    applied_on: dt.date | None = None
    expires_at: dt.datetime


class ComplaintIn(BaseModel):
    kind: str = Field(description="noi_dung | ket_qua | tac_gia")
    body: str = Field(min_length=1, max_length=4000)
    filer_name: str | None = Field(None, max_length=200)


class PublicComplaintIn(ComplaintIn):
    tracking_code: str = Field(min_length=6, max_length=20)
    filer_name: str = Field(min_length=1, max_length=200)


class ResolveIn(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)


class ComplaintOut(BaseModel):
    id: int
    tracking_code: str
    kind: str
    kind_label: str
    filed_at: dt.datetime
    resolved_at: dt.datetime | None
    resolution: str | None


class NominateIn(BaseModel):
    round: str = Field(min_length=1, max_length=32)


class NominationOut(BaseModel):
    tracking_code: str
    round: str
    to_level: str
    to_unit: str | None
    to_unit_name: str
    over_quota: bool
    status: str
    status_label: str


class CommendIn(BaseModel):
    round: str = Field(min_length=1, max_length=32)
    title: str | None = Field(None, max_length=500, description="hình thức biểu dương")


class QuotaOverrideIn(BaseModel):
    extra: int = Field(1, ge=1, le=100)
    reason: str = Field(min_length=1, max_length=4000)


class QuotaRowOut(BaseModel):
    unit: str
    unit_name: str
    level: str
    used: int
    min_count: int | None
    max_count: int | None
    extra: int
    below_minimum: bool
    full: bool


class QuotaReportOut(BaseModel):
    round: str
    items: list[QuotaRowOut]
    below_minimum: list[str]


class NationalOut(BaseModel):
    source_tenant_id: int
    source_submission_id: int
    tracking_code: str
    round: str
    title: str
    field: str | None
    summary: str | None
    benefit: str | None
    awards: list[str]
    author: str | None
    source_unit_name: str | None
    trade_secret: bool
    nominated_at: dt.datetime
    status: str
    decision_note: str | None = None


class DecideIn(BaseModel):
    decision: str = Field(description="bieu_duong | khong_chon")
    note: str | None = Field(None, max_length=4000)


class PersonalDataOut(BaseModel):
    tracking_code: str
    full_name: str
    id_number: str
    phone: str


class AuditVerifyOut(BaseModel):
    ok: bool
    rows: int
    first_bad_seq: int | None
    problem: str | None


class DeadlineIn(BaseModel):
    due_at: dt.datetime = Field(description="thời hạn, có múi giờ")


class QuotaRuleIn(BaseModel):
    min_count: int | None = Field(None, ge=0, le=10_000)
    max_count: int | None = Field(None, ge=0, le=10_000)


class CriterionIn(BaseModel):
    code: str = Field(max_length=32)
    name: str = Field(min_length=1, max_length=200)
    weight: Decimal = Field(description="số dương; tổng các tiêu chí bằng 100")


class RubricIn(BaseModel):
    criteria: list[CriterionIn] = Field(min_length=1, max_length=50)
