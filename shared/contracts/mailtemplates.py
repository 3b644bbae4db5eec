"""The reminders' wording as a tenant's administrator edits it, through notify's API (a
shared.servicetoken for audience "notify"; the tenant is the token's, so another tenant's rows
are never named):
    GET    /api/v1/templates                 → TemplatesOut (both, edited or default)
    PUT    /api/v1/templates/{name}          ← TemplateIn → TemplateOut (role quan_tri; 422 naming the field)
    DELETE /api/v1/templates/{name}          → TemplateOut (the default again)
    POST   /api/v1/templates/{name}/preview  ← TemplateIn → PreviewOut (the draft, not saved)
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

TEMPLATE_LABELS = {"nhac_han": "Thư nhắc hạn (gửi đơn vị)", "qua_han": "Thư báo quá hạn (gửi đơn vị cấp trên)"}


class TemplateIn(BaseModel):
    subject: str = Field(max_length=500)
    body_text: str = Field(max_length=20_000)
    body_html: str = Field(max_length=50_000)


class TemplateOut(TemplateIn):
    name: str
    label: str
    is_default: bool
    updated_at: dt.datetime | None = None


class TemplatesOut(BaseModel):
    items: list[TemplateOut]
    variables: dict[str, list[str]]  # per template, the names its context offers


class PreviewOut(BaseModel):
    subject: str
    body_text: str
    body_html: str
    sample: bool  # True: the fixed sample; False: the tenant's nearest deadline and a unit owing
    source: str  # in Vietnamese, what the preview was rendered with
