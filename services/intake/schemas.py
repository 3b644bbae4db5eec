"""What intake's API reads and answers (the OpenAPI the portal, posters and the fuzzer use)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from shared.contracts.submissions import FIELD_LABELS, TrackingAnswer


class SubmissionIn(BaseModel):
    """The registration form of the circulars. Declared for the OpenAPI document; the service
    validates the raw JSON itself so that each wrong field gets its own Vietnamese message."""

    full_name: str = Field(description="Họ và tên", max_length=100)
    id_number: str = Field(description="Số CMND (9 chữ số) hoặc CCCD (12 chữ số); cho phép dấu cách")
    phone: str = Field(description="Số điện thoại Việt Nam; chấp nhận +84, 84, 0, dấu cách và dấu chấm")
    unit: str = Field(description="Mã đơn vị (LĐLĐ tỉnh, thành phố hoặc công đoàn ngành Trung ương)")
    subunit: str = Field(description="Mã đơn vị trực thuộc")
    group: Literal["doanh_nghiep", "khoi_co_quan"] = Field(description="Nhóm ý tưởng")
    field: Literal[tuple(FIELD_LABELS)] = Field(description="Lĩnh vực")  # type: ignore[valid-type]  # codes from the contract
    title: str = Field(description="Tên sáng kiến", max_length=300)
    description: str = Field(description="Mô tả, tối đa 1.000 ký tự (đếm sau chuẩn hoá Unicode NFC)")
    consent: Literal[True] = Field(description="Đồng ý cho phép sử dụng thông tin cá nhân để xét chọn sáng kiến")
    birth_year: int | None = None
    position: str | None = Field(None, description="Chức vụ")
    workplace: str | None = Field(None, description="Đơn vị công tác")
    email: str | None = None
    applied_from: str | None = Field(None, description="Thời gian áp dụng")
    benefit: str | None = Field(None, description="Hiệu quả, giá trị làm lợi, phạm vi ứng dụng")
    awards: str | None = Field(None, description="Danh hiệu thi đua, khen thưởng trong 3 năm gần nhất")


class AcceptedOut(BaseModel):
    tracking_code: str
    status: str
    submitted_at: dt.datetime
    track_url: str


# The shape lives in the contract: review answers intake with it.
TrackingOut = TrackingAnswer


class UnitOut(BaseModel):
    code: str
    name: str
    kind: str


class UnitDetailOut(UnitOut):
    children: list[UnitOut]


class Choice(BaseModel):
    code: str
    label: str


class CampaignOut(BaseModel):
    code: str
    name: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    opens_at_text: str
    closes_at_text: str
    state: Literal["upcoming", "open", "closed"]
    server_time: dt.datetime
    groups: list[Choice]
    fields: list[Choice]
    description_max: int


class FieldError(BaseModel):
    field: str
    message: str


class ErrorOut(BaseModel):
    code: str
    message: str
    field: str | None = None
    errors: list[FieldError] | None = None
    opens_at: str | None = None
    closes_at: str | None = None
