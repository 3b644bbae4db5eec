"""What the accounts API takes and returns (pydantic; no FastAPI)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from services.review.accounts.models import Role
from services.review.accounts.passwords import MAX_LENGTH, MIN_LENGTH

# Lower-case letters, digits, dot, dash and underscore; starts and ends with a letter or digit.
USERNAME_PATTERN = r"^[a-z0-9](?:[a-z0-9._-]{1,38}[a-z0-9])$"


class OfficerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(
        min_length=3, max_length=40, pattern=USERNAME_PATTERN, description="tên đăng nhập, trong tỉnh"
    )
    full_name: str = Field(min_length=2, max_length=200)
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    role: Role
    unit_id: int
    password: str | None = Field(
        None, min_length=MIN_LENGTH, max_length=MAX_LENGTH, description="bỏ trống: hệ thống tạo mật khẩu tạm"
    )


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(
        None, min_length=MIN_LENGTH, max_length=MAX_LENGTH, description="bỏ trống: hệ thống tạo mật khẩu tạm"
    )


class OfficerOut(BaseModel):
    id: int
    username: str
    login_name: str = Field(description="tên dùng để đăng nhập: <tên>@<mã tỉnh>")
    full_name: str
    email: str | None
    role: Role
    role_label: str
    unit_id: int
    unit_name: str
    is_active: bool
    is_demo: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


class OfficerCreated(BaseModel):
    officer: OfficerOut
    temporary_password: str | None = Field(description="chỉ hiện một lần, khi hệ thống tạo mật khẩu")


class PasswordResetOut(BaseModel):
    officer: OfficerOut
    temporary_password: str | None


class UnitOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    kind_label: str
    parent_id: int | None


class MeOut(BaseModel):
    id: int
    login_name: str
    full_name: str
    role: Role
    role_label: str
    unit_id: int
    unit_name: str
    tenant_code: str
